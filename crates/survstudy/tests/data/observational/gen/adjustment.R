# Reference for the plan's [adjustment] and [[time_dependent]] analyses on
# the demo cohort (survstudy's built-in plan).
#   Rscript gen/adjustment.R demo_adjust.csv adjustment_demo.json
# demo_adjust.csv: one row per patient of the embedded demo cohort, with
# the OS / PFS times (months from progression) and events that `survstudy
# run` derives, and next_line_time = months from progression to the start
# of the next line (NA: none); nlp_time / nlp_status = the built-in
# competing-risks analysis NLP (1 progression on the next line, 2 death
# first, 0 censored). R 4.2.2, survival 3.5-3, cmprsk 2.2-11,
# riskRegression 2022.11.28, jsonlite.
suppressMessages({library(survival); library(jsonlite); library(cmprsk); library(riskRegression)})
a <- commandArgs(TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
yn <- c("high_risk_cytogenetics", "prior_bcma", "penta_refractory", "bridging_therapy")
for (v in yn) d[[v]] <- factor(d[[v]], levels = c("no", "yes"))
d$sex <- factor(d$sex, levels = sort(unique(d$sex)))
d$cart_product <- factor(d$cart_product, levels = c("ide-cel", "cilta-cel"))
d$emd <- as.integer(d$emd_at_infusion == "yes")
f <- emd ~ age_at_infusion + sex + cart_product + high_risk_cytogenetics + prior_lines +
  prior_bcma + penta_refractory + bridging_therapy + ecog
ps_fit <- glm(f, family = binomial, data = d)
e <- fitted(ps_fit)
p <- mean(d$emd)
# WeightIt: weightit(f, estimand = "ATE", stabilize = TRUE) gives these
w <- ifelse(d$emd == 1, p / e, (1 - p) / (1 - e))
d$w <- w
ess <- function(x) sum(x)^2 / sum(x^2)
arm <- function(k) list(n = sum(d$emd == k), sum = sum(w[d$emd == k]), min = min(w[d$emd == k]),
  max = max(w[d$emd == k]), ess = ess(w[d$emd == k]))
# cobalt bal.tab(s.d.denom = "pooled", binary = "std", continuous = "std"):
# pooled SD of the unweighted groups
smd <- function(x) {
  i1 <- d$emd == 1; i0 <- !i1
  s <- sqrt((var(x[i1]) + var(x[i0])) / 2)
  c(before = (mean(x[i1]) - mean(x[i0])) / s,
    after = (weighted.mean(x[i1], w[i1]) - weighted.mean(x[i0], w[i0])) / s)
}
bal <- list()
for (v in c("age_at_infusion", "prior_lines", "ecog")) bal[[v]] <- as.list(smd(d[[v]]))
for (v in c("sex", "cart_product", yn)) for (l in levels(d[[v]]))
  bal[[paste0(v, l)]] <- as.list(smd(as.numeric(d[[v]] == l)))
times <- c(6, 12, 24)
eps <- list()
for (ep in c("os", "pfs")) {
  d$t <- d[[paste0(ep, "_time")]]; d$ev <- d[[paste0(ep, "_event")]]
  km <- survfit(Surv(t, ev) ~ emd, data = d, weights = w, robust = TRUE)
  s <- summary(km, times = times, extend = TRUE)
  cx <- coxph(Surv(t, ev) ~ emd, data = d, weights = w, robust = TRUE)
  fit <- coxph(update(f, Surv(t, ev) ~ emd + .), data = d, ties = "efron")
  g <- sapply(0:1, function(k) {
    nd <- d; nd$emd <- k
    rowMeans(summary(survfit(fit, newdata = nd), times = times, extend = TRUE)$surv)
  })
  # riskRegression's influence-function SEs for the same g-formula (ate
  # needs the treatment as a factor and the fit with x = TRUE, y = TRUE)
  d$emdf <- factor(d$emd)
  fitf <- coxph(update(f, Surv(t, ev) ~ emdf + . - emd), data = d, ties = "efron", x = TRUE, y = TRUE)
  at <- ate(fitf, data = d, treatment = "emdf", times = times, estimator = "GFORMULA", verbose = FALSE)
  mr <- as.data.frame(at$meanRisk); dr <- as.data.frame(at$diffRisk)
  m0 <- mr[mr$treatment == "0", ]; m1 <- mr[mr$treatment == "1", ]
  ate_g <- list(surv0 = 1 - m0$estimate, se0 = m0$se, lower0 = 1 - m0$upper, upper0 = 1 - m0$lower,
    surv1 = 1 - m1$estimate, se1 = m1$se, lower1 = 1 - m1$upper, upper1 = 1 - m1$lower,
    diff = -dr$estimate, diff_se = dr$se, diff_lower = -dr$upper, diff_upper = -dr$lower,
    diff_p = dr$p.value)
  # time-dependent next-line therapy, as tmerge splits it
  base <- d[, c("id", "t", "ev", "next_line_time")]
  td <- tmerge(base[, c("id", "t")], base, id = id, death = event(t, ev))
  td <- tmerge(td, base, id = id, nextline = tdc(next_line_time))
  tdfit <- coxph(Surv(tstart, tstop, death) ~ nextline, data = td, ties = "efron")
  eps[[toupper(ep)]] <- list(
    km = list(strata = names(km$strata), surv = s$surv, std_err = s$std.err,
      lower = s$lower, upper = s$upper, n_risk = s$n.risk, time = s$time,
      median = unname(summary(km)$table[, "median"])),
    cox = list(coef = unname(coef(cx)), robust_se = unname(sqrt(diag(cx$var))),
      naive_se = unname(sqrt(diag(cx$naive.var))), p = unname(summary(cx)$coefficients[, "Pr(>|z|)"]),
      rscore = c(cx$rscore), rscore_p = unname(summary(cx)$robscore["pvalue"]),
      hr_lower = unname(summary(cx)$conf.int[, "lower .95"]),
      hr_upper = unname(summary(cx)$conf.int[, "upper .95"])),
    gformula = list(exposure_coef = unname(coef(fit)["emd"]), surv0 = unname(g[, 1]), surv1 = unname(g[, 2])),
    gformula_ate = ate_g,
    timedep = list(n_rows = nrow(td), n_split = sum(table(td$id) > 1),
      n_exposed_rows = sum(td$nextline == 1),
      coef = unname(coef(tdfit)), se = unname(sqrt(diag(tdfit$var))),
      p = unname(summary(tdfit)$coefficients[, "Pr(>|z|)"]),
      tstart = td$tstart, tstop = td$tstop, death = td$death, nextline = td$nextline,
      id = td$id)
  )
}
fg <- lapply(1:2, function(k) {
  m <- crr(d$nlp_time, d$nlp_status, cov1 = cbind(emd_at_infusionyes = d$emd),
    failcode = k, cencode = 0)
  list(coef = unname(m$coef), se = unname(sqrt(diag(m$var))),
    p = unname(2 * pnorm(-abs(m$coef / sqrt(diag(m$var))))))
})
res <- list(
  fine_gray = fg,
  r_version = R.version.string, survival = as.character(packageVersion("survival")),
  ps = list(term = names(coef(ps_fit)), coef = unname(coef(ps_fit)),
    se = unname(summary(ps_fit)$coefficients[, 2]), deviance = ps_fit$deviance, aic = ps_fit$aic),
  ps_score = unname(e), p = p,
  weights = list(no = arm(0), yes = arm(1)),
  balance = bal, endpoints = eps)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), a[2])
