## Ordinal CFA with WLSMV (lavaan 0.6-14 defaults for ordered indicators), references for
## psychometrics.sem.fit(model, data, ordered=...).
## Run from the repository root:  Rscript tests/data/r_scripts/ordinal/ordinal_wlsmv.R
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
d <- bfi[, c(paste0("A", 1:5), paste0("C", 1:5))]
d$A1 <- 7 - d$A1          # A1 reversed (as case4_reliability.R)
d$C4 <- 7 - d$C4; d$C5 <- 7 - d$C5
models <- list(
  one_factor = list(model = "agree =~ A1 + A2 + A3 + A4 + A5", vars = paste0("A", 1:5)),
  two_factor = list(model = "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5",
                    vars = c(paste0("A", 1:5), paste0("C", 1:5))),
  resid_cov = list(model = "agree =~ A1 + A2 + A3 + A4 + A5\nA4 ~~ A5", vars = paste0("A", 1:5)),
  wai_std_lv = list(model = "task =~ wai_1 + wai_2 + wai_10 + wai_12\nbond =~ wai_3 + wai_5 + wai_7 + wai_9\ngoal =~ wai_4 + wai_6 + wai_8 + wai_11",
                    vars = paste0("wai_", 1:12), std.lv = TRUE, data = "therapy_sim month == 1"),
  binary = list(model = "agree =~ A1 + A2 + A3 + A4 + A5", vars = paste0("A", 1:5),
                data = "bfi A1..A5 (A1 reversed) dichotomised: 1 if x <= 3, 2 if x >= 4"),
  theta_two_factor = list(model = "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5\nA4 ~~ A5",
                          vars = c(paste0("A", 1:5), paste0("C", 1:5)), parameterization = "theta"))
th <- read.csv("tests/data/datasets/therapy_sim.csv", stringsAsFactors = FALSE)
## (g) small synthetic binary data with one empty cell in the y1 x y2 table (lavaan adds
##     0.5 to the empty cell keeping the margins); the data are stored in the JSON
set.seed(20261126)
nsim <- 120
f <- rnorm(nsim)
ysim <- sapply(1:4, function(k) as.integer(0.8 * f + rnorm(nsim, sd = 0.6) > c(-0.3, 0.2, 0, 0.4)[k]) + 1L)
colnames(ysim) <- paste0("y", 1:4)
ysim[ysim[, "y1"] == 2 & ysim[, "y2"] == 1, "y2"] <- 2L     # empty cell (y1 = 2, y2 = 1)
ysim <- as.data.frame(ysim)
models$big_five <- list(model = paste(sapply(c("A", "C", "E", "N", "O"), function(f)
                          paste0(f, "f =~ ", paste0(f, 1:5, collapse = " + "))), collapse = "\n"),
                        vars = c(outer(1:5, c("A", "C", "E", "N", "O"), function(i, f) paste0(f, i))),
                        data = "bfi 25 items, no reversal")
models$binary_empty_cell <- list(model = "f =~ y1 + y2 + y3 + y4", vars = paste0("y", 1:4),
                                 data = "synthetic (stored in 'data_values')")
wai1 <- th[th$month == 1, paste0("wai_", 1:12)]
mat <- function(m) { m <- as.matrix(unclass(m)); list(rownames = rownames(m), colnames = colnames(m), values = unname(split(m, row(m)))) }
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
out <- list(lavaan = as.character(packageVersion("lavaan")), semTools = as.character(packageVersion("semTools")),
            data_note = "bfi A1..A5, C1..C5; A1, C4, C5 reversed as 7 - x; listwise deletion over the model variables")
for (nm in names(models)) {
  m <- models[[nm]]
  dd <- if (is.null(m$data)) d[, m$vars] else if (nm == "binary") (d[, m$vars] >= 4) + 1L else
        if (nm == "binary_empty_cell") ysim else if (nm == "big_five") bfi[, m$vars] else wai1
  slv <- isTRUE(m$std.lv)
  prm <- if (is.null(m$parameterization)) "delta" else m$parameterization
  fit <- cfa(m$model, data = dd, ordered = m$vars, std.lv = slv, parameterization = prm)
  fitD <- cfa(m$model, data = dd, ordered = m$vars, estimator = "DWLS", std.lv = slv, parameterization = prm)
  ss <- lavInspect(fit, "sampstat")
  fm <- fitMeasures(fit)
  invisible(cfa(m$model, data = dd, ordered = m$vars, std.lv = slv, parameterization = prm))   # warm-up
  tms <- sapply(1:15, function(i) system.time(cfa(m$model, data = dd, ordered = m$vars, std.lv = slv, parameterization = prm))[["elapsed"]])
  tm <- median(tms)
  crs <- tryCatch(as.list(compRelSEM(fit)), error = function(e) conditionMessage(e))
  out[[nm]] <- list(
    call = sprintf("cfa(model, data = d[, vars], ordered = vars, std.lv = %s, parameterization = '%s')  # model: %s", slv, prm, m$model),
    model = m$model, vars = m$vars, nobs = lavInspect(fit, "nobs"), std_lv = slv, parameterization = prm,
    data = if (is.null(m$data)) "bfi (A1, C4, C5 reversed)" else m$data,
    estimator = lavInspect(fit, "options")$estimator,
    parameterEstimates = df_rows(parameterEstimates(fit)),
    standardizedSolution = df_rows(standardizedSolution(fit)),
    fitMeasures = as.list(fm),
    th = as.list(ss$th), cov = mat(ss$cov),
    wls_obs = as.numeric(lavInspect(fit, "wls.obs")),
    wls_v_diag = diag(as.matrix(lavInspect(fit, "wls.v"))),
    nacov = if (length(m$vars) <= 12) mat(lavInspect(fit, "gamma")) else NULL,
    nacov_diag = diag(lavInspect(fit, "gamma")),
    vcov_diag = diag(as.matrix(vcov(fit))),
    vcov_diag_named = as.list(diag(as.matrix(vcov(fit)))),
    rsquare = as.list(lavInspect(fit, "rsquare")),
    fmin = as.numeric(fm[["fmin"]]),
    dwls = list(call = "cfa(model, data, ordered = vars, estimator = 'DWLS')",
                parameterEstimates = df_rows(parameterEstimates(fitD)),
                fitMeasures = as.list(fitMeasures(fitD))),
    compRelSEM = crs,
    data_values = if (nm == "binary_empty_cell") as.list(ysim) else NULL,
    timing_s = tm, timing_call = "median of 15 timed cfa(model, data = d[, vars], ordered = vars) calls after a warm-up (system.time elapsed, seconds)")
  cat(nm, "elapsed per fit", tm, "\n"); print(crs)
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE),
           "tests/data/r_results/ordinal/ordinal_wlsmv.json")
cat("done\n")
