# Reference for tests/pipeline_partial_dates.rs: the colon export
# (colon_export.csv) with partial dates planted as that test does (every
# 10th dead patient's death and last follow-up dates as YYYY-MM, every 25th
# living patient's last follow-up as YYYY), imputed by the "first" (1st of
# the month, 1 January) and "middle" (15th of the month, 1 July) rules;
# OS from randomisation, survfit median and coxph(~ rx) HRs.
# Run from crates/survstudy/tests/data:  Rscript gen/partial_dates_colon.R
library(survival)
library(jsonlite)
d <- read.csv("colon_export.csv", colClasses = "character")
i <- seq_len(nrow(d))
dead <- tolower(d$vital_status) == "dead"
pm <- dead & i %% 10 == 0
py <- !dead & i %% 25 == 0
one <- function(rule) {
  imp <- function(x, month_only) {
    if (month_only) paste0(substr(x, 1, 7), if (rule == "first") "-01" else "-15")
    else paste0(substr(x, 1, 4), if (rule == "first") "-01-01" else "-07-01")
  }
  death <- d$dt_death; fu <- d$last_fu_dt
  death[pm] <- imp(death[pm], TRUE)
  fu[pm] <- imp(fu[pm], TRUE)
  fu[py] <- imp(fu[py], FALSE)
  st <- tolower(d$vital_status) == "dead"
  end <- as.Date(ifelse(st, death, fu), format = "%Y-%m-%d")
  t <- as.numeric(end - as.Date(d$rand_dt))
  rx <- factor(d$trt_arm, levels = c("Obs", "Lev", "Lev+5FU"))
  f <- survfit(Surv(t, st) ~ 1)
  cx <- coxph(Surv(t, st) ~ rx, ties = "efron")
  list(n_death = sum(pm), n_last_fu = sum(pm) + sum(py), events = sum(st),
       median = unname(summary(f)$table["median"]),
       hr = unname(exp(coef(cx))))
}
out <- list(first = one("first"), middle = one("middle"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "colon/partial_dates.json")
