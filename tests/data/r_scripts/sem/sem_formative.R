## lavaan 0.6-14 references for formative (composite) latent variables, '<~' (issue #20).
## lavaan frees every weight and fixes the composite's residual variance to 0, so the
## user identifies the composite by fixing one weight (1*x1), as here.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_formative.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
models <- list(
  pd_formative = 'ind60 <~ 1*x1 + x2 + x3
                  dem60 =~ y1 + y2 + y3 + y4
                  dem65 =~ y5 + y6 + y7 + y8
                  dem60 ~ ind60
                  dem65 ~ ind60 + dem60',
  hs_formative = 'vis <~ 1*x1 + x2 + x3
                  textual =~ x4 + x5 + x6
                  speed =~ x7 + x8 + x9
                  textual + speed ~ vis')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(models)) {
  dat <- if (startsWith(k, "pd")) PD else HS
  f <- sem(models[[k]], data = dat)
  out[[k]] <- list(model = models[[k]], converged = lavInspect(f, "converged"),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   standardizedSolution = df_rows(standardizedSolution(f)),
                   fitMeasures = nv(fitMeasures(f)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_formative.json")
cat("done\n")
