# Timing of psych::scoreItems on the benchmark data of benchmarks/bench_scoring.py.
#   python benchmarks/bench_scoring.py --write-r-data /tmp/oq_bench
#   Rscript benchmarks/r_scoring_timing.R /tmp/oq_bench
# Writes benchmarks/r_scoring_timing.json. Method as in benchmarks/r_timings.json:
# Sys.time() around the call, 1 warm-up, gc() before each timed repetition, median.
suppressPackageStartupMessages({library(psych); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
folder <- if (length(args)) args[1] else "/tmp/oq_bench"
reps <- if (length(args) > 1) as.integer(args[2]) else 3
shape <- scan(file.path(folder, "shape.txt"), quiet = TRUE)
n <- shape[1]; p <- shape[2]
read_items <- function(file) {
  con <- file(file.path(folder, file), "rb")
  v <- readBin(con, "integer", n = n * p, size = 1, signed = TRUE)
  close(con)
  v[v == -1L] <- NA
  X <- matrix(v, nrow = n, ncol = p, byrow = TRUE)
  colnames(X) <- paste0("oq_", 1:p)
  X
}
# OQ-45.2 key as in instruments/oq-45.2.yaml (reverse-keyed items prefixed with "-")
rev_items <- c(1, 12, 13, 20, 21, 24, 31, 37, 43)
key <- function(nums) paste0(ifelse(nums %in% rev_items, "-", ""), "oq_", nums)
keys <- list(
  sd = key(c(2, 3, 5, 6, 8, 9, 10, 11, 13, 15, 22, 23, 24, 25, 27, 29, 31, 33, 34, 35, 36, 40, 41, 42, 45)),
  ir = key(c(1, 7, 16, 17, 18, 19, 20, 26, 30, 37, 43)),
  sr = key(c(4, 12, 14, 21, 28, 32, 38, 39, 44)),
  total = key(1:45))
timings <- list()
for (name in c("complete", "blanks")) {
  X <- read_items(paste0(name, ".int8"))
  f <- function() scoreItems(keys, X, totals = TRUE, impute = "none", min = 0, max = 4)
  invisible(suppressWarnings(f()))  # warm-up
  all_s <- numeric(reps)
  for (r in seq_len(reps)) {
    gc()
    t0 <- Sys.time()
    res <- suppressWarnings(f())
    all_s[r] <- as.numeric(Sys.time() - t0, units = "secs")
  }
  timings[[paste0("scoreItems_", name)]] <- list(
    call = "psych::scoreItems(keys, X, totals = TRUE, impute = 'none', min = 0, max = 4)",
    rows = n, items = p, blanks = sum(is.na(X)),
    median_s = median(all_s), min_s = min(all_s), max_s = max(all_s), reps = reps,
    all_s = all_s,
    check_total_first5 = unname(res$scores[1:5, "total"]))
  cat(name, ": median", median(all_s), "s\n")
  rm(X); gc()
}
out <- list(
  generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
  machine = list(n_cores = parallel::detectCores(),
                 load_average = tryCatch(readLines("/proc/loadavg"), error = function(e) NA)),
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  data = "benchmarks/bench_scoring.py --write-r-data (seed 20261126; 0..4 uniform; 'blanks': 1% NA)",
  note = paste("scoreItems also computes alpha, item-scale correlations and the scale",
               "correlation matrix; with impute = 'none' and totals = TRUE it sums the answered",
               "items (no proration)."),
  timings = timings)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA), "benchmarks/r_scoring_timing.json")
