# Reference for stratified (start, stop] Cox models and their cox.zph, R
# survival 3.5-3, in the case format of heart_counting.json (the oracle's
# gen/obs_common.R cox_case / zph_case fields):
#   cd crates/survkit/tests/data/obs && Rscript gen/counting_strata.R > counting_strata.json
# Data: heart.csv (survival::heart, as the oracle exports it) and cgd.csv,
# written here from survival::cgd (chronic granulomatous disease, recurrent
# infections: several events per id, so R's default is robust = TRUE;
# treat = 1 for rIFN-g, sex = 1 for female, hos.cat as text for the strata).
suppressMessages({library(survival); library(jsonlite)})
heart <- read.csv("heart.csv")
cg <- survival::cgd
cgd <- data.frame(id = cg$id, tstart = cg$tstart, tstop = cg$tstop, status = cg$status,
  treat = as.integer(cg$treat == "rIFN-g"), sex = as.integer(cg$sex == "female"),
  age = cg$age, propylac = cg$propylac, hos.cat = as.character(cg$hos.cat))
write.csv(cgd, "cgd.csv", row.names = FALSE)
cgd <- read.csv("cgd.csv")

terms <- function(fit) {
  s <- summary(fit); cf <- s$coefficients; ci <- s$conf.int
  robust <- !is.null(fit$naive.var)
  se <- sqrt(diag(as.matrix(if (robust) fit$naive.var else fit$var)))
  lapply(seq_len(nrow(cf)), function(i) list(term = rownames(cf)[i], coef = unname(cf[i, "coef"]),
    se = unname(se[i]), robust_se = if (robust) unname(cf[i, "robust se"]) else NULL,
    z = unname(cf[i, "z"]), p = unname(cf[i, "Pr(>|z|)"]), hr = unname(cf[i, "exp(coef)"]),
    hr_lower = unname(ci[i, "lower .95"]), hr_upper = unname(ci[i, "upper .95"])))
}
test <- function(x) list(stat = unname(x[1]), df = unname(x[2]), p = unname(x[3]))
cox_case <- function(id, call, cli, data) {
  fit <- eval(parse(text = call), list(data = data))
  s <- summary(fit); robust <- !is.null(fit$naive.var)
  list(case = list(id = id, kind = "cox", call = call, cli = cli, robust = robust,
    n = fit$n, nevent = fit$nevent, terms = terms(fit),
    loglik_null = fit$loglik[1], loglik = fit$loglik[2],
    lr_test = test(s$logtest), wald_test = list(stat = unname(fit$wald.test), df = unname(s$waldtest["df"]), p = unname(s$waldtest["pvalue"])),
    score_test = test(s$sctest), robust_score_test = if (robust) test(s$robscore) else NULL,
    concordance = unname(fit$concordance["concordance"]), concordance_se = unname(fit$concordance["std"]),
    iterations = fit$iter, var = as.matrix(fit$var), means = unname(fit$means)), fit = fit)
}
zph_case <- function(id, fit, cli, transform) {
  tb <- cox.zph(fit, transform = transform)$table
  list(id = id, kind = "zph", call = sprintf("cox.zph(fit, transform = \"%s\")", transform),
    cli = c(sub("^cox$", "zph", cli), "--transform", transform), transform = transform,
    tests = lapply(seq_len(nrow(tb)), function(i) list(term = rownames(tb)[i],
      chisq = unname(tb[i, "chisq"]), df = unname(tb[i, "df"]), p = unname(tb[i, "p"]))))
}
hcli <- function(...) c("cox", "--data", "heart.csv", "--time", "stop", "--event", "event", "--start", "start",
  "--covariates", "age,year,transplant", "--strata", "surgery", ...)
ccli <- function(...) c("cox", "--data", "cgd.csv", "--time", "tstop", "--event", "status", "--start", "tstart",
  "--covariates", "treat,sex,age,propylac", "--strata", "hos.cat", "--id", "id", ...)
hf <- "coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery), data = data, ties = \"%s\"%s)"
cf <- "coxph(Surv(tstart, tstop, status) ~ treat + sex + age + propylac + strata(hos.cat), data = data, id = id, ties = \"%s\")"
cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
for (ties in c("efron", "breslow")) {
  a <- cox_case(paste0("cox:cp:strata:", ties), sprintf(hf, ties, ""), hcli("--ties", ties), heart)
  add(a$case)
  b <- cox_case(paste0("cox:cp:strata:id:robust:", ties), sprintf(hf, ties, ", id = id, robust = TRUE"),
    hcli("--id", "id", "--robust", "--ties", ties), heart)
  add(b$case)
  cg_ <- cox_case(paste0("cox:cgd:strata:id:", ties), sprintf(cf, ties), ccli("--ties", ties), cgd)
  add(cg_$case)
  if (ties == "efron") {
    for (tr in c("km", "identity")) add(zph_case(paste0("zph:cp:strata:efron:", tr), a$fit, hcli("--ties", ties), tr))
    add(zph_case("zph:cp:strata:id:robust:efron:km", b$fit, hcli("--id", "id", "--robust", "--ties", ties), "km"))
    add(zph_case("zph:cgd:strata:id:efron:km", cg_$fit, ccli("--ties", ties), "km"))
  }
}
out <- list(meta = list(R_version = R.version.string, survival_version = as.character(packageVersion("survival")),
  generator = "gen/counting_strata.R"), cases = cases)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"), "\n")
