## Profile-likelihood and Wald intervals of a binomial GLMM (lme4 confint.merMod).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_confint.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
cbpp <- read.csv("tests/data/datasets/cbpp.csv"); cbpp$herd <- factor(cbpp$herd); cbpp$period <- factor(cbpp$period)
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
fit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, control = ctl)
pr <- confint(fit, method = "profile")
wa <- confint(fit, method = "Wald")
res <- list(call = "confint(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, control = tight), method = 'profile' / 'Wald')",
            rows = rownames(pr), profile = unname(pr), wald = unname(wa),
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null", matrix = "rowmajor", na = "null"),
           "tests/data/r_results/multilevel/glmm_confint.json")
print(pr); print(wa)
