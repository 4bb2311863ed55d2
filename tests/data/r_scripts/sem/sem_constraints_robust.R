## lavaan 0.6-14 references for general constraints together with MLR (robust.huber.white
## SEs, Yuan-Bentler scaled test) and with bootstrap SEs (issue #20).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_constraints_robust.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
REG <- 'x9 ~ b1*x1 + b2*x2 + b3*x3'
PDM <- 'ind60 =~ x1 + x2 + x3
        dem60 =~ y1 + y2 + y3 + y4
        dem65 =~ y5 + y6 + y7 + y8
        dem60 ~ a*ind60
        dem65 ~ c*ind60 + b*dem60
        y1 ~~ y5
        ab := a*b
        c == 0.5*ab'
models <- list(
  mlr_reg_nonlin_eq = list(model = paste(REG, '\n b1 == (b2 + b3)^2'), data = "HS"),
  mlr_reg_ineq_active = list(model = paste(REG, '\n b2 > 0.1'), data = "HS"),
  mlr_cfa_linear_eq = list(model = 'visual =~ x1 + l2*x2 + l3*x3
                   textual =~ x4 + x5 + x6
                   speed =~ x7 + x8 + x9
                   l2 == 0.5*l3 + 0.2', data = "HS"),
  mlr_pd_ratio = list(model = PDM, data = "PD"))
fm_keys <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
             "pvalue.scaled", "chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled",
             "cfi.robust", "tli.robust", "rmsea", "rmsea.scaled", "rmsea.robust", "srmr",
             "logl", "aic", "bic")
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(models)) {
  dat <- if (models[[k]]$data == "PD") PD else HS
  f <- sem(models[[k]]$model, data = dat, estimator = "MLR")
  out[[k]] <- list(model = models[[k]]$model, data = models[[k]]$data,
                   call = "sem(model, data, estimator = 'MLR')",
                   converged = lavInspect(f, "converged"),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f, fm_keys)))
}
save <- function() writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null",
                                      null = "null", dataframe = "rows", force = TRUE),
                               "tests/data/r_results/sem/sem_constraints_robust.json")
save()
## bootstrap under a nonlinear equality (ordinary bootstrap, 500 draws: lavaan refits each
## draw with its constrained optimizer, minutes per case on the shared machine);
## ours is compared within Monte Carlo error
boot <- list(
  boot_reg_nonlin_eq = list(model = paste(REG, '\n b1 == (b2 + b3)^2'), data = "HS", seed = 11),
  boot_pd_ratio = list(model = PDM, data = "PD", seed = 12))
NBOOT <- 500L
for (k in names(boot)) {
  dat <- if (boot[[k]]$data == "PD") PD else HS
  set.seed(boot[[k]]$seed)
  t <- system.time(f <- sem(boot[[k]]$model, data = dat, se = "bootstrap", bootstrap = NBOOT))
  B <- lavInspect(f, "boot")
  out[[k]] <- list(model = boot[[k]]$model, data = boot[[k]]$data,
                   call = sprintf("set.seed(%d); sem(model, data, se = 'bootstrap', bootstrap = %dL)", boot[[k]]$seed, NBOOT),
                   n_successful = nrow(B), seconds = t[["elapsed"]],
                   parameterEstimates = df_rows(parameterEstimates(f)))
  cat(k, nrow(B), t[["elapsed"]], "\n")
  save()
}
cat("done\n")
