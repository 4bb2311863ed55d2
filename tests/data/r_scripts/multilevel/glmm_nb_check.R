## Issue 22: why our glmer.nb-type fit of the therapy session counts has a higher logLik than
## lme4's glmer.nb (nb theta 43.59 vs 92.04). glmer with the negative binomial family at a FIXED
## dispersion (MASS::negative.binomial(theta)) evaluates lme4's own maximised logLik at our
## dispersion and at lme4's; if lme4's is higher at ours, glmer.nb stopped its outer search for
## theta early (theta.ml on a flat profile), and our optimum is lme4's likelihood's optimum.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_nb_check.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(MASS)})
tc <- read.csv("tests/data/datasets/therapy_conditions.csv")
tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
ours <- 43.58679626771372
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
fixed_at <- function(th) glmer(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc,
                               family = negative.binomial(theta = th), control = ctl)
nb <- glmer.nb(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc)
f_ours <- fixed_at(ours); f_lme4 <- fixed_at(getME(nb, "glmer.nb.theta"))
## a grid of the profile over the dispersion: the maximum is near ours
grid <- c(20, 30, 40, 43.58679626771372, 50, 60, 92.04, 150)
prof <- sapply(grid, function(th) as.numeric(logLik(fixed_at(th))))
res <- list(call = "glmer(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), therapy_conditions, family = MASS::negative.binomial(theta = th))",
            glmer_nb_theta = getME(nb, "glmer.nb.theta"), glmer_nb_loglik = as.numeric(logLik(nb)),
            loglik_at_ours = as.numeric(logLik(f_ours)), fixef_at_ours = unname(fixef(f_ours)),
            theta_at_ours = unname(getME(f_ours, "theta")),
            loglik_at_lme4_theta = as.numeric(logLik(f_lme4)),
            profile_grid = grid, profile_loglik = prof,
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/glmm_nb_check.json")
