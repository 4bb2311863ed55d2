## lme4 formulas with factors and formula functions: poly(), scale(), I(), log(), exp(), sum
## contrasts, (a + b) * c, a factor without its main effect, functions in the random part,
## prior weights. Run from the repository root:
## Rscript tests/data/r_scripts/multilevel/formula_functions.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
D <- "tests/data/datasets"
ss <- read.csv(file.path(D, "sleepstudy.csv")); ss$Subject <- factor(ss$Subject)
tc <- read.csv(file.path(D, "therapy_conditions.csv"))
tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
one <- function(fit, call) {
  list(call = call, fixef = unname(fixef(fit)), fixef_names = names(fixef(fit)),
       se = unname(sqrt(diag(as.matrix(vcov(fit))))), theta = unname(getME(fit, "theta")),
       sigma = sigma(fit), loglik = as.numeric(logLik(fit)), nobs = nobs(fit),
       fitted_head = unname(head(fitted(fit), 5)))
}
res <- list(
  poly = one(lmer(Reaction ~ poly(Days, 2) + (Days | Subject), ss),
             "lmer(Reaction ~ poly(Days, 2) + (Days | Subject), sleepstudy)"),
  log_scale_I = one(lmer(log(Reaction) ~ scale(Days) + I(Days^2) + (1 | Subject), ss),
                    "lmer(log(Reaction) ~ scale(Days) + I(Days^2) + (1 | Subject), sleepstudy)"),
  exp = one(lmer(Reaction ~ exp(Days / 10) + (1 | Subject), ss),
            "lmer(Reaction ~ exp(Days / 10) + (1 | Subject), sleepstudy)"),
  group_product = one(lmer(oq ~ (month + I(month^2)) * condition + (1 | patient), tc),
                      "lmer(oq ~ (month + I(month^2)) * condition + (1 | patient), therapy_conditions)"),
  sum_contrasts = one(lmer(oq ~ month * C(condition, contr.sum) + (1 | patient), tc),
                      "lmer(oq ~ month * C(condition, contr.sum) + (1 | patient), therapy_conditions)"),
  no_main_effect = one(lmer(oq ~ 0 + condition + condition:month + (1 | patient), tc),
                       "lmer(oq ~ 0 + condition + condition:month + (1 | patient), therapy_conditions)"),
  random_log = one(lmer(oq ~ condition + log(month) + (1 + log(month) | patient), tc),
                   "lmer(oq ~ condition + log(month) + (1 + log(month) | patient), therapy_conditions)"),
  weights = one(lmer(oq ~ month * condition + (1 | patient), tc, weights = weeks),
                "lmer(oq ~ month * condition + (1 | patient), therapy_conditions, weights = weeks)"),
  weights_ml = one(lmer(oq ~ month + (month | patient), tc, weights = weeks, REML = FALSE),
                   "lmer(oq ~ month + (month | patient), therapy_conditions, weights = weeks, REML = FALSE)"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/multilevel/formula_functions.json")
str(res$no_main_effect$fixef_names); str(res$sum_contrasts$fixef_names)
