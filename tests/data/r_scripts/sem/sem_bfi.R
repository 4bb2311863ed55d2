## lavaan 0.6-14: five-factor CFA of the 25 bfi items, listwise and FIML.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_bfi.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
b <- read.csv("tests/data/datasets/bfi.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
m <- 'A =~ A1 + A2 + A3 + A4 + A5
C =~ C1 + C2 + C3 + C4 + C5
E =~ E1 + E2 + E3 + E4 + E5
N =~ N1 + N2 + N3 + N4 + N5
O =~ O1 + O2 + O3 + O4 + O5'
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))), model = m)
for (k in c("listwise", "ml")) {
  f <- cfa(m, data = b, missing = k)
  out[[k]] <- list(call = sprintf('cfa(model, data = bfi, missing = "%s")', k),
                   nobs = lavInspect(f, "nobs"),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = as.list(unclass(fitMeasures(f))),
                   modindices_top10 = df_rows(modindices(f, sort. = TRUE, maximum.number = 10)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_bfi.json")
cat("done\n")
