# Times OpenMx's graded response model fit on the data written by bench_irt.py:
#   Rscript benchmarks/r_irt_timing.R DATA.csv REPEATS
# Same model and settings as ours: Bock-Aitkin EM (mxComputeEM with Newton-Raphson M-step,
# tolerance 1e-9 = OpenMx's default), 49 quadrature points on [-6, 6], Oakes (1999) observed
# information for the SEs.  Prints JSON: median/min wall-clock and median CPU seconds, logLik.
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
args <- commandArgs(trailingOnly = TRUE)
raw <- read.csv(args[1])
reps <- as.integer(args[2])
K <- max(raw) + 1
items <- colnames(raw)
dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 0:(K - 1))))
spec <- lapply(items, function(i) rpf.grm(outcomes = K))
start <- sapply(items, function(i) c(1, seq(1.5, -1.5, length.out = K - 1)))
fit1 <- function() {
  imat <- mxMatrix(name = "item", values = start, free = TRUE,
                   dimnames = list(c("a", paste0("c", 1:(K - 1))), items))
  m <- mxModel("grm", imat, mxData(dat, type = "raw"),
               mxExpectationBA81(spec, qpoints = 49, qwidth = 6), mxFitFunctionML(),
               mxComputeSequence(list(
                 mxComputeEM("expectation", "scores", mxComputeNewtonRaphson(),
                             information = "oakes1999",
                             infoArgs = list(fitfunction = "fitfunction")),
                 mxComputeStandardError())))
  mxRun(m, silent = TRUE)
}
f <- fit1()                                     # warm-up
times <- numeric(reps); cpu <- numeric(reps)
for (r in seq_len(reps)) {
  gc()
  p0 <- proc.time()
  t0 <- Sys.time(); f <- fit1(); times[r] <- as.numeric(Sys.time() - t0, units = "secs")
  p1 <- proc.time() - p0
  cpu[r] <- p1[["user.self"]] + p1[["sys.self"]]
}
cat(toJSON(list(median_s = median(times), min_s = min(times), times = times,
                median_cpu_s = median(cpu),
                logLik = -f$output$minimum / 2,
                openmx = as.character(packageVersion("OpenMx"))),
           digits = NA, auto_unbox = TRUE))
