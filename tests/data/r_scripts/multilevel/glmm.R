## lme4 1.1-31 glmer references: binomial (Laplace and adaptive GHQ), Poisson with an offset,
## random slopes. Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
D <- "tests/data/datasets"
cbpp <- read.csv(file.path(D, "cbpp.csv")); cbpp$herd <- factor(cbpp$herd); cbpp$period <- factor(cbpp$period)
gt <- read.csv(file.path(D, "grouseticks.csv")); gt$YEAR <- factor(gt$YEAR)
gt$BROOD <- factor(gt$BROOD); gt$LOCATION <- factor(gt$LOCATION)
tc <- read.csv(file.path(D, "therapy_conditions.csv"))
tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
one <- function(fit, call) {
  re <- ranef(fit, condVar = TRUE)[[1]]
  pv <- attr(re, "postVar")
  list(call = call, nagq = fit@devcomp$dims[["nAGQ"]],
       fixef = unname(fixef(fit)), fixef_names = names(fixef(fit)),
       se = unname(sqrt(diag(as.matrix(vcov(fit))))),
       theta = unname(getME(fit, "theta")), loglik = as.numeric(logLik(fit)),
       aic = AIC(fit), bic = BIC(fit), df = attr(logLik(fit), "df"), nobs = nobs(fit),
       varcorr = as.data.frame(VarCorr(fit))[, c("var1", "var2", "vcov", "sdcor")],
       ranef = unname(as.matrix(re)), ranef_levels = rownames(re),
       condvar = unname(apply(pv, 3, function(m) m[lower.tri(m, diag = TRUE)])),
       predict_link_head = unname(head(predict(fit), 6)),
       predict_response_fixed_head = unname(head(predict(fit, re.form = NA, type = "response"), 6)),
       coef_z = unname(summary(fit)$coefficients[, "z value"]),
       coef_p = unname(summary(fit)$coefficients[, "Pr(>|z|)"]))
}
## Each model twice: lme4's defaults ("default": our logLik must not be below it) and with an
## exact Laplace/AGQ deviance and a tight optimiser ("tight": lme4's PIRLS tolerance 1e-7 leaves
## the conditional modes inexact, which raises its deviance by up to ~1e-3; with
## tolPwrss = 1e-12 lme4's own optimum agrees with ours to ~1e-8).
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
both <- function(f, call) list(default = one(f(glmerControl()), call),
                               tight = one(f(ctl), paste0(call, " with control = glmerControl(optimizer = 'bobyqa', tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))")))
t0 <- Sys.time()
res <- list(
  cbpp_laplace = both(function(c) glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, control = c),
                     "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial)"),
  cbpp_agq10 = both(function(c) glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, nAGQ = 10, control = c),
                   "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, nAGQ = 10)"),
  cbpp_weights = both(function(c) glmer(incidence / size ~ period + (1 | herd), cbpp, family = binomial, weights = size, control = c),
                     "glmer(incidence / size ~ period + (1 | herd), cbpp, family = binomial, weights = size)"),
  grouse = both(function(c) glmer(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), gt, family = poisson, control = c),
               "glmer(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), grouseticks, family = poisson)"),
  grouse_brood = both(function(c) glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD), gt, family = poisson, control = c),
                     "glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD), grouseticks, family = poisson)"),
  therapy_improved = both(function(c) glmer(improved ~ month + condition + (1 | patient), tc, family = binomial, control = c),
                         "glmer(improved ~ month + condition + (1 | patient), therapy_conditions, family = binomial)"),
  therapy_improved_agq = both(function(c) glmer(improved ~ month + condition + (1 | patient), tc, family = binomial, nAGQ = 7, control = c),
                             "glmer(improved ~ month + condition + (1 | patient), therapy_conditions, family = binomial, nAGQ = 7)"),
  therapy_improved_slope = both(function(c) glmer(improved ~ month * condition + (month | patient), tc, family = binomial, control = c),
                               "glmer(improved ~ month * condition + (month | patient), therapy_conditions, family = binomial)"),
  therapy_sessions = both(function(c) glmer(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc, family = poisson, control = c),
                         "glmer(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), therapy_conditions, family = poisson)"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
print(Sys.time() - t0)
# compare(): anova(m0, m1) of two nested binomial GLMMs
m0 <- glmer(improved ~ month + (1 | patient), tc, family = binomial, control = ctl)
m1 <- glmer(improved ~ month + condition + (1 | patient), tc, family = binomial, control = ctl)
a <- anova(m0, m1)
res$compare <- list(call = "anova(glmer(improved ~ month + (1 | patient)), glmer(improved ~ month + condition + (1 | patient))), both with the tight control",
                    npar = a$npar, loglik = a$logLik, chisq = a$Chisq, df = a$Df, p = a[["Pr(>Chisq)"]])
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null", matrix = "rowmajor"),
           "tests/data/r_results/multilevel/glmm.json")
for (k in names(res)) if (!is.null(res[[k]]$default)) cat(k, res[[k]]$default$loglik, res[[k]]$tight$loglik, "\n")
