# Reference for the multivariable Cox model with interaction terms of the
# colon plan (tests/analysis_interactions.rs): cox_covariates = age, sex,
# nodes, rx and cox_interactions = [["rx", "sex"], ["age", "sex"]], i.e.
#   coxph(Surv(time, status) ~ age + sex + nodes + rx + sex:rx + age:sex)
# (R orders an interaction's variables as they first appear in the
# formula: sexmale:rxLev, age:sexmale), and the likelihood-ratio test of
# each interaction against the model without it (anova). Run from
# crates/survstudy/tests/data:  Rscript gen/interactions_colon.R
library(survival)
library(jsonlite)
d <- subset(colon, etype == 2)
d$sex <- factor(d$sex, levels = c(0, 1), labels = c("female", "male"))
d$rx <- factor(d$rx, levels = c("Obs", "Lev", "Lev+5FU"))
d <- d[complete.cases(d[, c("time", "status", "age", "sex", "nodes", "rx")]), ]
full <- coxph(Surv(time, status) ~ age + sex + nodes + rx + sex:rx + age:sex, data = d, ties = "efron")
no_rxsex <- coxph(Surv(time, status) ~ age + sex + nodes + rx + age:sex, data = d, ties = "efron")
no_agesex <- coxph(Surv(time, status) ~ age + sex + nodes + rx + sex:rx, data = d, ties = "efron")
lr <- function(a) list(chisq = a$Chisq[2], df = a$Df[2], p = a[["Pr(>|Chi|)"]][2])
s <- summary(full)
z <- cox.zph(full)
out <- list(
  n = full$n, events = full$nevent, terms = rownames(s$coefficients),
  coef = unname(s$coefficients[, 1]), se = unname(s$coefficients[, 3]),
  p = unname(s$coefficients[, 5]), loglik = full$loglik,
  lr_rx_sex = lr(anova(no_rxsex, full)), lr_age_sex = lr(anova(no_agesex, full)),
  zph_terms = rownames(z$table), zph_chisq = unname(z$table[, 1]), zph_df = unname(z$table[, 2])
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "colon/interactions.json")
