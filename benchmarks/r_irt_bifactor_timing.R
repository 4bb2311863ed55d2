# Times OpenMx's bifactor graded response model on the data written by bench_irt.py --bifactor:
#   Rscript benchmarks/r_irt_bifactor_timing.R DATA.csv SPECIFIC REPEATS
# SPECIFIC: the specific factor (1-based) of each item, comma-separated.  Same model and
# settings as ours: all factors N(0, 1), 21 points per dimension on [-5, 5] (OpenMx integrates
# the bifactor structure two-tier), EM with a Newton-Raphson M-step (tolerance 1e-9 =
# OpenMx's default), Oakes (1999) SEs.  Prints JSON: median wall and CPU seconds, logLik.
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
args <- commandArgs(trailingOnly = TRUE)
raw <- read.csv(args[1])
spec_of <- as.integer(strsplit(args[2], ",")[[1]])
reps <- as.integer(args[3])
K <- max(raw) + 1
S <- max(spec_of)
items <- colnames(raw)
dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 0:(K - 1))))
spec <- lapply(items, function(i) rpf.grm(factors = S + 1, outcomes = K))
start <- matrix(0, S + K, length(items))
free <- matrix(FALSE, S + K, length(items))
for (j in seq_along(items)) {
  start[1, j] <- 1; start[1 + spec_of[j], j] <- 0.5
  start[(S + 2):(S + K), j] <- seq(1.5, -1.5, length.out = K - 1)
  free[c(1, 1 + spec_of[j], (S + 2):(S + K)), j] <- TRUE
}
fit1 <- function() {
  imat <- mxMatrix(name = "item", values = start, free = free,
                   dimnames = list(c("G", paste0("S", 1:S), paste0("c", 1:(K - 1))), items))
  m <- mxModel("bifactor", imat, mxData(dat, type = "raw"),
               mxExpectationBA81(spec, qpoints = 21, qwidth = 5), mxFitFunctionML(),
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
cat(toJSON(list(median_s = median(times), median_cpu_s = median(cpu),
                logLik = -f$output$minimum / 2,
                openmx = as.character(packageVersion("OpenMx"))),
           digits = NA, auto_unbox = TRUE))
