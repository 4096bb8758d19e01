# Reference for the subgroup analysis of tests/data/colon_export.csv
# (R survival's colon, etype == 2): the HR of rx within each sex and each
# age group (age >= 65), and the interaction LR tests
#   anova(coxph(Surv(time, status) ~ rx + S), coxph(Surv(time, status) ~ rx * S))
# Run from crates/survstudy/tests/data:  Rscript gen/subgroups_colon.R
library(survival)
library(jsonlite)
d <- subset(colon, etype == 2)
d$sexf <- factor(ifelse(d$sex == 1, "male", "female"), levels = c("female", "male"))
d$age65 <- factor(ifelse(d$age >= 65, "65 or older", "under 65"), levels = c("under 65", "65 or older"))
within <- function(sub) {
  f <- coxph(Surv(time, status) ~ rx, data = d, subset = sub, ties = "efron")
  s <- summary(f)
  list(n = f$n, events = f$nevent, terms = rownames(s$coefficients),
       hr = unname(s$conf.int[, 1]), lower = unname(s$conf.int[, 3]),
       upper = unname(s$conf.int[, 4]), p = unname(s$coefficients[, 5]))
}
inter <- function(var) {
  f0 <- coxph(as.formula(paste("Surv(time, status) ~ rx +", var)), data = d)
  f1 <- coxph(as.formula(paste("Surv(time, status) ~ rx *", var)), data = d)
  a <- anova(f0, f1)
  list(chisq = a$Chisq[2], df = a$Df[2], p = a$`Pr(>|Chi|)`[2])
}
out <- list(
  call = "coxph(Surv(time, status) ~ rx, subset = S == s); anova(coxph(~ rx + S), coxph(~ rx * S))",
  overall = within(rep(TRUE, nrow(d))),
  sex = list(levels = levels(d$sexf),
             within = lapply(levels(d$sexf), function(l) within(d$sexf == l)),
             interaction = inter("sexf")),
  age65 = list(levels = levels(d$age65),
               within = lapply(levels(d$age65), function(l) within(d$age65 == l)),
               interaction = inter("age65"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "colon/subgroups.json")
