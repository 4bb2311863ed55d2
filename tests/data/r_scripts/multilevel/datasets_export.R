## Export R datasets used by the multilevel tests to tests/data/datasets (CSV).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/datasets_export.R
suppressPackageStartupMessages({library(lme4); library(nlme)})
D <- "tests/data/datasets"
data(Orthodont, package = "nlme")
o <- as.data.frame(Orthodont); o$Subject <- as.character(o$Subject); o$Sex <- as.character(o$Sex)
write.csv(o, file.path(D, "orthodont.csv"), row.names = FALSE)       # Sex levels in R: Male, Female
data(cake, package = "lme4")
ck <- cake; ck$temperature <- NULL
write.csv(ck, file.path(D, "cake.csv"), row.names = FALSE)
data(cbpp, package = "lme4"); write.csv(cbpp, file.path(D, "cbpp.csv"), row.names = FALSE)
data(grouseticks, package = "lme4"); write.csv(grouseticks, file.path(D, "grouseticks.csv"), row.names = FALSE)
