## lavaan 0.6-14 fits of the CFA syntax psychometrics.sem.cfa_model() writes for the WAI-SR bank,
## on the simulated therapy data. Run from the repository root:
##   Rscript tests/data/r_scripts/sem/sem_instruments.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
d <- read.csv("tests/data/datasets/therapy_sim.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
models <- list(
  wai_sr_standard = "task =~ wai_1 + wai_2 + wai_10 + wai_12
bond =~ wai_3 + wai_5 + wai_7 + wai_9
goal =~ wai_4 + wai_6 + wai_8 + wai_11",
  wai_sr_two_factor = "bond =~ wai_3 + wai_5 + wai_7 + wai_9
goal_task =~ wai_1 + wai_2 + wai_4 + wai_6 + wai_8 + wai_10 + wai_11 + wai_12")
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(models)) {
  f <- cfa(models[[k]], data = d)
  out[[k]] <- list(call = sprintf("cfa(model, data = therapy_sim)"), model = models[[k]],
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_instruments.json")
cat("done\n")
