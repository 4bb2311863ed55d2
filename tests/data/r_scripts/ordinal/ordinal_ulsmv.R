## Ordinal CFA with ULSMV / ULS (lavaan 0.6-14): unweighted least squares on the thresholds
## and polychoric correlations (W = I), robust ("robust.sem") SEs and the scaled-shifted
## test with W = I (ULSMV); plain ULS: standard SEs, chisq with p-value NA.
## References for psychometrics.sem.fit(..., ordered=, estimator="ULSMV"/"ULS"), single and
## multi-group (Wu & Estabrook 2016 identification via semTools::measEq.syntax).
## Every fit uses optim.method = "BFGS" with reltol 1e-15 (as ordinal_invariance.R): lavaan's
## default nlminb stops at rel.tol 1e-10, which in the two-factor theta model leaves the
## loadings ~3e-5 (relative) from the minimum. The polychoric correlations of lavaan agree
## with ours to ~1e-7, so the statistics agree to ~1e-8 (relative).
## Run from the repository root:  Rscript tests/data/r_scripts/ordinal/ordinal_ulsmv.R
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
out <- list(lavaan = as.character(packageVersion("lavaan")),
            semTools = as.character(packageVersion("semTools")))

## (a) single group: bfi A1..A5 (A1 reversed as 7 - x), one factor; and the two-factor
##     A/C model (A1, C4, C5 reversed) with a residual covariance, theta parameterization
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
d <- bfi[, c(paste0("A", 1:5), paste0("C", 1:5))]
d$A1 <- 7 - d$A1; d$C4 <- 7 - d$C4; d$C5 <- 7 - d$C5
sg <- list(
  one_factor_delta = list(model = "agree =~ A1 + A2 + A3 + A4 + A5", vars = paste0("A", 1:5),
                          parameterization = "delta"),
  one_factor_theta = list(model = "agree =~ A1 + A2 + A3 + A4 + A5", vars = paste0("A", 1:5),
                          parameterization = "theta"),
  two_factor_theta = list(model = "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5\nA4 ~~ A5",
                          vars = c(paste0("A", 1:5), paste0("C", 1:5)), parameterization = "theta"))
