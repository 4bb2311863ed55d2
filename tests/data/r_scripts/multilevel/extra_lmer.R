## Extra lme4/lmerTest references for psychometrics.multilevel (beyond cases 6 and 7):
## a categorical predictor (treatment contrasts) with a 2-df Satterthwaite F test, an
## interaction, three correlated random effects, an uncorrelated random slope on the therapy
## data, and a singular fit. Run from the repository root:
##   Rscript tests/data/r_scripts/multilevel/extra_lmer.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
options(warn = 1)
D <- "tests/data/datasets"
OUT <- "tests/data/r_results/multilevel/extra_lmer.json"
ss <- read.csv(file.path(D, "sleepstudy.csv"))
ss$Subject <- factor(ss$Subject)
ss$phase <- factor(ifelse(ss$Days <= 2, "a_early", ifelse(ss$Days <= 5, "b_mid", "c_late")))
der <- read.csv(file.path(D, "therapy_sim_derived.csv"))
dm <- der[!is.na(der$oq_next), ]
dm$patient_id <- factor(dm$patient_id)

nv <- function(x) as.list(setNames(as.vector(x), names(x)))
rows <- function(d) { r <- rownames(d); d <- as.data.frame(d); rownames(d) <- NULL; cbind(row = r, d) }
out1 <- function(fit, call) {
  s <- summary(fit)
  list(call = call, REML = isREML(fit), nobs = nobs(fit), fixef = nv(fixef(fit)),
       coefficients = rows(as.data.frame(s$coefficients)),
       theta = nv(getME(fit, "theta")), sigma = sigma(fit),
       VarCorr = { v <- as.data.frame(VarCorr(fit)); rownames(v) <- NULL; v },
       logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit),
       isSingular = isSingular(fit),
       anova = rows(as.data.frame(anova(fit))),
       conv_messages = fit@optinfo$conv$lme4$messages)
}
calls <- list(
  factor = "lmer(Reaction ~ phase + (1 | Subject), sleepstudy + phase, REML = TRUE)",
  interaction = "lmer(oq_next ~ wai_within * oq_total + wai_between + (1 | patient_id), dm, REML = FALSE)",
  three_re = "lmer(oq_next ~ wai_within + wai_between + month + (1 + wai_within + month | patient_id), dm, REML = TRUE)",
  uncorr_therapy = "lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within || patient_id), dm, REML = TRUE)",
  singular = "lmer(Reaction ~ Days + (1 | Subject), sleepstudy[Subject %in% c(308, 309, 310)] with Reaction = Days*10 + noise, REML = TRUE)",
  poorly_scaled = "lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + oq_total | patient_id), dm, REML = FALSE)"
)
f_factor <- lmer(Reaction ~ phase + (1 | Subject), data = ss, REML = TRUE)
f_int <- lmer(oq_next ~ wai_within * oq_total + wai_between + (1 | patient_id), data = dm, REML = FALSE)
f_three <- lmer(oq_next ~ wai_within + wai_between + month + (1 + wai_within + month | patient_id), data = dm, REML = TRUE)
f_unc <- lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within || patient_id), data = dm, REML = TRUE)
set.seed(1)
sg <- data.frame(Subject = factor(rep(1:6, each = 10)), Days = rep(0:9, 6))
sg$Reaction <- 250 + 10 * sg$Days + rnorm(60, 0, 25)
f_sing <- lmer(Reaction ~ Days + (1 | Subject), data = sg, REML = TRUE)
f_poor <- lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + oq_total | patient_id), data = dm, REML = FALSE)
res <- list(factor = out1(f_factor, calls$factor), interaction = out1(f_int, calls$interaction),
            three_re = out1(f_three, calls$three_re), uncorr_therapy = out1(f_unc, calls$uncorr_therapy),
            singular = c(out1(f_sing, calls$singular), list(data = sg)),
            poorly_scaled = out1(f_poor, calls$poorly_scaled),
            sleep_residuals = list(call = "residuals(lmer(Reaction ~ Days + (Days | Subject), sleepstudy)); fitted(...)",
                                   residuals = unname(residuals(lmer(Reaction ~ Days + (Days | Subject), data = ss))),
                                   fitted = unname(fitted(lmer(Reaction ~ Days + (Days | Subject), data = ss))),
                                   theta = as.list(getME(lmer(Reaction ~ Days + (Days | Subject), data = ss), "theta"))))
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), OUT)
cat("wrote", OUT, "\n")
print(summary(f_three)); print(isSingular(f_sing)); print(VarCorr(f_sing))
