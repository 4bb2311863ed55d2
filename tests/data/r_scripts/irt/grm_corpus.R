# Reference corpus: small and awkward graded-response / GPCM designs simulated with rpf and
# fitted by OpenMx (mxExpectationBA81, 49 points on [-6, 6], EM tolerance 1e-12, Oakes SEs).
# The data are stored in the JSON (NA = missing) so the Python tests refit exactly them.
# Run from the repository root:  Rscript tests/data/r_scripts/irt/grm_corpus.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)

fit_case <- function(raw, K, model) {
  items <- colnames(raw)
  dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 0:(K - 1))))
  if (model == "graded") {
    spec <- lapply(items, function(i) rpf.grm(outcomes = K))
    start <- sapply(items, function(i) c(1, seq(1.5, -1.5, length.out = K - 1)))
    free <- matrix(TRUE, nrow(start), ncol(start))
  } else {
    spec <- lapply(items, function(i) rpf.nrm(outcomes = K))
    start <- sapply(items, function(i) c(1, 1, rep(0, K - 2), seq(0.5, -0.5, length.out = K - 1)))
    free <- matrix(TRUE, nrow(start), ncol(start)); free[2:K, ] <- FALSE
  }
  imat <- mxMatrix(name = "item", values = start, free = free,
                   dimnames = list(paste0("p", seq_len(nrow(start))), items))
  m <- mxModel("m", imat, mxData(dat, type = "raw"),
               mxExpectationBA81(spec, qpoints = 49, qwidth = 6), mxFitFunctionML(),
               mxComputeSequence(list(
                 mxComputeEM("expectation", "scores", mxComputeNewtonRaphson(),
                             tolerance = 1e-12, maxIter = 5000L, information = "oakes1999",
                             infoArgs = list(fitfunction = "fitfunction")),
                 mxComputeStandardError(),
                 mxComputeOnce("fitfunction", "gradient"), mxComputeReportDeriv())))
  f <- mxRun(m, silent = TRUE)
  list(logLik = -f$output$minimum / 2, n_par = length(f$output$estimate),
       gradient_max_abs = max(abs(f$output$gradient)), status = f$output$status$code)
}

designs <- list(
  list(id = "n150_j4_k3", n = 150, J = 4, K = 3, miss = 0, model = "graded"),
  list(id = "n300_j6_k4_miss20", n = 300, J = 6, K = 4, miss = 0.2, model = "graded"),
  list(id = "n200_j3_k5", n = 200, J = 3, K = 5, miss = 0, model = "graded"),
  list(id = "n1000_j12_k2", n = 1000, J = 12, K = 2, miss = 0.05, model = "graded"),
  list(id = "n400_j5_k7", n = 400, J = 5, K = 7, miss = 0.1, model = "graded"),
  list(id = "n250_j5_k4_gpcm", n = 250, J = 5, K = 4, miss = 0.1, model = "gpcm"))
set.seed(14)
out <- list()
for (d in designs) {
  repeat {
    spec <- lapply(1:d$J, function(i) rpf.grm(outcomes = d$K))
    par <- sapply(spec, rpf.rparam)
    raw <- rpf.sample(d$n, spec, par)
    raw <- as.data.frame(lapply(raw, function(x) as.integer(x) - 1L))
    colnames(raw) <- paste0("i", 1:d$J)
    if (d$miss > 0) {
      mask <- matrix(runif(d$n * d$J) < d$miss, d$n, d$J)
      raw[mask] <- NA
      raw <- raw[rowSums(!is.na(raw)) > 0, , drop = FALSE]
    }
    full <- all(sapply(raw, function(x) length(unique(na.omit(x))) == d$K))
    if (full) break                       # every category observed in every item
  }
  res <- fit_case(raw, d$K, d$model)
  out[[d$id]] <- c(d, res, list(data = as.matrix(raw)))
}
out$versions <- list(R = R.version.string, OpenMx = as.character(packageVersion("OpenMx")),
                     rpf = as.character(packageVersion("rpf")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"),
           "tests/data/r_results/irt/grm_corpus.json")
