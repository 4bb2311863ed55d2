## lme4 timings for benchmarks/bench_intervals.py (called live by it):
##   Rscript benchmarks/r_intervals_timing.R <reps> <out.json>
## confint(method = "profile") of lmer fits (sleepstudy, Penicillin from nested_crossed.json) and
## glmer with three grouping factors (grouseticks). 1 warm-up, gc() before each timed repetition,
## median.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
reps <- as.integer(args[1])
ss <- read.csv("tests/data/datasets/sleepstudy.csv"); ss$Subject <- factor(ss$Subject)
pen <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data$penicillin
gt <- read.csv("tests/data/datasets/grouseticks.csv"); gt$YEAR <- factor(gt$YEAR)
gt$BROOD <- factor(gt$BROOD); gt$LOCATION <- factor(gt$LOCATION); gt$INDEX <- factor(gt$INDEX)
f1 <- lmer(Reaction ~ Days + (Days | Subject), ss)
f2 <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen)
jobs <- list(
  profile_sleepstudy = function() confint(f1, method = "profile", quiet = TRUE),
  profile_penicillin = function() confint(f2, method = "profile", quiet = TRUE),
  glmer_grouseticks = function() glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), gt, family = poisson))
out <- list()
for (k in names(jobs)) {
  invisible(suppressWarnings(jobs[[k]]()))
  tt <- numeric(reps)
  for (i in seq_len(reps)) { gc(verbose = FALSE); t0 <- Sys.time(); invisible(suppressWarnings(jobs[[k]]()))
    tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) }
  out[[k]] <- list(median_s = median(tt), all_s = tt)
}
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[2])
