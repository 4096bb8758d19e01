# Reference for the stratified multivariable Cox model of the colon plan
# with strata = ["rx"] on OS (tests/analysis_subgroups.rs):
#   coxph(Surv(time, status) ~ age + sex + nodes + strata(rx), ties = "efron")
# and its cox.zph. Run from crates/survstudy/tests/data:
#   Rscript gen/strata_colon.R
library(survival)
library(jsonlite)
d <- subset(colon, etype == 2)
f <- coxph(Surv(time, status) ~ age + sex + nodes + strata(rx), data = d, ties = "efron")
s <- summary(f)
z <- cox.zph(f)
out <- list(
  call = "coxph(Surv(time, status) ~ age + sex + nodes + strata(rx), data = subset(colon, etype == 2))",
  n = f$n, events = f$nevent, terms = rownames(s$coefficients),
  coef = unname(s$coefficients[, 1]), se = unname(s$coefficients[, 3]),
  p = unname(s$coefficients[, 5]), loglik = f$loglik,
  zph_chisq = unname(z$table[, 1]), zph_p = unname(z$table[, 3]), zph_terms = rownames(z$table)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "colon/strata.json")
