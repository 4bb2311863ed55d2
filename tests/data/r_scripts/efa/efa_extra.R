## Extra references for psychometrics.efa (beyond tests/data/reference/case5_efa.json).
## Run from the repository root:  Rscript tests/data/r_scripts/efa/efa_extra.R
## Writes tests/data/r_results/efa/efa_extra.json
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
options(warn = 1)
nv <- function(x) { x <- unclass(x); if (is.null(names(x))) as.list(as.vector(x)) else as.list(setNames(as.vector(x), names(x))) }
mat <- function(m) {
  m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  if (is.null(rn)) rn <- as.character(seq_len(nrow(m))); if (is.null(cn)) cn <- as.character(seq_len(ncol(m)))
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn)
}
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
X <- na.omit(bfi[, 1:25]); rownames(X) <- NULL
B <- bfi[, 1:25]                       # with missing values (pairwise)
R <- cor(X)
fa_out <- function(f, call) list(
  call = call,
  loadings = mat(unclass(f$loadings)),
  communality = nv(f$communality), uniquenesses = nv(f$uniquenesses),
  Phi = if (!is.null(f$Phi)) mat(f$Phi) else NULL,
  rot.mat = if (!is.null(f$rot.mat)) mat(f$rot.mat) else NULL,
  Vaccounted = mat(f$Vaccounted), values = f$values, e.values = f$e.values,
  objective = f$objective, STATISTIC = f$STATISTIC, dof = f$dof, PVAL = f$PVAL,
  null.chisq = f$null.chisq, null.dof = f$null.dof,
  RMSEA = if (!is.null(f$RMSEA)) nv(f$RMSEA) else NULL, TLI = f$TLI, BIC = f$BIC,
  rms = f$rms, crms = f$crms, fit = f$fit, fit.off = f$fit.off, n.obs = f$n.obs,
  communality.iterations = f$communality.iterations)
calls <- list(
  minres_quartimax = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'quartimax')",
  minres_quartimin = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'quartimin')",
  minres_geominQ   = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'geominQ')",
  minres_geominT   = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'geominT')",
  minres_bentlerQ  = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'bentlerQ')",
  minres_bentlerT  = "psych::fa(X, nfactors = 5, fm = 'minres', rotate = 'bentlerT')",
  ml_varimax       = "psych::fa(X, nfactors = 5, fm = 'ml', rotate = 'varimax')",
  ml_promax        = "psych::fa(X, nfactors = 5, fm = 'ml', rotate = 'promax')",
  pa_none          = "psych::fa(X, nfactors = 5, fm = 'pa', rotate = 'none')",
  pa_oblimin       = "psych::fa(X, nfactors = 5, fm = 'pa', rotate = 'oblimin')",
  minres_1factor   = "psych::fa(X[, 1:5], nfactors = 1, fm = 'minres')",
  ml_1factor       = "psych::fa(X[, 1:5], nfactors = 1, fm = 'ml')",
  pairwise_minres_oblimin = "psych::fa(bfi[, 1:25], nfactors = 5, fm = 'minres', rotate = 'oblimin')  # pairwise, 2800 rows",
  pairwise_ml_oblimin     = "psych::fa(bfi[, 1:25], nfactors = 5, fm = 'ml', rotate = 'oblimin')  # pairwise, 2800 rows",
  matrix_ml_oblimin       = "psych::fa(cor(X), nfactors = 5, n.obs = nrow(X), fm = 'ml', rotate = 'oblimin')",
  matrix_minres_varimax_nobs_na = "psych::fa(cor(X), nfactors = 3, fm = 'minres', rotate = 'varimax')",
  pc_none          = "psych::principal(X, nfactors = 5, rotate = 'none')",
  pc_varimax       = "psych::principal(X, nfactors = 5, rotate = 'varimax')",
  pc_oblimin       = "psych::principal(X, nfactors = 5, rotate = 'oblimin')",
  pc_promax        = "psych::principal(X, nfactors = 5, rotate = 'promax')",
  poly_minres_oblimin = "psych::fa(bfi[, 1:10], nfactors = 2, fm = 'minres', rotate = 'oblimin', cor = 'poly')  # polychoric, pairwise NA")
fits <- lapply(calls, function(cl) { f <- eval(parse(text = cl)); fa_out(f, cl) })
vs <- psych::vss(X, n = 8, plot = FALSE)
poly10 <- psych::polychoric(bfi[, 1:10])
kmo_pw <- psych::KMO(B)
bart_pw <- psych::cortest.bartlett(B)
## omega variants
om_ml <- psych::omega(X, nfactors = 3, fm = "ml", plot = FALSE)
om_pro <- psych::omega(B, nfactors = 4, rotate = "promax", plot = FALSE)
om_two <- psych::omega(X[, 1:10], nfactors = 2, plot = FALSE)   # g not identified: option = "equal"
om_out <- function(om, call) list(call = call, omega_h = om$omega_h, omega.tot = om$omega.tot,
  alpha = om$alpha, G6 = om$G6, omega.lim = om$omega.lim, ECV = om$ECV,
  omega.group = mat(om$omega.group), schmid_sl = mat(om$schmid$sl),
  stats = list(chisq = om$stats$STATISTIC, dof = om$stats$dof, rms = om$stats$rms, RMSEA = om$stats$RMSEA[1]))
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))),
  fa = fits,
  polychoric_10 = list(call = "psych::polychoric(bfi[, 1:10])$rho", rho = mat(poly10$rho)),
  vss_map = list(call = "psych::vss(X, n = 8, plot = FALSE)$map", map = vs$map),
  KMO_pairwise = list(call = "psych::KMO(bfi[, 1:25])", MSA = kmo_pw$MSA, MSAi = nv(kmo_pw$MSAi)),
  bartlett_pairwise = list(call = "psych::cortest.bartlett(bfi[, 1:25])  # n = 2800 rows",
                           chisq = bart_pw$chisq, p.value = bart_pw$p.value, df = bart_pw$df),
  fa_parallel_pairwise_observed = list(call = "psych::fa.parallel(bfi[, 1:25], plot = FALSE)",
     pc.values = (function() { set.seed(1); p <- psych::fa.parallel(B, plot = FALSE); list(pc = p$pc.values, fa = p$fa.values) })()),
  fa_parallel_ml_nf2_observed = list(call = "psych::fa.parallel(X, fm = 'ml', nfactors = 2, fa = 'fa', n.iter = 2, plot = FALSE)$fa.values",
     fa.values = (function() { set.seed(2); psych::fa.parallel(X, fm = "ml", nfactors = 2, fa = "fa", n.iter = 2, plot = FALSE)$fa.values })()),
  omega_ml = om_out(om_ml, "psych::omega(X, nfactors = 3, fm = 'ml', plot = FALSE)"),
  omega_two = om_out(om_two, "psych::omega(X[, 1:10], nfactors = 2, plot = FALSE)"),
  omega_promax4 = om_out(om_pro, "psych::omega(bfi[, 1:25], nfactors = 4, rotate = 'promax', plot = FALSE)"))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/efa/efa_extra.json")
cat("done\n")
