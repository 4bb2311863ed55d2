## lme4 on statsmodels' mixed-model test data (tests/data/datasets/statsmodels_lme, BSD-3), with
## the formulas of statsmodels' own lme_results.R: dependent random effects
## endog ~ 0 + fe + (0 + re_0 [+ re_1] | groups) and, with two random effects, independent ones
## (0 + re_0 | groups) + (0 + re_1 | groups); ML and REML.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/statsmodels_lme.R
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
dir <- "tests/data/datasets/statsmodels_lme"
out <- list()
for (fn in sort(list.files(dir, pattern = "^lme[0-9]+\\.csv$"))) {
  d <- read.csv(file.path(dir, fn))
  fe <- grep("exog_fe", names(d), value = TRUE); re <- grep("exog_re", names(d), value = TRUE)
  fmls <- list(drf = sprintf("endog ~ 0 + %s + (0 + %s | groups)", paste(fe, collapse = " + "),
                             paste(re, collapse = " + ")))
  if (length(re) > 1)
    fmls$irf <- sprintf("endog ~ 0 + %s + %s", paste(fe, collapse = " + "),
                        paste(sprintf("(0 + %s | groups)", re), collapse = " + "))
  for (k in names(fmls)) for (reml in c(FALSE, TRUE)) {
    m <- suppressWarnings(suppressMessages(lmer(as.formula(fmls[[k]]), d, REML = reml)))
    out[[length(out) + 1]] <- list(
      file = fn, rf = k, REML = reml, formula = fmls[[k]], logLik = as.numeric(logLik(m)),
      theta = unname(getME(m, "theta")), fixef = unname(fixef(m)),
      se = unname(sqrt(diag(as.matrix(vcov(m))))), isSingular = isSingular(m),
      conv_messages = m@optinfo$conv$lme4$messages)
  }
}
writeLines(toJSON(list(versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
                       fits = out), auto_unbox = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/multilevel/statsmodels_lme.json")
cat("done\n")
