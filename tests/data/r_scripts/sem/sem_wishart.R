## lavaan 0.6-14 likelihood = "wishart" references (issue #20): HS CFA, one and two
## groups, and PoliticalDemocracy with defined parameters.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_wishart.R
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
    indirect := g1*b2
    total := g2 + g1*b2'
calls <- list(hs = 'cfa(HS_MODEL, data = HS, likelihood = "wishart")',
              hs_groups = 'cfa(HS_MODEL, data = HS, likelihood = "wishart", group = "school")',
              pd = 'sem(PD_MODEL, data = PD, likelihood = "wishart")')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(calls)) {
  f <- eval(parse(text = calls[[k]]))
  out[[k]] <- list(call = calls[[k]], parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_wishart.json")
cat("done\n")
