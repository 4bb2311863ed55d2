## Distributional moments of the R reference generator simulate_therapy() (sim_therapy_lib.R),
## to check that psychometrics.simulate reproduces its structure (same model, different RNG).
## Run from the repository root:
##   Rscript tests/data/r_scripts/simulate/moments_simulate_therapy.R
## Writes tests/data/r_results/simulate/moments_simulate_therapy.json.
## Every moment is given with its standard error computed from patient-level values
## (patients are independent; sessions of a patient are not).
suppressPackageStartupMessages(library(jsonlite))
source("tests/data/reference/scripts/sim_therapy_lib.R")
N <- 20000; TT <- 12; SEED <- 777
d <- simulate_therapy(SEED, n_patients = N, fixed_sessions = TT)
lat <- attr(d, "latent")
pid <- d$patient_id
## patient-level mean of a session variable, then its mean and SE across patients
pm <- function(x) as.numeric(tapply(x, pid, mean))
mom <- function(x) { m <- pm(x); list(mean = mean(x), se = sd(m) / sqrt(length(m))) }
items <- c(paste0("wai_", 1:12), paste0("pear_", 1:10))
item_means <- lapply(setNames(items, items), function(v) mom(d[[v]]))
## item variance: mean over sessions of (x - grand mean)^2, SE from patient means of that
item_vars <- lapply(setNames(items, items), function(v) {
  x <- d[[v]]; mom((x - mean(x))^2)
})
## the WAI item total (all 12 items) and PEAR item totals for F1 (1-6) and F2 (7-10)
wai_total <- rowSums(d[, paste0("wai_", 1:12)])
pear_f1 <- rowSums(d[, paste0("pear_", 1:6)]); pear_f2 <- rowSums(d[, paste0("pear_", 7:10)])
## latent OQ total by month (R reports it rounded to 0.1 and clamped to 0-180)
oq_by_month <- lapply(1:TT, function(t) { x <- d$oq_total[d$month == t]
  list(month = t, mean = mean(x), se = sd(x) / sqrt(length(x)), sd = sd(x),
       sd_se = sd(x) * sqrt((mean((x - mean(x))^4) / var(x)^2 - 1) / (4 * length(x)))) })
## correlation of WAI total and PEAR F1 total (pooled over sessions)
out <- list(
  generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
  R = R.version.string,
  call = "simulate_therapy(777, n_patients = 20000, fixed_sessions = 12)",
  n_patients = N, sessions = TT,
  item_mean = item_means,
  item_var = item_vars,
  wai_total = mom(wai_total),
  pear_f1_total = mom(pear_f1),
  pear_f2_total = mom(pear_f2),
  oq_total_by_month = oq_by_month
)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/simulate/moments_simulate_therapy.json")
cat("wrote tests/data/r_results/simulate/moments_simulate_therapy.json\n")
