# Reference for the stratified univariable Cox model and stratified
# log-rank test of a grouping (tests/analysis_interactions.rs): the colon
# plan's rx grouping with cox_strata = ["sex", "age65"] (a column and a
# grouping: age >= 65), i.e.
#   coxph(Surv(time, status) ~ rx + strata(sex, age65), ties = "efron")
#   survdiff(Surv(time, status) ~ rx + strata(sex, age65))
# and the cox.zph of that fit. Run from crates/survstudy/tests/data:
#   Rscript gen/univariable_strata_colon.R
library(survival)
library(jsonlite)
d <- subset(colon, etype == 2)
d$rx <- factor(d$rx, levels = c("Obs", "Lev", "Lev+5FU"))
d$age65 <- d$age >= 65
f <- coxph(Surv(time, status) ~ rx + strata(sex, age65), data = d, ties = "efron")
s <- summary(f)
lr <- survdiff(Surv(time, status) ~ rx + strata(sex, age65), data = d)
z <- cox.zph(f)
out <- list(
  n = f$n, events = f$nevent, terms = rownames(s$coefficients),
  coef = unname(s$coefficients[, 1]), se = unname(s$coefficients[, 3]),
  hr = unname(s$coefficients[, 2]), p = unname(s$coefficients[, 5]),
  lr_test = unname(s$logtest[1]),
  logrank_chisq = lr$chisq, logrank_df = length(lr$n) - 1,
  logrank_p = pchisq(lr$chisq, 2, lower.tail = FALSE),
  zph_chisq = unname(z$table[1, 1]), zph_p = unname(z$table[1, 3])
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "colon/univariable_strata.json")
