# Reference: unidimensional graded response model (logistic, slope-intercept) fitted by
# OpenMx's full-information Bock-Aitkin EM (mxExpectationBA81 with rpf.grm items) on psych's
# bfi neuroticism items N1-N5 (6 categories).
#   case "complete": rows with all five items answered
#   case "missing":  every row with at least one answer (missing responses in the likelihood)
# Quadrature: OpenMx's default equally spaced grid, qpoints = 49 on [-6, 6] (qwidth = 6),
# weights = standard normal density normalised to sum 1.
# SEs: observed information by Oakes (1999) (exact for the marginal log-likelihood).
# Run from the repository root:  Rscript tests/data/r_scripts/irt/grm_bfi.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
bfi <- read.csv("tests/data/datasets/bfi.csv")
items <- c("N1", "N2", "N3", "N4", "N5")

fit_grm <- function(raw) {
  dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 1:6)))
  spec <- lapply(items, function(i) rpf.grm(outcomes = 6))
  start <- sapply(items, function(i) c(1, 2, 1, 0, -1, -2))
  rownames(start) <- c("a", paste0("c", 1:5))
  imat <- mxMatrix(name = "item", values = start, free = TRUE,
                   dimnames = list(rownames(start), items))
  m <- mxModel("grm", imat, mxData(dat, type = "raw"),
               mxExpectationBA81(spec, qpoints = 49, qwidth = 6),
               mxFitFunctionML(),
               mxComputeSequence(list(
                 mxComputeEM("expectation", "scores", mxComputeNewtonRaphson(),
                             tolerance = 1e-12, maxIter = 5000L,
                             information = "oakes1999",
                             infoArgs = list(fitfunction = "fitfunction")),
                 mxComputeHessianQuality(),
                 mxComputeStandardError(),
                 mxComputeOnce("fitfunction", "gradient"),
                 mxComputeReportDeriv())))
  fit <- mxRun(m, silent = TRUE)
  est <- fit$item$values
  se <- matrix(fit$output$standardErrors, nrow = nrow(est))
  list(n_obs = nrow(raw),
       items = items,
       a = unname(est[1, ]), c = unname(t(est[-1, ])),       # c[item, k], P(X >= k+1) = plogis(a th + c_k)
       se_a = unname(se[1, ]), se_c = unname(t(se[-1, ])),
       logLik = -fit$output$minimum / 2,                      # fit$output$minimum = -2 logLik
       gradient_max_abs = max(abs(fit$output$gradient)),
       n_par = length(fit$output$estimate),
       status = fit$output$status$code)
}

nmiss <- rowSums(is.na(bfi[, items]))
res <- list(
  complete = fit_grm(bfi[nmiss == 0, items]),
  missing = fit_grm(bfi[nmiss < length(items), items]),
  n_rows_all_missing = sum(nmiss == length(items)),
  versions = list(R = R.version.string, OpenMx = as.character(packageVersion("OpenMx")),
                  rpf = as.character(packageVersion("rpf"))),
  settings = list(qpoints = 49, qwidth = 6, em_tolerance = 1e-12, information = "oakes1999"))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/grm_bfi.json")
