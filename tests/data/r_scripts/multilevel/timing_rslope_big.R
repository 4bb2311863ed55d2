## lme4 timing and estimates of the RANDOM-SLOPE model on the scaled therapy data
## (20,000 patients x 12 months), which benchmarks/r_timings.json lacks (it has only the
## random-intercept model). Same derivation as scripts/99_timings_scaled.R (add_wb()).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/timing_rslope_big.R
## (reads /work/shared/reference/datasets/scaled/therapy_big_20000x12.csv.gz or the path in
##  the environment variable THERAPY_BIG)
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
path <- Sys.getenv("THERAPY_BIG", "/work/shared/reference/datasets/scaled/therapy_big_20000x12.csv.gz")
big <- read.csv(path)
big <- big[order(big$patient_id, big$month), ]
big$wai_mean <- big$wai_sum / 12
big$wai_between <- ave(big$wai_mean, big$patient_id, FUN = mean)
big$wai_within <- big$wai_mean - big$wai_between
big$oq_next <- ave(big$oq_total, big$patient_id, FUN = function(x) c(x[-1], NA))
bigm <- big[!is.na(big$oq_next), ]
bigm$patient_id <- factor(bigm$patient_id)
f2 <- oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id)
time_it <- function(f, reps) {
  invisible(f())
  tt <- numeric(reps)
  for (i in seq_len(reps)) { gc(verbose = FALSE); t0 <- Sys.time(); invisible(f())
    tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) }
  list(median_s = median(tt), all_s = tt, reps = reps)
}
m <- lmer(f2, data = bigm, REML = FALSE)
tm <- time_it(function() lmer(f2, data = bigm, REML = FALSE), reps = 3)
out <- list(call = "lme4::lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), data = bigm, REML = FALSE)  # 220,000 rows",
            timing = tm, nobs = nobs(m), fixef = as.list(fixef(m)),
            se = as.list(sqrt(diag(as.matrix(vcov(m))))),
            theta = as.list(getME(m, "theta")), sigma = sigma(m), logLik = as.numeric(logLik(m)),
            conv_messages = m@optinfo$conv$lme4$messages,
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
            machine = "same 2-core machine as the Python benchmark, while other jobs may run")
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/multilevel/timing_rslope_big.json")
print(tm); print(fixef(m)); print(logLik(m))
