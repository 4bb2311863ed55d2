# lme4 on the study's model fitted to psychometrics.simulate data (issue 19: these are the data
# on which our optimiser used to stop at a patient variance of 0), timed as in
# benchmarks/r_timings.json (Sys.time() around the call, 1 warm-up, gc() before each timed
# repetition, median).
#   /work/venv/bin/python benchmarks/bench_multilevel.py --write-r-data /tmp/lmer_sim
#   Rscript benchmarks/r_lmer_simulated.R /tmp/lmer_sim
# Writes benchmarks/r_lmer_simulated.json (timings and the fits the benchmark checks against).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
folder <- if (length(args)) args[1] else "/tmp/lmer_sim"
reps <- if (length(args) > 1) as.integer(args[2]) else 5
fml <- oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)
out <- list()
for (fn in sort(list.files(folder, pattern = "^sim_[0-9]+\\.csv$"))) {
  d <- read.csv(file.path(folder, fn))
  d <- d[!is.na(d$oq_next), ]
  for (reml in c(FALSE, TRUE)) {
    f <- function() lmer(fml, data = d, REML = reml)
    m <- f()
    tt <- numeric(reps)
    for (i in seq_len(reps)) { gc(verbose = FALSE); t0 <- Sys.time(); invisible(f())
      tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) }
    key <- paste0(sub("\\.csv$", "", fn), if (reml) "_REML" else "_ML")
    out[[key]] <- list(median_s = median(tt), all_s = tt, reps = reps, nobs = nobs(m),
                       logLik = as.numeric(logLik(m)), theta = unname(getME(m, "theta")),
                       fixef = as.list(fixef(m)), se = as.list(sqrt(diag(as.matrix(vcov(m))))),
                       conv_messages = m@optinfo$conv$lme4$messages)
  }
}
writeLines(toJSON(list(call = "lme4::lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), d, REML = FALSE / TRUE)",
                       versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
                       blas = extSoftVersion()[["BLAS"]],
                       machine = "same 2-core machine as the Python benchmark, while other jobs may run",
                       timings = out), auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null"),
           "benchmarks/r_lmer_simulated.json")
cat("done\n")
