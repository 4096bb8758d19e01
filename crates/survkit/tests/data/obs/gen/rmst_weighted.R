# Reference for `survstudy rmst` with --weights / --start / --id: RMST of
# weighted and delayed-entry Kaplan-Meier curves, R survival 3.5-3.
#   cd crates/survkit/tests/data/obs && Rscript gen/rmst_weighted.R > rmst_weighted.json
# Per arm: summary(survfit(Surv(...) ~ arm, weights =, id =, robust =),
# rmean = tau)$table[, c("rmean", "se(rmean)")] (survival's survmean).
# Contrasts as survRM2::rmst2 combines the arms (difference sqrt(V1 + V0);
# ratios on the log scale), computed here from R's per-arm numbers.
# lung_weighted.csv / heart.csv are the oracle's data/public files (w: uniform
# weights, fw: integer frequency weights, w0: w with zeros; heart = survival::heart).
suppressMessages({library(survival); library(jsonlite)})
lung <- read.csv("lung_weighted.csv")
heart <- read.csv("heart.csv")
z <- qnorm(0.975)
contr <- function(r1, r0, v1, v0) {
  d <- r1 - r0; se <- sqrt(v1 + v0)
  lr <- log(r1) - log(r0); sl <- sqrt(v1 / r1^2 + v0 / r0^2)
  list(difference = list(estimate = d, se = se, lower = d - z * se, upper = d + z * se,
                         p = 2 * pnorm(-abs(d / se))),
       ratio = list(estimate = exp(lr), se = sl, lower = exp(lr - z * sl), upper = exp(lr + z * sl),
                    p = 2 * pnorm(-abs(lr / sl))))
}
one <- function(id, fit, tau, cli, call) {
  tab <- summary(fit, rmean = tau)$table
  rm <- unname(tab[, "rmean"]); se <- unname(tab[, "se(rmean)"])
  c(list(id = id, call = call, cli = cli, tau = tau, levels = sub(".*=", "", rownames(tab)),
         rmean = rm, se = se, lower = rm - z * se, upper = rm + z * se,
         n = unname(tab[, "records"]), n_max = unname(tab[, "n.max"]), events = unname(tab[, "events"])),
    contr(rm[2], rm[1], se[2]^2, se[1]^2))
}
lcli <- function(...) c("rmst", "--data", "lung_weighted.csv", "--time", "time", "--event", "status=2",
                        "--group", "sex", ...)
cases <- list()
for (tau in c(365, 730)) {
  f <- survfit(Surv(time, status == 2) ~ sex, data = lung, weights = w)
  cases[[length(cases) + 1]] <- one(paste0("lung:w:", tau), f, tau,
    lcli("--weights", "w", "--tau", tau), "survfit(Surv(time, status == 2) ~ sex, data = lung, weights = w) (robust by default: non-integer weights)")
}
f <- survfit(Surv(time, status == 2) ~ sex, data = lung, weights = w, robust = FALSE)
cases[[length(cases) + 1]] <- one("lung:w:365:nonrobust", f, 365, lcli("--weights", "w", "--tau", 365),
  "survfit(..., weights = w, robust = FALSE): same rmean and se(rmean) as the robust fit")
f <- survfit(Surv(time, status == 2) ~ sex, data = lung, weights = fw)
cases[[length(cases) + 1]] <- one("lung:fw:500", f, 500, lcli("--weights", "fw", "--tau", 500),
  "survfit(Surv(time, status == 2) ~ sex, data = lung, weights = fw)")
f <- survfit(Surv(time, status == 2) ~ sex, data = lung, weights = w0)
cases[[length(cases) + 1]] <- one("lung:w0:730", f, 730, lcli("--weights", "w0", "--tau", 730),
  "survfit(Surv(time, status == 2) ~ sex, data = lung, weights = w0) (zero weights: rows kept with zero counts)")
f <- survfit(Surv(start, stop, event) ~ surgery, data = heart, id = id)
cases[[length(cases) + 1]] <- one("heart:start:id:365", f, 365,
  c("rmst", "--data", "heart.csv", "--time", "stop", "--event", "event", "--group", "surgery",
    "--start", "start", "--id", "id", "--tau", 365),
  "survfit(Surv(start, stop, event) ~ surgery, data = heart, id = id) (delayed entry, multi-row ids)")
f <- survfit(Surv(start, stop, event) ~ surgery, data = heart)
cases[[length(cases) + 1]] <- one("heart:start:200", f, 200,
  c("rmst", "--data", "heart.csv", "--time", "stop", "--event", "event", "--group", "surgery",
    "--start", "start", "--tau", 200),
  "survfit(Surv(start, stop, event) ~ surgery, data = heart) (rows as independent delayed entries)")
out <- list(meta = list(R_version = R.version.string, survival_version = as.character(packageVersion("survival")),
  generator = "gen/rmst_weighted.R",
  note = "rmean/se per arm (levels sorted) from summary(survfit, rmean = tau)$table; contrasts arm 2 vs arm 1 from them"),
  cases = cases)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
