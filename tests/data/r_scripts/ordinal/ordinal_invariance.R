## Multi-group ordinal CFA and ordinal measurement invariance (Wu & Estabrook, 2016), references
## for psychometrics.sem.ordinal_invariance / sem.fit(..., ordered=, group=, group_equal=).
## lavaan 0.6-14, semTools 0.5-6. Run from the repository root:
##   Rscript tests/data/r_scripts/ordinal/ordinal_invariance.R
## Data: lavaan's HolzingerSwineford1939 (tests/data/datasets/HolzingerSwineford1939.csv),
## x1..x9 cut at their quartiles into 4 ordered categories (x3: median split, 2 categories),
## grouped by school; the coded data are written to tests/data/datasets/hs_ordinal.csv.
## The fits use optim.method = "BFGS" with reltol 1e-15: lavaan's default nlminb stops at
## rel.tol 1e-10 (estimates within ~1e-4 in flat directions) and a tighter rel.tol makes it
## stop with "false convergence". The tests also check that our DWLS minimum is at or below
## F at R's estimates.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv", stringsAsFactors = FALSE)
vars <- paste0("x", 1:9)
d <- HS[, c("id", "school", vars)]
for (v in vars) {
  br <- unique(quantile(HS[[v]], c(0, .25, .5, .75, 1), type = 7))
  d[[v]] <- as.integer(cut(HS[[v]], breaks = br, include.lowest = TRUE, labels = FALSE))
}
d$x3 <- as.integer(HS$x3 > median(HS$x3)) + 1L
write.csv(d, "tests/data/datasets/hs_ordinal.csv", row.names = FALSE)
print(lapply(split(d[, vars], d$school), function(x) sapply(x, function(y) paste(table(y), collapse = "/"))))

model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
levels_eq <- list(configural = character(0), thresholds = "thresholds",
                  loadings = c("thresholds", "loadings"),
                  intercepts = c("thresholds", "loadings", "intercepts"),
                  means = c("thresholds", "loadings", "intercepts", "means"),
                  residuals = c("thresholds", "loadings", "intercepts", "residuals"))
out <- list(lavaan = as.character(packageVersion("lavaan")),
            semTools = as.character(packageVersion("semTools")),
            model = model, vars = vars, group = "school",
            data = "tests/data/datasets/hs_ordinal.csv (HolzingerSwineford1939 x1..x9 cut at quartiles; x3 median split)")
