# Reference for survkit::gformula with a Breslow fit (tests/gformula_golden.rs
# hard-codes these numbers): riskRegression 2022.11.28 ate(GFORMULA) on
# coxph(ties = "breslow"), lung_weighted.csv complete cases, R 4.2.2,
# survival 3.5-3.   cd crates/survkit/tests/data/obs && Rscript gen/gformula_breslow.R
suppressMessages({library(survival); library(riskRegression)})
d <- read.csv("lung_weighted.csv")
d <- d[complete.cases(d[,c("time","status","sex","age","ph.ecog")]),]
d$sex <- factor(d$sex); d$.event <- as.numeric(d$status==2)
fit <- coxph(Surv(time, .event) ~ sex + age + ph.ecog, data=d, ties="breslow", x=TRUE, y=TRUE)
a <- ate(fit, data=d, treatment="sex", times=c(180,365,730), estimator="GFORMULA", verbose=FALSE)
print(as.data.frame(a$meanRisk)[,c("time","treatment","estimate","se")], digits=15)
print(as.data.frame(a$diffRisk)[,c("time","estimate","se","p.value")], digits=15)
