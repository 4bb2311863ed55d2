## Timing of the R reference generator simulate_therapy() (sim_therapy_lib.R), for
## benchmarks/bench_simulate.py. Run from the repository root:
##   Rscript tests/data/r_scripts/simulate/timing_simulate_therapy.R
## Writes tests/data/r_results/simulate/timing_simulate_therapy.json.
suppressPackageStartupMessages(library(jsonlite))
source("tests/data/reference/scripts/sim_therapy_lib.R")
time_it <- function(f, reps = 5, warmup = 1) {
  for (i in seq_len(warmup)) invisible(f())
  tt <- numeric(reps); cpu <- numeric(reps)
  for (i in seq_len(reps)) {
    gc(verbose = FALSE)
    p0 <- proc.time()
    t0 <- Sys.time(); invisible(f()); tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
    p1 <- proc.time() - p0
    cpu[i] <- p1[["user.self"]] + p1[["sys.self"]]
  }
  ## wall clock as the project's r_timings.json; CPU time (user + system) because the
  ## build machine is shared and loaded, which inflates wall-clock times
  list(median_s = median(tt), min_s = min(tt), max_s = max(tt), reps = reps, all_s = tt,
       cpu_median_s = median(cpu), cpu_all_s = cpu)
}
out <- list(
  generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
  R = R.version.string,
  note = paste("simulate_therapy() draws 22 item columns (WAI, PEAR) and the latent OQ total;",
               "psychometrics.simulate also draws the 45 OQ-45 item responses."),
  simulate_therapy_150 = c(list(call = "simulate_therapy(20240601)  # 150 patients, 4-20 months"),
                           time_it(function() simulate_therapy(20240601), reps = 10)),
  simulate_therapy_20000x12 = c(list(call = "simulate_therapy(777, n_patients = 20000, fixed_sessions = 12)"),
                                time_it(function() simulate_therapy(777, n_patients = 20000,
                                                                    fixed_sessions = 12), reps = 5))
)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/simulate/timing_simulate_therapy.json")
cat("wrote tests/data/r_results/simulate/timing_simulate_therapy.json\n")
