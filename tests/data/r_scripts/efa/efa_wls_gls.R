## References for psychometrics.efa extraction by weighted (fm = "wls") and generalised
## (fm = "gls") least squares, psych::fa as in psych 2.2.9 (the version is checked below
## and written into the JSON).
## Run from the repository root:  Rscript tests/data/r_scripts/efa/efa_wls_gls.R
## Writes tests/data/r_results/efa/efa_wls_gls.json
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
options(warn = 1)
if (packageVersion("psych") != "2.2.9")
  warning("psych ", as.character(packageVersion("psych")), " is installed; the package follows 2.2.9")
nv <- function(x) { x <- unclass(x); if (is.null(names(x))) as.list(as.vector(x)) else as.list(setNames(as.vector(x), names(x))) }
mat <- function(m) {
  m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  if (is.null(rn)) rn <- as.character(seq_len(nrow(m))); if (is.null(cn)) cn <- as.character(seq_len(ncol(m)))
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn)
}
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
X <- na.omit(bfi[, 1:25]); rownames(X) <- NULL          # 2436 complete cases
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv", stringsAsFactors = FALSE)
H <- HS[, paste0("x", 1:9)]                              # lavaan::HolzingerSwineford1939, 301 rows
fa_out <- function(f, call) list(
  call = call,
  loadings = mat(unclass(f$loadings)),
  communality = nv(f$communality), uniquenesses = nv(f$uniquenesses),
  communalities = nv(f$communalities),                   # 1 - optim's uniquenesses (psych)
  Phi = if (!is.null(f$Phi)) mat(f$Phi) else NULL,
  rot.mat = if (!is.null(f$rot.mat)) mat(f$rot.mat) else NULL,
  Vaccounted = mat(f$Vaccounted), values = f$values, e.values = f$e.values,
  objective = f$objective, STATISTIC = f$STATISTIC, dof = f$dof, PVAL = f$PVAL,
  null.chisq = f$null.chisq, null.dof = f$null.dof,
  RMSEA = if (!is.null(f$RMSEA)) nv(f$RMSEA) else NULL, TLI = f$TLI, BIC = f$BIC,
  rms = f$rms, crms = f$crms, fit = f$fit, fit.off = f$fit.off, n.obs = f$n.obs, fm = f$fm)
calls <- list()
for (fm in c("wls", "gls")) for (rot in c("none", "varimax", "oblimin")) {
  calls[[paste("hs", fm, rot, sep = "_")]] <-
    sprintf("psych::fa(H, nfactors = 3, fm = '%s', rotate = '%s')", fm, rot)
  calls[[paste("bfi", fm, rot, sep = "_")]] <-
    sprintf("psych::fa(X, nfactors = 5, fm = '%s', rotate = '%s')", fm, rot)
}
calls[["bfi5_wls_1factor"]] <- "psych::fa(X[, 1:5], nfactors = 1, fm = 'wls')"
calls[["bfi5_gls_1factor"]] <- "psych::fa(X[, 1:5], nfactors = 1, fm = 'gls')"
calls[["matrix_gls_promax"]] <- "psych::fa(cor(X), nfactors = 5, n.obs = nrow(X), fm = 'gls', rotate = 'promax')"
fits <- lapply(calls, function(cl) { f <- eval(parse(text = cl)); fa_out(f, cl) })
## psych::fa keeps no optim output; rerun psych:::fac's own optim call for wls/gls verbatim
## (its nested fit.residuals and FAgr.minres2, start smc(S)) to store the criterion value,
## the counts and R's convergence code and message
fac_fns <- new.env()
for (e in as.list(body(psych:::fac)))
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.call(e[[3]]) &&
      identical(e[[3]][[1]], as.name("function")))
    assign(as.character(e[[2]]), eval(e[[3]], fac_fns), envir = fac_fns)
optim_record <- function(data, nf, fm, call) {
  S <- cor(data)
  res <- optim(smc(S), fac_fns$fit.residuals, gr = fac_fns$FAgr.minres2, method = "L-BFGS-B",
               lower = 0.005, upper = max(smc(S), 1),
               control = list(fnscale = 1, parscale = rep(0.01, ncol(S))),
               nf = nf, S = S, S.inv = solve(S), fm = fm)
  list(call = call, par = nv(setNames(res$par, colnames(S))), value = res$value,
       counts = nv(res$counts), convergence = res$convergence, message = res$message)
}
optim_calls <- list(
  hs_wls = list(H, 3, "wls"), hs_gls = list(H, 3, "gls"),
  bfi_wls = list(X, 5, "wls"), bfi_gls = list(X, 5, "gls"),
  bfi5_wls = list(X[, 1:5], 1, "wls"), bfi5_gls = list(X[, 1:5], 1, "gls"))
