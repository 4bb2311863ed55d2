## lme4/lmerTest references for several grouping factors in psychometrics.multilevel.mixed
## (issue 23): nested (lme4's Pastes, `strength ~ 1 + (1 | batch/cask)`), crossed (lme4's
## Penicillin, `diameter ~ 1 + (1 | plate) + (1 | sample)`) and a simulated three-level therapy
## data set (therapists x patients x months, `y ~ x + (1 | therapist/patient)`, patient ids
## reused across therapists as in real studies), each by REML and ML. The data are written
## into the JSON so that the tests never call R. Run from the repository root:
##   Rscript tests/data/r_scripts/multilevel/nested_crossed.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
options(warn = 1)
OUT <- "tests/data/r_results/multilevel/nested_crossed.json"

nv <- function(x) as.list(setNames(as.vector(x), names(x)))
rows <- function(d) { r <- rownames(d); d <- as.data.frame(d); rownames(d) <- NULL; cbind(row = r, d) }
re_list <- function(fit) {
  r <- ranef(fit)
  lapply(r, function(d) cbind(level = rownames(d), { dd <- as.data.frame(d); rownames(dd) <- NULL; dd }))
}
out1 <- function(fit, call) {
  s <- summary(fit)
  list(call = call, REML = isREML(fit), nobs = nobs(fit), ngrps = as.list(ngrps(fit)),
       fixef = nv(fixef(fit)),
       coefficients = rows(as.data.frame(s$coefficients)),
       theta = nv(getME(fit, "theta")), sigma = sigma(fit),
       VarCorr = { v <- as.data.frame(VarCorr(fit)); rownames(v) <- NULL; v },
       logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit),
       REMLcrit = if (isREML(fit)) REMLcrit(fit) else NA,
       deviance_ml = as.numeric(-2 * logLik(refitML(fit))),
       isSingular = isSingular(fit), ranef = re_list(fit),
       conv_messages = fit@optinfo$conv$lme4$messages)
}

data(Pastes, package = "lme4"); data(Penicillin, package = "lme4")
pastes <- data.frame(strength = Pastes$strength, batch = as.character(Pastes$batch),
                     cask = as.character(Pastes$cask), sample = as.character(Pastes$sample))
pen <- data.frame(diameter = Penicillin$diameter, plate = as.character(Penicillin$plate),
                  sample = as.character(Penicillin$sample))

## simulated therapy data: 12 therapists x 6 patients x 8 months (patients numbered 1..6 within
## each therapist, i.e. the ids repeat across therapists), random intercepts for therapist (SD 2)
## and patient (SD 4), residual SD 3, a time-varying predictor x with slope 0.5, some rows missing
set.seed(2023)
nt <- 12; np <- 6; nm <- 8
th <- data.frame(therapist = rep(sprintf("T%02d", 1:nt), each = np * nm),
                 patient = rep(rep(1:np, each = nm), nt), month = rep(0:(nm - 1), nt * np))
ut <- rnorm(nt, 0, 2); up <- rnorm(nt * np, 0, 4)
ti <- as.integer(factor(th$therapist)); pi <- (ti - 1) * np + th$patient
th$x <- round(rnorm(nrow(th), 5, 2) + 0.3 * up[pi], 3)
th$y <- round(20 + 0.5 * th$x + ut[ti] + up[pi] + rnorm(nrow(th), 0, 3), 3)
drop <- sample(nrow(th), 40); th <- th[-drop, ]; rownames(th) <- NULL

## a second simulated set with true random slopes of month per patient (drawn after the first, so
## the first data set is unchanged): 10 therapists x 8 patients x 10 months, therapist SD 1.5,
## patient intercept SD 3, patient month-slope SD 0.5 (correlation 0.3), residual SD 2
nt2 <- 10; np2 <- 8; nm2 <- 10
th2 <- data.frame(therapist = rep(sprintf("U%02d", 1:nt2), each = np2 * nm2),
                  patient = rep(rep(1:np2, each = nm2), nt2), month = rep(0:(nm2 - 1), nt2 * np2))
ti2 <- as.integer(factor(th2$therapist)); pi2 <- (ti2 - 1) * np2 + th2$patient
ut2 <- rnorm(nt2, 0, 1.5); z1 <- rnorm(nt2 * np2); z2 <- rnorm(nt2 * np2)
a2 <- 3 * z1; s2 <- 0.5 * (0.3 * z1 + sqrt(1 - 0.09) * z2)
th2$x <- round(rnorm(nrow(th2), 0, 1), 3)
th2$y <- round(30 + 0.8 * th2$x - 0.4 * th2$month + ut2[ti2] + a2[pi2] + s2[pi2] * th2$month +
                 rnorm(nrow(th2), 0, 2), 3)

calls <- list(
  pastes_reml = "lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = TRUE)",
  pastes_ml = "lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = FALSE)",
  pastes_sample = "lmer(strength ~ 1 + (1 | batch) + (1 | sample), Pastes, REML = TRUE)",
  penicillin_reml = "lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = TRUE)",
  penicillin_ml = "lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = FALSE)",
  therapy_reml = "lmer(y ~ x + (1 | therapist/patient), therapy, REML = TRUE)",
  therapy_ml = "lmer(y ~ x + (1 | therapist/patient), therapy, REML = FALSE)",
  therapy_slope = "lmer(y ~ x + month + (1 + month | therapist) + (1 | therapist:patient), therapy, REML = TRUE)",
  therapy2_slope_reml = "lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = TRUE)",
  therapy2_slope_ml = "lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = FALSE)"
)
fits <- list(
  pastes_reml = lmer(strength ~ 1 + (1 | batch/cask), data = pastes, REML = TRUE),
  pastes_ml = lmer(strength ~ 1 + (1 | batch/cask), data = pastes, REML = FALSE),
  pastes_sample = lmer(strength ~ 1 + (1 | batch) + (1 | sample), data = pastes, REML = TRUE),
  penicillin_reml = lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = pen, REML = TRUE),
  penicillin_ml = lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = pen, REML = FALSE),
  therapy_reml = lmer(y ~ x + (1 | therapist/patient), data = th, REML = TRUE),
  therapy_ml = lmer(y ~ x + (1 | therapist/patient), data = th, REML = FALSE),
  therapy_slope = lmer(y ~ x + month + (1 + month | therapist) + (1 | therapist:patient), data = th, REML = TRUE),
  therapy2_slope_reml = lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), data = th2, REML = TRUE),
  therapy2_slope_ml = lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), data = th2, REML = FALSE)
)
res <- lapply(names(fits), function(k) out1(fits[[k]], calls[[k]])); names(res) <- names(fits)
## does the therapist level matter? LRT of (1 | therapist:patient) against (1 | therapist/patient)
## (both refitted by ML, as anova() does)
m_pat <- lmer(y ~ x + (1 | therapist:patient), data = th, REML = TRUE)
lrt <- as.data.frame(anova(m_pat, fits$therapy_reml))
res$lrt_therapist <- list(call = "anova(lmer(y ~ x + (1 | therapist:patient), therapy), lmer(y ~ x + (1 | therapist/patient), therapy))",
                          table = rows(lrt))
res$data <- list(pastes = pastes, penicillin = pen, therapy = th, therapy2 = th2)
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), OUT)
cat("wrote", OUT, "\n")
for (k in names(fits)) { cat(k, "\n"); print(VarCorr(fits[[k]])); print(getME(fits[[k]], "theta")); print(logLik(fits[[k]])) }
