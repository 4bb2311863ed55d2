## lme4 timings for benchmarks/bench_therapists.py (called live by it, same CSV):
##   Rscript benchmarks/r_lmer_therapists.R <data.csv> <reps> <out.json>
## Nested random intercepts y ~ x + month + (1 | therapist/patient) and crossed
## y ~ x + month + (1 | pid) + (1 | month_f), ML; 1 warm-up, gc() before each timed repetition,
## median (as benchmarks/r_timings.json).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
d$month_f <- factor(d$month)
models <- list(nested = y ~ x + month + (1 | therapist/patient),
               crossed = y ~ x + month + (1 | pid) + (1 | month_f))
out <- list()
for (k in names(models)) {
  f <- function() lmer(models[[k]], data = d, REML = FALSE)
  m <- f()
  tt <- numeric(reps)
  for (i in seq_len(reps)) { gc(verbose = FALSE); t0 <- Sys.time(); invisible(f())
    tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) }
  out[[k]] <- list(median_s = median(tt), all_s = tt, nobs = nobs(m), logLik = as.numeric(logLik(m)),
                   theta = as.list(getME(m, "theta")), fixef = as.list(fixef(m)),
                   se = as.list(sqrt(diag(as.matrix(vcov(m))))))
}
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[3])
