## lavaan 0.6-14 estimator = "MLR" for two-level models (robust.huber.white SEs, observed information).
## Run from the repository root:  Rscript tests/data/r_scripts/twolevel/twolevel_mlr.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
TS <- read.csv("tests/data/datasets/therapy_sim.csv"); D <- read.csv("tests/data/datasets/Demo.twolevel.csv")
items <- paste0("wai_", 1:12)
m1 <- paste0("level: 1\n  wai_w =~ ", paste(items, collapse = " + "), "\nlevel: 2\n  wai_b =~ ", paste(items, collapse = " + "), "\n")
mD <- '
level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
'
f1 <- suppressWarnings(sem(m1, data = TS, cluster = "patient_id", estimator = "MLR"))
fD <- sem(mD, data = D, cluster = "cluster", estimator = "MLR")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
out <- list(therapy = list(pe = df_rows(parameterEstimates(f1)), fm = as.list(fitMeasures(f1))),
            demo = list(pe = df_rows(parameterEstimates(fD)), fm = as.list(fitMeasures(fD))))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null"), "tests/data/r_results/twolevel/twolevel_mlr.json")
print(lavInspect(fD, "options")[c("se", "test", "information", "observed.information", "h1.information")])
