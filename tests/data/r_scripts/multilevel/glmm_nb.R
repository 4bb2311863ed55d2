## Negative binomial GLMMs (lme4 1.1-31 glmer.nb), default and a tight optimiser (bobyqa, rhoend
## 1e-12; a tighter tolPwrss makes pwrssUpdate fail inside glmer.nb).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_nb.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
gt <- read.csv("tests/data/datasets/grouseticks.csv"); gt$YEAR <- factor(gt$YEAR); gt$LOCATION <- factor(gt$LOCATION)
tc <- read.csv("tests/data/datasets/therapy_conditions.csv"); tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
ctl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
one <- function(f, call) list(call = call, loglik = as.numeric(logLik(f)), df = attr(logLik(f), "df"),
                              aic = AIC(f), nb_theta = getME(f, "glmer.nb.theta"),
                              fixef = unname(fixef(f)), theta = unname(getME(f, "theta")),
                              se = unname(sqrt(diag(as.matrix(vcov(f))))))
both <- function(f, call) list(default = one(f(glmerControl()), call),
                               tight = one(f(ctl), paste(call, "with the tight control")))
res <- list(
  grouse = both(function(c) glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), gt, control = c),
                "glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), grouseticks)"),
  therapy_sessions = both(function(c) glmer.nb(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc, control = c),
                          "glmer.nb(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), therapy_conditions)"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA), "tests/data/r_results/multilevel/glmm_nb.json")
str(lapply(res[1:2], function(r) c(r$default$loglik, r$tight$loglik, r$tight$nb_theta)))
