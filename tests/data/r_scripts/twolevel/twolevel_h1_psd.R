## The two-level saturated model maximised over positive semi-definite matrices: lavaan 0.6-14's
## Cholesky-parametrised unrestricted model (lav_partable_unrestricted_chol, the h1 lavaan
## itself uses with missing data), fitted explicitly with tight convergence, next to the
## covariance-parametrised saturated model (which leaves the PSD cone on therapy_sim).
## Run from the repository root:  Rscript tests/data/r_scripts/twolevel/twolevel_h1_psd.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
TS <- read.csv("tests/data/datasets/therapy_sim.csv")
items <- paste0("wai_", 1:12)
m1 <- paste0("level: 1\n  wai_w =~ ", paste(items, collapse = " + "), "\nlevel: 2\n  wai_b =~ ",
             paste(items, collapse = " + "), "\n")
f0 <- sem(m1, data = TS, cluster = "patient_id", do.fit = FALSE)
pt <- lavaan:::lav_partable_unrestricted_chol(lavdata = f0@Data, lavoptions = f0@Options,
                                              lavpta = f0@pta)
t0 <- proc.time()[["elapsed"]]
fc <- lavaan(pt, data = TS, cluster = "patient_id", se = "none", test = "none",
             baseline = FALSE, h1 = FALSE, fixed.x = FALSE, optim.attempts = 4L,
             control = list(rel.tol = 1e-14, iter.max = 100000L, eval.max = 100000L))
secs <- proc.time()[["elapsed"]] - t0
imp <- lavInspect(fc, "implied")
## explicit covariance-parametrised saturated model (not constrained to PSD)
pairs <- function(v) { out <- character(0); for (i in seq_along(v)) out <- c(out, paste(v[i], "~~", paste(v[i:length(v)], collapse = " + "))); out }
m7 <- paste(c("level: 1", pairs(items), "level: 2", pairs(items)), collapse = "\n")
f7 <- suppressWarnings(sem(m7, data = TS, cluster = "patient_id", se = "none", test = "none", baseline = FALSE,
                           control = list(rel.tol = 1e-14, iter.max = 100000L, eval.max = 100000L)))
imp7 <- lavInspect(f7, "implied")
out <- list(
  therapy_chol = list(
    call = "lavaan(lav_partable_unrestricted_chol(...), data = therapy_sim, cluster = 'patient_id', control = list(rel.tol = 1e-14))",
    model = m1, converged = lavInspect(fc, "converged"), logl = fc@loglik$loglik,
    iterations = lavInspect(fc, "iterations"), seconds = secs,
    cov_within = unclass(imp$within$cov), cov_between = unclass(imp$patient_id$cov),
    eigen_between = eigen(imp$patient_id$cov, only.values = TRUE)$values,
    em_unrestricted_logl = fitMeasures(sem(m1, data = TS, cluster = "patient_id"),
                                       "unrestricted.logl")[[1]]),
  therapy_cov = list(
    call = "sem(m7, data = therapy_sim, cluster = 'patient_id', control = list(rel.tol = 1e-14))",
    logl = f7@loglik$loglik, converged = lavInspect(f7, "converged"),
    eigen_between = eigen(imp7$patient_id$cov, only.values = TRUE)$values))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null"),
           "tests/data/r_results/twolevel/twolevel_h1_psd.json")
str(out[c("therapy_chol")][[1]][c("converged", "logl", "iterations", "em_unrestricted_logl")])
print(out$therapy_chol$eigen_between); print(out$therapy_cov[c("logl")]); print(out$therapy_cov$eigen_between)
