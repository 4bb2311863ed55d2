## lme4 1.1-31 glmer with several grouping factors (issue 22): grouseticks, Poisson, Laplace,
## TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION) (INDEX: one level per row,
## an observation-level random effect), and the same with the centred height cHEIGHT.
## Each model with lme4's defaults ("default": our logLik must not be below it) and with a tight
## PIRLS tolerance and optimiser ("tight", compared element-wise).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_multi.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
D <- "tests/data/datasets"
gt <- read.csv(file.path(D, "grouseticks.csv")); gt$YEAR <- factor(gt$YEAR)
gt$BROOD <- factor(gt$BROOD); gt$LOCATION <- factor(gt$LOCATION); gt$INDEX <- factor(gt$INDEX)
one <- function(fit, call) {
  re <- ranef(fit)
  list(call = call, fixef = unname(fixef(fit)), fixef_names = names(fixef(fit)),
       se = unname(sqrt(diag(as.matrix(vcov(fit))))),
       theta = unname(getME(fit, "theta")), theta_names = names(getME(fit, "theta")),
       loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
       df = attr(logLik(fit), "df"), nobs = nobs(fit), ngrps = as.list(ngrps(fit)),
       varcorr = as.data.frame(VarCorr(fit))[, c("grp", "var1", "vcov", "sdcor")],
       ranef_brood_head = unname(head(re$BROOD[, 1], 5)),
       ranef_location_head = unname(head(re$LOCATION[, 1], 5)),
       ranef_index_head = unname(head(re$INDEX[, 1], 5)),
       predict_link_head = unname(head(predict(fit), 6)),
       predict_brood_only_head = unname(head(predict(fit, re.form = ~(1 | BROOD)), 6)),
       coef_z = unname(summary(fit)$coefficients[, "z value"]),
       messages = fit@optinfo$conv$lme4$messages)
}
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
both <- function(f, call) list(default = one(f(glmerControl()), call),
                               tight = one(f(ctl), paste0(call, " with control = glmerControl(optimizer = 'bobyqa', tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))")))
t0 <- Sys.time()
res <- list(
  grouse3 = both(function(c) glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), gt, family = poisson, control = c),
                 "glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), grouseticks, family = poisson)"),
  grouse3_c = both(function(c) glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), gt, family = poisson, control = c),
                   "glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), grouseticks, family = poisson)"))
t1 <- Sys.time()
## "polished": lme4's default fit refitted from its own estimates with an exact PIRLS and
## nloptwrap's tight tolerances (the "tight" bobyqa run above stalls on this flat optimum)
pol <- function(form) {
  f0 <- glmer(form, gt, family = poisson)
  glmer(form, gt, family = poisson, start = list(theta = getME(f0, "theta"), fixef = fixef(f0)),
        control = glmerControl(optimizer = "nloptwrap", tolPwrss = 1e-12,
                               optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5)))
}
res$grouse3_c$polished <- one(pol(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)),
  "glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), grouseticks, family = poisson, start = <default fit>, control = glmerControl(optimizer = 'nloptwrap', tolPwrss = 1e-12, optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5)))")
res$timing_seconds <- as.numeric(difftime(t1, t0, units = "secs"))
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/glmm_multi.json")