optims <- lapply(names(optim_calls), function(k) {
  a <- optim_calls[[k]]
  optim_record(a[[1]], a[[2]], a[[3]], sprintf(
    "optim(smc(S), fit.residuals, gr = FAgr.minres2, method = 'L-BFGS-B', lower = .005, upper = max(smc(S), 1), control = list(fnscale = 1, parscale = rep(.01, ncol(S))), nf = %d, S = S, S.inv = solve(S), fm = '%s')  # inside psych:::fac, S = cor(%s)",
    a[[2]], a[[3]], c(hs = "H", bfi = "X", bfi5 = "X[, 1:5]")[[sub("_.*", "", k)]]))
})
names(optims) <- names(optim_calls)
## a correlation matrix (8 variables, n = 300, simulated; tests/efa/test_efa_wls_gls.py) on
## which psych's wls and gls points are far above a minimum reached from other starts:
## psych's fa, and an independent search with psych's own criterion (fit.residuals) and
## optim's finite-difference gradient from factanal's start and from uniquenesses 0.5
RL <- as.matrix(read.csv("tests/data/datasets/efa_wls_local_optimum_cor.csv"))
rownames(RL) <- colnames(RL)
local_psych <- lapply(c(wls = "wls", gls = "gls"), function(fm) {
  f <- fa(RL, nfactors = 3, n.obs = 300, fm = fm, rotate = "none")
  list(call = sprintf("psych::fa(RL, nfactors = 3, n.obs = 300, fm = '%s', rotate = 'none')", fm),
       communalities = nv(f$communalities), uniquenesses = nv(f$uniquenesses))
})
restart_search <- function(S, nf, fm) {
  p <- ncol(S)
  starts <- list(factanal = (1 - 0.5 * nf / p) / diag(solve(S)), half = rep(0.5, p))
  runs <- lapply(starts, function(st) optim(st, fac_fns$fit.residuals, method = "L-BFGS-B",
    lower = 0.005, upper = 1, control = list(factr = 10, pgtol = 0, maxit = 1000),
    nf = nf, S = S, S.inv = solve(S), fm = fm))
  best <- runs[[which.min(sapply(runs, function(r) r$value))]]
  list(call = sprintf("best of optim(start, fit.residuals, method = 'L-BFGS-B', lower = .005, upper = 1, control = list(factr = 10, pgtol = 0, maxit = 1000), nf = 3, S = RL, S.inv = solve(RL), fm = '%s') over start = (1 - nf/(2p))/diag(solve(RL)) and rep(.5, p), finite-difference gradient", fm),
       value = best$value, par = nv(setNames(best$par, colnames(S))),
       values = sapply(runs, function(r) r$value))
}
restarts <- list(local_wls = restart_search(RL, 3, "wls"), local_gls = restart_search(RL, 3, "gls"))
## omega and parallel analysis with fm = "wls" / "gls" (same om_out as efa_extra.R)
om_out <- function(om, call) list(call = call, omega_h = om$omega_h, omega.tot = om$omega.tot,
  alpha = om$alpha, G6 = om$G6, omega.lim = om$omega.lim, ECV = om$ECV,
  omega.group = mat(om$omega.group), schmid_sl = mat(om$schmid$sl),
  stats = list(chisq = om$stats$STATISTIC, dof = om$stats$dof, rms = om$stats$rms, RMSEA = om$stats$RMSEA[1]))
omegas <- list(
  omega_wls = om_out(omega(X, nfactors = 3, fm = "wls", plot = FALSE), "psych::omega(X, nfactors = 3, fm = 'wls', plot = FALSE)"),
  omega_gls = om_out(omega(X, nfactors = 3, fm = "gls", plot = FALSE), "psych::omega(X, nfactors = 3, fm = 'gls', plot = FALSE)"))
parallel <- lapply(c(wls = "wls", gls = "gls"), function(fm) {
  set.seed(2)
  list(call = sprintf("psych::fa.parallel(X, fm = '%s', nfactors = 2, fa = 'fa', n.iter = 2, plot = FALSE)$fa.values", fm),
       fa.values = psych::fa.parallel(X, fm = fm, nfactors = 2, fa = "fa", n.iter = 2, plot = FALSE)$fa.values)
})
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))),
  fa = fits, optim = optims, restarts = restarts, local_psych = local_psych,
  omega = omegas, parallel = parallel)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/efa/efa_wls_gls.json")
cat("done\n")
