# References for the four exactness defects of issue 15 (R 4.2.2, survival 3.5-3).
# Run from this folder:  Rscript gen_defects.R   (writes defects.json, zph_large.csv)
library(survival)
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
vec <- function(x) paste0("[", paste(num(x), collapse = ","), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, vec), collapse = ","), "]")
out <- list()
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.karno", "inst")])
write.csv(lung2, "lung_cc.csv", row.names = FALSE)

# 1. iteration cap reached: R returns the last accepted beta, the variance and
#    loglik recomputed there, iter = cap + 1
for (cap in 1:3) {
  f <- suppressWarnings(coxph(Surv(time, status == 2) ~ age + sex + ph.karno, data = lung2,
                              control = coxph.control(iter.max = cap)))
  out[[length(out) + 1]] <- sprintf(
    '{"id": "cap:%d", "iter_max": %d, "iter": %d, "coef": %s, "var": %s, "loglik": %s}',
    cap, cap, f$iter, vec(coef(f)), mat(f$var), vec(f$loglik))
}

# 2. every stratum a single subject
s1 <- lung2[1:12, ]
s1$id <- seq_len(nrow(s1))
w <- NULL
f <- withCallingHandlers(coxph(Surv(time, status == 2) ~ age + strata(id), data = s1),
                         warning = function(m) { w <<- c(w, conditionMessage(m)); invokeRestart("muffleWarning") })
sf <- summary(f)
out[[length(out) + 1]] <- sprintf(
  '{"id": "singleton_strata", "coef": %s, "se": %s, "loglik": %s, "lr": %s, "wald": %s, "score": %s, "iter": %d, "warnings": [%s]}',
  vec(coef(f)), vec(sqrt(diag(f$var))), vec(f$loglik), vec(sf$logtest), vec(sf$waldtest), vec(sf$sctest),
  f$iter, paste0('"', gsub('"', "'", w), '"', collapse = ","))

# 3. cox.zph identity with a large covariate and long follow-up
set.seed(15)
n <- 400
big <- data.frame(x = round(runif(n, 0, 5000)), z = rbinom(n, 1, 0.5))
big$time <- pmin(round(rexp(n, exp(-8 + big$x / 5000 + 0.3 * big$z)) + 1), 7000)
big$status <- as.integer(big$time < 7000 & runif(n) < 0.8)
write.csv(big, "zph_large.csv", row.names = FALSE)
fz <- coxph(Surv(time, status) ~ x + z, data = big)
zz <- cox.zph(fz, transform = "identity")
out[[length(out) + 1]] <- sprintf('{"id": "zph_large", "coef": %s, "chisq": %s, "df": %s, "p": %s}',
  vec(coef(fz)), vec(zz$table[, 1]), vec(zz$table[, 2]), vec(zz$table[, 3]))

# 4. concordance SE with a cluster
fc <- coxph(Surv(time, status == 2) ~ age + sex + ph.karno + cluster(inst), data = lung2)
fu <- coxph(Surv(time, status == 2) ~ age + sex + ph.karno, data = lung2)
out[[length(out) + 1]] <- sprintf('{"id": "concordance_cluster", "concordance": %s, "se": %s, "se_unclustered": %s}',
  num(fc$concordance["concordance"]), num(fc$concordance["std"]), num(fu$concordance["std"]))

writeLines(c("[", paste(out, collapse = ",\n"), "]"), "defects.json")
