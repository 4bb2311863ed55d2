## lme4 profile-likelihood intervals (confint(fit, method = "profile")) of linear mixed models
## with one and several grouping factors: random-effect SDs and correlations (.sig01, ...),
## the residual SD (.sigma) and the fixed effects. lme4 profiles the ML deviance (a REML fit is
## refitted by ML, devfun2) and inverts an interpolating spline of the profile; the tests compare
## with the exact profile roots (tolerance discussed in tests/multilevel/test_multilevel_profile.py).
## Data: sleepstudy (tests/data/datasets/sleepstudy.csv) and the data frames stored in
## nested_crossed.json (Pastes, Penicillin, simulated therapy data).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/lmm_profile.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
options(warn = 1)
OUT <- "tests/data/r_results/multilevel/lmm_profile.json"
ss <- read.csv("tests/data/datasets/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
nc <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data
pastes <- nc$pastes; pen <- nc$penicillin; therapy <- nc$therapy; therapy2 <- nc$therapy2

calls <- list(
  sleep_slope = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)",
  sleep_uncorr = "lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = FALSE)",
  pastes_nested = "lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = TRUE)",
  penicillin_crossed = "lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = TRUE)",
  therapy_nested = "lmer(y ~ x + (1 | therapist/patient), therapy, REML = TRUE)",
  therapy2_slope = "lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = TRUE)"
)
fits <- list(
  sleep_slope = lmer(Reaction ~ Days + (Days | Subject), ss, REML = TRUE),
  sleep_uncorr = lmer(Reaction ~ Days + (Days || Subject), ss, REML = FALSE),
  pastes_nested = lmer(strength ~ 1 + (1 | batch/cask), pastes, REML = TRUE),
  penicillin_crossed = lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen, REML = TRUE),
  therapy_nested = lmer(y ~ x + (1 | therapist/patient), therapy, REML = TRUE),
  therapy2_slope = lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = TRUE)
)
res <- list()
for (nm in names(fits)) {
  fit <- fits[[nm]]
  ci <- confint(fit, method = "profile", level = 0.95, oldNames = TRUE)
  ci90 <- confint(fit, method = "profile", level = 0.90, oldNames = TRUE)
  res[[nm]] <- list(call = calls[[nm]],
                    rcall = sprintf("confint(%s, method = \"profile\")", calls[[nm]]),
                    theta = unname(getME(fit, "theta")), sigma = sigma(fit),
                    logLik_ml = as.numeric(logLik(refitML(fit))),
                    names = rownames(ci), ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]),
                    ci90_lower = unname(ci90[, 1]), ci90_upper = unname(ci90[, 2]),
                    names_new = rownames(confint(fit, method = "Wald", oldNames = FALSE)))
}
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),  OUT)