out$single <- list(data = "bfi (A1, C4, C5 reversed as 7 - x); listwise deletion over the model variables")
for (nm in names(sg)) {
  m <- sg[[nm]]
  dd <- d[, m$vars]
  res <- list(model = m$model, vars = m$vars, parameterization = m$parameterization)
  for (est in c("ULSMV", "ULS")) {
    fit <- cfa(m$model, data = dd, ordered = m$vars, estimator = est,
               parameterization = m$parameterization,
               optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
    res[[est]] <- list(
      call = sprintf("cfa(model, data = d[, vars], ordered = vars, estimator = '%s', parameterization = '%s', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                     est, m$parameterization),
      options = lavInspect(fit, "options")[c("estimator", "se", "test")],
      converged = lavInspect(fit, "converged"),
      parameterEstimates = df_rows(parameterEstimates(fit)),
      fitMeasures = as.list(fitMeasures(fit)),
      vcov_diag_named = as.list(diag(as.matrix(vcov(fit)))),
      wls_v_diag = diag(as.matrix(lavInspect(fit, "wls.v"))))
  }
  out$single[[nm]] <- res
  cat(nm, "done\n")
}

## (b) multi group: HolzingerSwineford1939 x1..x9 cut at quartiles (x3 median split), by
##     school (tests/data/datasets/hs_ordinal.csv, written by ordinal_invariance.R)
hs <- read.csv("tests/data/datasets/hs_ordinal.csv", stringsAsFactors = FALSE)
vars <- paste0("x", 1:9)
model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
lv <- list(configural = character(0), loadings = c("thresholds", "loadings"))
out$multi <- list(model = model, vars = vars, group = "school",
                  data = "tests/data/datasets/hs_ordinal.csv")
for (prm in c("delta", "theta")) {
  fits <- list(); res <- list()
  for (nm in names(lv)) {
    txt <- as.character(measEq.syntax(configural.model = model, data = hs, ordered = vars,
                                      group = "school", parameterization = prm, ID.fac = "std.lv",
                                      ID.cat = "Wu.Estabrook.2016", group.equal = lv[[nm]]))
    for (est in c("ULSMV", "ULS")) {
      fit <- cfa(txt, data = hs, ordered = vars, group = "school", parameterization = prm,
                 estimator = est, optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
      if (est == "ULSMV") fits[[nm]] <- fit
      res[[nm]][[est]] <- list(
        call = sprintf("cfa(as.character(measEq.syntax(model, data = hs, ordered = vars, group = 'school', parameterization = '%s', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', group.equal = c(%s))), data = hs, ordered = vars, group = 'school', parameterization = '%s', estimator = '%s', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                       prm, paste0("'", lv[[nm]], "'", collapse = ", "), prm, est),
        group_equal = lv[[nm]], syntax = txt,
        converged = lavInspect(fit, "converged"),
        parameterEstimates = df_rows(parameterEstimates(fit)),
        fitMeasures = as.list(fitMeasures(fit)),
        vcov_diag = diag(as.matrix(vcov(fit))))
    }
  }
  tt <- lavTestLRT(fits$configural, fits$loadings, method = "satorra.2000",
                   model.names = c("configural", "loadings"))
  res$lrt <- list(call = "lavTestLRT(fit_configural_ULSMV, fit_loadings_ULSMV, method = 'satorra.2000')",
                  table = df_rows(cbind(model = rownames(tt), as.data.frame(tt))))
  # score tests of the equality constraints of the ULSMV thresholds + loadings model
  sc <- lavTestScore(fits$loadings, univariate = TRUE, cumulative = TRUE)
  pt <- parTable(fits$loadings)
  res$score <- list(call = "lavTestScore(fit_loadings_ULSMV, univariate = TRUE, cumulative = TRUE)",
                    test = df_rows(sc$test), uni = df_rows(sc$uni), cumulative = df_rows(sc$cumulative),
                    partable = df_rows(pt[, c("lhs", "op", "rhs", "group", "free", "label", "plabel")]))
  out$multi[[prm]] <- res
  cat(prm, "done\n")
}
## (c) longitudinal (validity.longitudinal_invariance(..., ordered=True, estimator="ULSMV")):
##     the WAI-SR bond items at months 1-3 as in ordinal_longitudinal.R, delta parameterization
d3 <- read.csv("examples/therapy_example.csv")
items <- c("wai_3", "wai_5", "wai_7", "wai_9")
occ <- 1:3
sub <- d3[d3$month %in% occ, c("patient_id", "month", items)]
for (v in items) sub[[v]] <- pmax(sub[[v]], 2)
w <- reshape(sub, idvar = "patient_id", timevar = "month", direction = "wide", sep = "_t")
w <- w[order(w$patient_id), ]
w <- w[complete.cases(w), ]
lvars <- unlist(lapply(occ, function(t) paste0(items, "_t", t)))
config <- paste(sapply(occ, function(t) paste0("bond_t", t, " =~ ", paste0(items, "_t", t, collapse = " + "))),
                collapse = "\n")
equal <- list(configural = character(0), thresholds = "thresholds",
              loadings = c("thresholds", "loadings"),
              intercepts = c("thresholds", "loadings", "intercepts"))
lfits <- list(); lres <- list()
for (lv in names(equal)) {
  txt <- as.character(measEq.syntax(configural.model = config, data = w, ordered = lvars,
                                    parameterization = "delta", ID.fac = "std.lv",
                                    ID.cat = "Wu.Estabrook.2016",
                                    longFacNames = list(bond = paste0("bond_t", occ)),
                                    long.equal = equal[[lv]]))
  fit <- cfa(txt, data = w, ordered = lvars, estimator = "ULSMV",
             optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
  lfits[[lv]] <- fit
  lres[[lv]] <- list(call = sprintf("cfa(as.character(measEq.syntax(config, data = w, ordered = vars, ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', longFacNames = long, long.equal = %s)), data = w, ordered = vars, estimator = 'ULSMV', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                                    deparse(equal[[lv]])),
                     long_equal = equal[[lv]], syntax = txt,
                     converged = lavInspect(fit, "converged"),
                     parameterEstimates = df_rows(parameterEstimates(fit)),
                     fitMeasures = as.list(fitMeasures(fit)))
}
tt <- lavTestLRT(lfits$configural, lfits$thresholds, lfits$loadings, lfits$intercepts,
                 method = "satorra.2000", model.names = names(equal))
lres$lrt_sequence <- list(call = "lavTestLRT(configural, thresholds, loadings, intercepts, method = 'satorra.2000')  # ULSMV fits",
                          table = df_rows(cbind(model = rownames(tt), as.data.frame(tt))))
out$longitudinal <- c(list(items = items, occasions = occ, n = nrow(w),
                           data = "examples/therapy_example.csv, months 1-3, wai_3/5/7/9 with 1 merged into 2, complete cases"),
                      lres)
cat("longitudinal done\n")
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE),
           "tests/data/r_results/ordinal/ordinal_ulsmv.json")
cat("done\n")
