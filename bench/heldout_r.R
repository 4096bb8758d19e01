# Held-out check of a `survstudy run` at scale against an independent R
# derivation: OS and PFS derived here from the raw dates of the export (as
# the built-in plan defines them: start = progression_date; OS event =
# death_date; PFS event = the earliest of next_line_progression_date and
# death_date; censored at last_followup_date; months = days / 30.4375),
# then for every (endpoint, grouping) of the plan except the landmark
# next_line_category: KM median per group (survfit), log-rank chi-square
# (survdiff) and univariable Cox coefficients, standard errors, LR / Wald /
# score chi-squares and concordance (coxph, Efron), compared with results.json.
#   Rscript bench/heldout_r.R EXPORT.csv RUN_DIR/results.json
# Prints each comparison and the largest relative differences; exits 1 if
# one exceeds 1e-6 (counts must match exactly).
suppressMessages({library(survival); library(data.table); library(jsonlite)})
args <- commandArgs(TRUE)
d <- fread(args[1], na.strings = "", colClasses = "character")
res <- fromJSON(args[2], simplifyVector = FALSE)
day <- function(x) as.numeric(as.IDate(x))
start <- day(d$progression_date); death <- day(d$death_date)
lfu <- day(d$last_followup_date); nlp <- day(d$next_line_progression_date)
ep <- list()
ep$OS <- data.frame(time = (ifelse(is.na(death), lfu, death) - start) / 30.4375,
                    event = as.integer(!is.na(death)))
pfs_date <- pmin(nlp, death, na.rm = TRUE)
ep$PFS <- data.frame(time = (ifelse(is.na(pfs_date), lfu, pfs_date) - start) / 30.4375,
                     event = as.integer(!is.na(pfs_date)))
yes <- function(v) tolower(trimws(v)) == "yes"
g <- list(
  emd_at_infusion = factor(ifelse(yes(d$emd_at_infusion), "yes", "no"), c("no", "yes")),
  pmd_at_infusion = factor(ifelse(yes(d$pmd_at_infusion), "yes", "no"), c("no", "yes")),
  prog_emd = factor(ifelse(yes(d$prog_emd), "yes", "no"), c("no", "yes")),
  prog_pmd = factor(ifelse(yes(d$prog_pmd), "yes", "no"), c("no", "yes")),
  prog_emd_or_pmd = factor(ifelse(yes(d$prog_emd) | yes(d$prog_pmd), "yes", "no"), c("no", "yes")),
  emd_baseline_x_progression = factor(
    ifelse(yes(d$emd_at_infusion), ifelse(yes(d$prog_emd), "both", "baseline only"),
           ifelse(yes(d$prog_emd), "progression only", "neither")),
    c("both", "baseline only", "progression only", "neither")),
  prog_biochemical = factor(ifelse(yes(d$prog_biochemical), "yes", "no"), c("no", "yes")),
  cart_product = factor(trimws(d$cart_product), c("ide-cel", "cilta-cel")))
rel <- function(a, b) if (is.null(a) || is.null(b) || !is.finite(a) || !is.finite(b)) {
  if (identical(is.null(a) || !is.finite(a), is.null(b) || !is.finite(b))) 0 else Inf
} else abs(a - b) / max(abs(b), 1e-300)
worst <- list(); counts_ok <- TRUE
note <- function(what, a, b, scale = 0) {
  r <- rel(a, b)
  if (scale > 0 && is.finite(r) && r > 0) r <- abs(a - b) / max(abs(b), scale)
  worst[[what]] <<- r
  if (r > 1e-6) cat(sprintf("  DIFF %s: survstudy %.10g, R %.10g (rel %.2e)\n", what, a, b, r))
}
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
for (s in res$survival) {
  if (!(s$grouping %in% names(g))) next
  e <- ep[[s$endpoint]]; x <- g[[s$grouping]]
  km <- survfit(Surv(e$time, e$event) ~ x)
  tab <- summary(km)$table
  for (grp in s$groups) {
    row <- paste0("x=", grp$label)
    if (grp$n != tab[row, "n.max"] || grp$events != tab[row, "events"]) {
      counts_ok <- FALSE
      cat(sprintf("  COUNT %s %s %s: n %d vs %d, events %d vs %d\n", s$endpoint, s$grouping,
                  grp$label, grp$n, tab[row, "n.max"], grp$events, tab[row, "events"]))
    }
    note(paste(s$endpoint, s$grouping, grp$label, "median"), num(grp$median), tab[row, "median"])
  }
  lr <- survdiff(Surv(e$time, e$event) ~ x)
  note(paste(s$endpoint, s$grouping, "logrank chisq"), num(s$logrank$chisq), lr$chisq)
  # the Cox model's reference level is the one results.json names
  if (length(s$cox$terms)) x <- relevel(x, ref = s$cox$terms[[1]]$reference)
  cx <- coxph(Surv(e$time, e$event) ~ x, ties = "efron")
  for (t in s$cox$terms) {
    nm <- paste0("x", t$level)
    note(paste(s$endpoint, s$grouping, t$level, "cox coef"), num(t$coef), unname(coef(cx)[nm]))
    note(paste(s$endpoint, s$grouping, t$level, "cox se"), num(t$se), unname(sqrt(diag(vcov(cx)))[match(nm, names(coef(cx)))]))
  }
  if (length(s$cox$terms)) {
    # 2 (l - l0) of two log-likelihoods of size |l0| ~ 10^5..10^7 carries
    # their rounding and R's stopping rule (|1 - l_old / l| <= 1e-9): it is
    # compared to 1e-6 relative or to 1e-10 of |l0|, whichever is larger
    note(paste(s$endpoint, s$grouping, "cox LR chisq"), num(s$cox$lr_test$stat), 2 * diff(cx$loglik),
         scale = 1e-4 * abs(cx$loglik[1]))
    note(paste(s$endpoint, s$grouping, "cox Wald chisq"), num(s$cox$wald_test$stat), unname(cx$wald.test))
    note(paste(s$endpoint, s$grouping, "cox score chisq"), num(s$cox$score_test$stat), unname(cx$score))
    note(paste(s$endpoint, s$grouping, "cox concordance"), num(s$cox$concordance), unname(cx$concordance["concordance"]))
  }
}
for (o in res$endpoints) {
  e <- ep[[o$endpoint]]
  tab <- summary(survfit(Surv(e$time, e$event) ~ 1))$table
  if (o$overall$n != tab["n.max"] || o$overall$events != tab["events"]) counts_ok <- FALSE
  note(paste(o$endpoint, "overall median"), num(o$overall$median), tab["median"])
}
w <- unlist(worst)
cat(sprintf("%d comparisons on %d patients; counts %s; largest relative differences:\n",
            length(w), nrow(d), if (counts_ok) "all equal" else "DIFFER"))
print(signif(head(sort(w, decreasing = TRUE), 5), 3))
if (!counts_ok || any(w > 1e-6)) quit(status = 1)
