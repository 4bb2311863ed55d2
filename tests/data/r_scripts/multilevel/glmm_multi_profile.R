## lme4 confint(method = "profile") for the three-factor Poisson GLMM on grouseticks (issue 22):
## glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), family = poisson).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_multi_profile.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
gt <- read.csv("tests/data/datasets/grouseticks.csv"); gt$YEAR <- factor(gt$YEAR)
gt$BROOD <- factor(gt$BROOD); gt$LOCATION <- factor(gt$LOCATION); gt$INDEX <- factor(gt$INDEX)
fit <- glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), gt, family = poisson)
ci <- confint(fit, method = "profile", oldNames = TRUE)
wald <- confint(fit, method = "Wald")
res <- list(call = "confint(glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), grouseticks, family = poisson), method = 'profile')",
            theta_names = names(getME(fit, "theta")), names = rownames(ci),
            ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]),
            wald_lower = unname(wald[names(fixef(fit)), 1]), wald_upper = unname(wald[names(fixef(fit)), 2]),
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/glmm_multi_profile.json")