for (prm in c("delta", "theta")) {
  lv <- if (prm == "delta") c("configural", "thresholds", "loadings", "intercepts", "means") else
    c("configural", "thresholds", "loadings", "intercepts", "residuals")
  fits <- list(); res <- list()
  for (nm in lv) {
    syn <- measEq.syntax(configural.model = model, data = d, ordered = vars, group = "school",
                         parameterization = prm, ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
                         group.equal = levels_eq[[nm]])
    txt <- as.character(syn)
    fit <- cfa(txt, data = d, ordered = vars, group = "school", parameterization = prm,
               optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
    fits[[nm]] <- fit
    res[[nm]] <- list(
      call = sprintf("cfa(as.character(measEq.syntax(model, data = d, ordered = vars, group = 'school', parameterization = '%s', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', group.equal = c(%s))), data = d, ordered = vars, group = 'school', parameterization = '%s', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                     prm, paste0("'", levels_eq[[nm]], "'", collapse = ", "), prm),
      group_equal = levels_eq[[nm]], syntax = txt,
      parameterEstimates = df_rows(parameterEstimates(fit)),
      fitMeasures = as.list(fitMeasures(fit)),
      vcov_diag = diag(as.matrix(vcov(fit))),
      converged = lavInspect(fit, "converged"))
  }
  # consecutive satorra.2000 (scaled-shifted) difference tests, lavaan's default for WLSMV
  lrt <- list()
  for (k in 2:length(lv)) {
    prev <- if (lv[k] == "residuals") "intercepts" else lv[k - 1]
    tt <- lavTestLRT(fits[[prev]], fits[[lv[k]]], method = "satorra.2000", model.names = c(prev, lv[k]))
    lrt[[paste(prev, lv[k], sep = "_vs_")]] <- list(
      call = sprintf("lavTestLRT(fit_%s, fit_%s, method = 'satorra.2000')", prev, lv[k]),
      table = df_rows(cbind(model = rownames(tt), as.data.frame(tt))))
  }
  res$lrt <- lrt
  # the sequence as one call (lavTestLRT orders by df and tests consecutive pairs)
  seq4 <- lavTestLRT(fits$configural, fits$thresholds, fits$loadings, fits$intercepts,
                     method = "satorra.2000", model.names = c("configural", "thresholds", "loadings", "intercepts"))
  res$lrt_sequence <- list(call = "lavTestLRT(configural, thresholds, loadings, intercepts, method = 'satorra.2000')",
                           table = df_rows(cbind(model = rownames(seq4), as.data.frame(seq4))))
  # score tests of the equality constraints of the intercepts model (partial invariance)
  sc <- lavTestScore(fits[["intercepts"]], univariate = TRUE, cumulative = TRUE)
  pt <- parTable(fits[["intercepts"]])
  res$score <- list(call = "lavTestScore(fit_intercepts, univariate = TRUE, cumulative = TRUE)",
                    test = df_rows(sc$test), uni = df_rows(sc$uni), cumulative = df_rows(sc$cumulative),
                    partable = df_rows(pt[, c("lhs", "op", "rhs", "group", "free", "label", "plabel")]))
  out[[prm]] <- res
  cat(prm, "done\n")
}

## partial invariance (semTools group.partial) and the DWLS estimator, delta parameterization
ge <- c("thresholds", "loadings", "intercepts")
gp <- c("x3 | t1", "x7 | t3", "x2 ~ 1")
txt <- as.character(measEq.syntax(configural.model = model, data = d, ordered = vars, group = "school",
                                  ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
                                  group.equal = ge, group.partial = gp))
fitp <- cfa(txt, data = d, ordered = vars, group = "school",
            optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
out$partial <- list(call = "cfa(as.character(measEq.syntax(model, ..., group.equal = c('thresholds', 'loadings', 'intercepts'), group.partial = c('x3 | t1', 'x7 | t3', 'x2 ~ 1'))), ..., optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                    group_equal = ge, group_partial = gp, syntax = txt,
                    parameterEstimates = df_rows(parameterEstimates(fitp)),
                    fitMeasures = as.list(fitMeasures(fitp)))
txt <- as.character(measEq.syntax(configural.model = model, data = d, ordered = vars, group = "school",
                                  ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
                                  group.equal = c("thresholds", "loadings")))
fitd <- cfa(txt, data = d, ordered = vars, group = "school", estimator = "DWLS",
            optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
out$dwls <- list(call = "cfa(as.character(measEq.syntax(model, ..., group.equal = c('thresholds', 'loadings'))), ..., estimator = 'DWLS', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                 group_equal = c("thresholds", "loadings"),
                 parameterEstimates = df_rows(parameterEstimates(fitd)),
                 fitMeasures = as.list(fitMeasures(fitd)))

## direct lavaan: multi-group ordinal CFA without constraints, std.lv (the configural model)
fit0 <- cfa(model, data = d, ordered = vars, group = "school", std.lv = TRUE)
out$lavaan_configural <- list(call = "cfa(model, data = d, ordered = vars, group = 'school', std.lv = TRUE)",
                              parameterEstimates = df_rows(parameterEstimates(fit0)),
                              fitMeasures = as.list(fitMeasures(fit0)),
                              th = lapply(lavInspect(fit0, "sampstat"), function(s) as.list(s$th)),
                              gamma_diag = lapply(lavInspect(fit0, "gamma"), diag))

## continuous partial invariance: score tests on HolzingerSwineford1939 (ML), scalar model
fitc <- cfa(model, data = HS, group = "school", group.equal = c("loadings", "intercepts"))
scc <- lavTestScore(fitc, univariate = TRUE, cumulative = TRUE)
ptc <- parTable(fitc)
fitc_p <- cfa(model, data = HS, group = "school", group.equal = c("loadings", "intercepts"),
              group.partial = c("x3 ~ 1", "x7 ~ 1"))
out$continuous_score <- list(
  call = "lavTestScore(cfa(model, data = HS, group = 'school', group.equal = c('loadings', 'intercepts')), univariate = TRUE, cumulative = TRUE)",
  test = df_rows(scc$test), uni = df_rows(scc$uni), cumulative = df_rows(scc$cumulative),
  partable = df_rows(ptc[, c("lhs", "op", "rhs", "group", "free", "label", "plabel")]),
  partial = list(call = "cfa(model, data = HS, group = 'school', group.equal = c('loadings', 'intercepts'), group.partial = c('x3 ~ 1', 'x7 ~ 1'))",
                 fitMeasures = as.list(fitMeasures(fitc_p))))

writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE),
           "tests/data/r_results/ordinal/ordinal_invariance.json")
cat("done\n")
