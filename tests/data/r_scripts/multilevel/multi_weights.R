## lmerTest with prior weights and several grouping factors (issue 22/23): the simulated therapy
## data of nested_crossed.json, weights w = 1 + (month %% 3) / 2.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/multi_weights.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
d <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data$therapy
d$w <- 1 + (d$month %% 3) / 2
one <- function(fit) list(theta = unname(getME(fit, "theta")), sigma = sigma(fit),
  fixef = unname(fixef(fit)), se = unname(sqrt(diag(as.matrix(vcov(fit))))),
  df = unname(summary(fit)$coefficients[, "df"]), logLik = as.numeric(logLik(fit)),
  AIC = AIC(fit), fitted_head = unname(head(fitted(fit), 5)))
res <- list(
  call = "lmer(y ~ x + (1 | therapist/patient), therapy, weights = 1 + (month %% 3) / 2, REML = TRUE / FALSE)",
  reml = one(lmer(y ~ x + (1 | therapist/patient), d, weights = w)),
  ml = one(lmer(y ~ x + (1 | therapist/patient), d, weights = w, REML = FALSE)),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/multi_weights.json")
