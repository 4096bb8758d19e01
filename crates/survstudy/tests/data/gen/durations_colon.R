# A durations export of R survival's `colon` (tests/analysis_durations.rs):
# no dates, OS as days + 0/1 status, RFS as months (days / 30.4375) + a
# yes/no recurrence flag, with its R reference. The plan reports OS in years
# (days / 365.25) and RFS in months; landmarks 12, 36, 60 months (study
# unit) are 1, 3, 5 years on OS. Run from crates/survstudy/tests/data:
#   Rscript gen/durations_colon.R
library(survival)
library(jsonlite)
os <- subset(colon, etype == 2)
rf <- subset(colon, etype == 1)
stopifnot(all(os$id == rf$id))
ex <- data.frame(
  patient = os$id, arm = as.character(os$rx),
  sex = ifelse(os$sex == 1, "male", "female"), age = os$age,
  os_days = os$time, os_status = os$status,
  rfs_months = sprintf("%.17g", rf$time / 30.4375),
  recurred = ifelse(rf$status == 1, "yes", "no")
)
write.csv(ex, "durations/colon_durations.csv", row.names = FALSE, quote = FALSE)
one <- function(t, d, rx, times) {
  f <- survfit(Surv(t, d) ~ rx)
  tb <- summary(f)$table
  s <- summary(f, times = times, extend = TRUE)
  c0 <- coxph(Surv(t, d) ~ rx, ties = "efron")
  cs <- summary(c0)
  fo <- survfit(Surv(t, d) ~ 1)
  list(
    n = unname(tb[, "records"]), events = unname(tb[, "events"]),
    median = unname(tb[, "median"]), lower = unname(tb[, "0.95LCL"]),
    upper = unname(tb[, "0.95UCL"]),
    overall_median = unname(summary(fo)$table["median"]),
    at_times = times, at_surv = s$surv, at_strata = as.character(s$strata),
    cox_terms = rownames(cs$coefficients), hr = unname(cs$coefficients[, 2]),
    hr_p = unname(cs$coefficients[, 5])
  )
}
rx <- factor(os$rx, levels = c("Obs", "Lev", "Lev+5FU"))
out <- list(
  os_years = one(os$time / 365.25, os$status, rx, c(1, 3, 5)),
  rfs_months = one(rf$time / 30.4375, rf$status, rx, c(12, 36, 60))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "durations/reference.json")
