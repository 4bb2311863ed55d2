## lavaan 0.6-14 FIML (missing = "ml") references for psychometrics.sem.
## Missing values are put into HolzingerSwineford1939 deterministically (by id).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_fiml.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv", stringsAsFactors = FALSE)
HS$x1[HS$id %% 7 == 0] <- NA
HS$x5[HS$id %% 5 == 1] <- NA
HS$x9[HS$id %% 6 == 2] <- NA
HS$x3[HS$id %% 11 == 3] <- NA
HS$x2[HS$id %% 13 == 0 & HS$id %% 7 == 0] <- NA
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
mat <- function(m) { m <- as.matrix(unclass(m)); setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), colnames(m))), rownames(m)) }
HS.model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '
calls <- list(
  fiml = 'cfa(HS.model, data = HS, missing = "ml")',
  fiml_expected = 'cfa(HS.model, data = HS, missing = "ml", information = "expected")',
  fiml_groups = 'cfa(HS.model, data = HS, missing = "ml", group = "school", group.equal = "loadings")',
  fiml_mlr = 'cfa(HS.model, data = HS, missing = "ml", estimator = "MLR")')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            missing_rule = "x1 NA if id %% 7 == 0; x5 NA if id %% 5 == 1; x9 NA if id %% 6 == 2; x3 NA if id %% 11 == 3; x2 NA if id %% 91 == 0")
for (k in names(calls)) {
  f <- eval(parse(text = calls[[k]]))
  impl <- lavInspect(f, "implied"); if (lavInspect(f, "ngroups") == 1) impl <- list(impl)
  h1 <- lavInspect(f, "sampstat.h1"); if (lavInspect(f, "ngroups") == 1) h1 <- list(h1)
  out[[k]] <- list(call = calls[[k]], converged = lavInspect(f, "converged"),
                   nobs = lavInspect(f, "nobs"),
                   options = list(information = lavInspect(f, "options")$information),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   standardizedSolution_std_all = df_rows(standardizedSolution(f)),
                   fitMeasures = nv(fitMeasures(f)),
                   modindices_top10 = df_rows(modindices(f, sort. = TRUE, maximum.number = 10)),
                   h1_cov = lapply(h1, function(x) mat(x$cov)),
                   h1_mean = lapply(h1, function(x) nv(x$mean)))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_fiml.json")
cat("done\n")
