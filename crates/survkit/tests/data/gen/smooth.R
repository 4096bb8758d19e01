# Reference numbers for survkit::smooth: the curve R's plot.cox.zph draws
# (regression of each column of cox.zph()$y on ns(x, df = 4, intercept = TRUE),
# fitted at nsmo = 40 points spanning range(x), with the +-2 SE band).
# Run from the repository root:  Rscript crates/survkit/tests/data/gen/smooth.R
# Writes crates/survkit/tests/data/<ds>/smooth.json (R >= 4.2, survival 3.5).
suppressPackageStartupMessages(library(survival))

num <- function(v) {
    s <- ifelse(is.na(v), "null", sprintf("%.17g", v))
    paste0("[", paste(s, collapse = ","), "]")
}
str <- function(v) paste0("[", paste0('"', v, '"', collapse = ","), "]")

models <- list(
    lung = list(
        list(formula = "Surv(time, status == 2) ~ age + factor(sex) + ph.karno", transform = "km"),
        list(formula = "Surv(time, status == 2) ~ age + factor(sex) + ph.karno", transform = "identity"),
        list(formula = "Surv(time, status == 2) ~ age + sex + factor(ph.ecog)", transform = "km"),
        list(formula = "Surv(time, status == 2) ~ age + ph.ecog + strata(sex)", transform = "rank")
    ),
    veteran = list(
        list(formula = "Surv(time, status == 1) ~ factor(trt) + karno + age", transform = "km"),
        list(formula = "Surv(time, status == 1) ~ factor(trt) + karno + age", transform = "log")
    )
)

# survival 3.5's plot.cox.zph has no plot = FALSE: record the three lines()
# it draws (fit, upper, lower) on a null device.
pdf(NULL)
drawn <- list()
trace("lines.default", where = asNamespace("graphics"), print = FALSE,
      tracer = quote(drawn[[length(drawn) + 1]] <<- list(x = xy.coords(x, y)$x, y = xy.coords(x, y)$y)))

for (ds in names(models)) {
    d <- read.csv(file.path("crates/survkit/tests/data", ds, paste0(ds, ".csv")))
    out <- character()
    for (m in models[[ds]]) {
        fit <- coxph(as.formula(m$formula), data = d, ties = "efron")
        z <- cox.zph(fit, transform = m$transform)
        terms <- colnames(z$y)
        curves <- character()
        for (i in seq_along(terms)) {
            drawn <<- list()
            plot(z, var = i, df = 4, nsmo = 40, se = TRUE, resid = FALSE)
            x <- drawn[[1]]$x
            if (m$transform == "log") x <- log(x)   # plot.cox.zph draws exp(x) on a log axis
            curves <- c(curves, sprintf(
                '{"term": "%s", "x": %s, "fit": %s, "upper": %s, "lower": %s}',
                terms[i], num(x), num(drawn[[1]]$y), num(drawn[[2]]$y), num(drawn[[3]]$y)))
        }
        out <- c(out, sprintf(
            '{"formula": "%s", "ties": "efron", "transform": "%s", "terms": %s, "coef": %s, "zph_x": %s, "zph_var_diag": %s,\n "curves": [\n  %s]}',
            m$formula, m$transform, str(terms), num(coef(fit)), num(z$x), num(diag(z$var)),
            paste(curves, collapse = ",\n  ")))
    }
    writeLines(c(sprintf('{"survival_version": "%s", "R_version": "%s", "df": 4, "nsmo": 40,\n"models": [',
                         packageVersion("survival"), R.version.string),
                 paste(out, collapse = ",\n"), "]}"),
               file.path("crates/survkit/tests/data", ds, "smooth.json"))
}
