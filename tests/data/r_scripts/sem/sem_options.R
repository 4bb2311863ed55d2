## lavaan 0.6-14 references for the "wrong without a word" fixes of issue #20:
## fixed.x = FALSE in a MIMIC model (free covariate covariances), missing = "ml" with
## missing exogenous covariates (rows dropped) vs missing = "ml.x" (rows kept), and growth
## syntax given to sem() (no mean structure; the package warns).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_options.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv", stringsAsFactors = FALSE)
HSm <- HS                              # missing indicator cells only
HSm$x1[HSm$id %% 7 == 0] <- NA
HSm$x5[HSm$id %% 5 == 1] <- NA
HSx <- HSm                             # plus missing covariate cells (10% of rows or so)
HSx$ageyr[HSx$id %% 10 == 3] <- NA
HSx$sex[HSx$id %% 17 == 0] <- NA
DG <- read.csv("tests/data/datasets/Demo.growth.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
MIMIC <- 'visual =~ x1 + x2 + x3
          textual =~ x4 + x5 + x6
          speed =~ x7 + x8 + x9
          visual + textual + speed ~ sex + ageyr'
GROWTH <- 'i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
           s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4'
calls <- list(
  mimic_fixedx_false = 'sem(MIMIC, data = HS, fixed.x = FALSE)',
  mimic_fixedx_false_ml = 'sem(MIMIC, data = HSm, fixed.x = FALSE, missing = "ml")',
  mimic_ml_missing_x = 'sem(MIMIC, data = HSx, missing = "ml")',
  mimic_mlx_missing_x = 'sem(MIMIC, data = HSx, missing = "ml.x")',
  mimic_ml_missing_x_fixedx_false = 'sem(MIMIC, data = HSx, missing = "ml", fixed.x = FALSE)',
  growth_as_sem = 'sem(GROWTH, data = DG)')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            missing_rule = paste("HSm: x1 NA if id %% 7 == 0; x5 NA if id %% 5 == 1.",
                                 "HSx: HSm plus ageyr NA if id %% 10 == 3; sex NA if id %% 17 == 0"))
for (k in names(calls)) {
  f <- withCallingHandlers(eval(parse(text = calls[[k]])),
                           warning = function(w) { out[[paste0(k, "_warning")]] <<- conditionMessage(w)
                                                   invokeRestart("muffleWarning") })
  out[[k]] <- list(call = calls[[k]], converged = lavInspect(f, "converged"),
                   nobs = lavInspect(f, "nobs"), ntotal = lavInspect(f, "ntotal"),
                   case_idx = lavInspect(f, "case.idx"),   # 1-based rows of the data used
                   options = list(information = lavInspect(f, "options")$information,
                                  fixed.x = lavInspect(f, "options")$fixed.x,
                                  missing = lavInspect(f, "options")$missing),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_options.json")
cat("done\n")
