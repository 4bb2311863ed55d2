## Explicit threshold syntax in ordinal CFA (lavaan 0.6-14, WLSMV, delta and theta
## parameterization): labelled thresholds made equal across items, fixed thresholds,
## '==' between threshold labels. References for psychometrics.sem.fit(model, data,
## ordered=...) -> tests/data/r_results/ordinal/ordinal_thresholds.json.
## Run from the repository root:  Rscript tests/data/r_scripts/ordinal/ordinal_thresholds.R
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
d <- bfi[, paste0("A", 1:5)]
d$A1 <- 7 - d$A1          # A1 reversed (as ordinal_wlsmv.R)
vars <- paste0("A", 1:5)
base <- "agree =~ A1 + A2 + A3 + A4 + A5"
models <- list(
  th_equal_labels = paste(base,
    "A2 | a1*t1 + a2*t2 + a3*t3 + a4*t4 + a5*t5",
    "A3 | a1*t1 + a2*t2 + a3*t3 + a4*t4 + a5*t5", sep = "\n"),
  th_fixed = paste(base, "A1 | -1.5*t1 + t2", "A2 | 0*t3", sep = "\n"),
  th_constraint = paste(base, "A4 | b1*t1 + b2*t2", "A5 | c1*t1 + c2*t2",
                        "b1 == c1", "b2 == c2", sep = "\n"),
  th_partial_labels = paste(base, "A2 | t1 + t2 + t3", "A1 | t1 + a2*t2", "A4 | t1 + a2*t2",
                            sep = "\n"))
prm <- list(th_equal_labels = "delta", th_fixed = "delta", th_constraint = "delta",
            th_partial_labels = "delta", th_equal_labels_theta = "theta")
models$th_equal_labels_theta <- models$th_equal_labels
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
out <- list(lavaan = as.character(packageVersion("lavaan")),
            data_note = "bfi A1..A5, A1 reversed as 7 - x; listwise deletion over A1..A5")
for (nm in names(models)) {
  fit <- cfa(models[[nm]], data = d, ordered = vars, parameterization = prm[[nm]])
  fitD <- cfa(models[[nm]], data = d, ordered = vars, parameterization = prm[[nm]],
              estimator = "DWLS")
  out[[nm]] <- list(
    call = sprintf("cfa(model, data = d, ordered = vars, parameterization = '%s')", prm[[nm]]),
    model = models[[nm]], vars = vars, parameterization = prm[[nm]],
    nobs = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
    parameterEstimates = df_rows(parameterEstimates(fit)),
    standardizedSolution = df_rows(standardizedSolution(fit)),
    fitMeasures = as.list(fitMeasures(fit)),
    dwls = list(call = "cfa(model, data = d, ordered = vars, estimator = 'DWLS')",
                parameterEstimates = df_rows(parameterEstimates(fitD)),
                fitMeasures = as.list(fitMeasures(fitD))))
  cat(nm, "chisq", fitMeasures(fit, "chisq"), "df", fitMeasures(fit, "df"), "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null"),
           "tests/data/r_results/ordinal/ordinal_thresholds.json")
