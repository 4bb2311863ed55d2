## lavaan 0.6-14 least-squares estimators for continuous data (issue #20): GLS, WLS (ADF)
## and ULS on the HS CFA and PoliticalDemocracy.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_ls.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
HS_MODEL <- 'visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9'
PD_MODEL <- '
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
    dem60 ~ g1*ind60
    dem65 ~ g2*ind60 + b2*dem60
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
    indirect := g1*b2'
calls <- list(hs_gls = 'cfa(HS_MODEL, data = HS, estimator = "GLS")',
              hs_wls = 'cfa(HS_MODEL, data = HS, estimator = "WLS")',
              hs_uls = 'cfa(HS_MODEL, data = HS, estimator = "ULS")',
              pd_gls = 'sem(PD_MODEL, data = PD, estimator = "GLS")',
              pd_uls = 'sem(PD_MODEL, data = PD, estimator = "ULS")')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(calls)) {
  f <- eval(parse(text = calls[[k]]))
  out[[k]] <- list(call = calls[[k]], options = list(se = lavInspect(f, "options")$se,
                                                     test = lavInspect(f, "options")$test),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_ls.json")
cat("done\n")
