## lavaan 0.6-14 Bollen-Stine bootstrap p-value on PoliticalDemocracy (a model that fits,
## so the p-value is not 0) for psychometrics.sem (issue #20).
## Also a FIML bootstrap (missing = "ml", 500 draws) of the HS CFA with deleted cells.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_bollen_stine.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
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
    y6 ~~ y8'
set.seed(3)
f <- sem(PD_MODEL, data = PD, test = "bollen.stine", bootstrap = 1000L)
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            pd_bollen_stine = list(
              call = 'set.seed(3); sem(PD_MODEL, data = PD, test = "bollen.stine", bootstrap = 1000L)',
              test = lapply(lavInspect(f, "test"), function(t) t[c("test", "stat", "df", "pvalue")])))
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
HS$x1[HS$id %% 7 == 0] <- NA
HS$x5[HS$id %% 5 == 1] <- NA
HS$x9[HS$id %% 6 == 2] <- NA
HS_MODEL <- 'visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9'
set.seed(5)
f2 <- cfa(HS_MODEL, data = HS, missing = "ml", se = "bootstrap", bootstrap = 500L)
out$hs_fiml_boot <- list(
  call = 'set.seed(5); cfa(HS_MODEL, data = HS, missing = "ml", se = "bootstrap", bootstrap = 500L)',
  n_successful = nrow(lavInspect(f2, "boot")),
  parameterEstimates = { x <- as.data.frame(parameterEstimates(f2)); rownames(x) <- NULL; class(x) <- "data.frame"; x })
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_bollen_stine.json")
cat("done\n")
