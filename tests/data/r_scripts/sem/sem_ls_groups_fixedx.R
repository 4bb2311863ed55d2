## lavaan 0.6-14 least-squares estimators (GLS, WLS, ULS) with fixed.x covariates (a MIMIC
## model) and with two groups (configural and equal loadings) (issue #20).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_ls_groups_fixedx.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
HS_MODEL <- 'visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9'
MIMIC <- 'visual =~ x1 + x2 + x3
          textual =~ x4 + x5 + x6
          visual + textual ~ sex + ageyr'
calls <- list()
for (e in c("GLS", "WLS", "ULS")) {
  calls[[paste0("mimic_", tolower(e))]] <- sprintf('sem(MIMIC, data = HS, estimator = "%s")', e)
  calls[[paste0("groups_", tolower(e))]] <- sprintf('cfa(HS_MODEL, data = HS, group = "school", estimator = "%s")', e)
  calls[[paste0("groups_loadings_", tolower(e))]] <- sprintf('cfa(HS_MODEL, data = HS, group = "school", group.equal = "loadings", estimator = "%s")', e)
}
## lavaan sets fixed.x = FALSE for these estimators unless fixed.x = TRUE is given
for (e in c("GLS", "WLS", "ULS"))
  calls[[paste0("mimic_fixedx_", tolower(e))]] <- sprintf('sem(MIMIC, data = HS, estimator = "%s", fixed.x = TRUE)', e)
calls$mimic_gls_meanstructure <- 'sem(MIMIC, data = HS, estimator = "GLS", meanstructure = TRUE)'
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(calls)) {
  f <- eval(parse(text = calls[[k]]))
  out[[k]] <- list(call = calls[[k]], converged = lavInspect(f, "converged"),
                   fixed_x = lavInspect(f, "options")$fixed.x,
                   options = list(se = lavInspect(f, "options")$se, test = lavInspect(f, "options")$test),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)))
  cat(k, fitMeasures(f, "chisq"), "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_ls_groups_fixedx.json")
cat("done\n")
