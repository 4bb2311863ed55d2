## Kenward-Roger references on unbalanced data (the case-6 KR table is balanced, where KR is exact).
## lmerTest summary(fit, ddf = "Kenward-Roger") and anova(fit, ddf = "Kenward-Roger"), pbkrtest::vcovAdj.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/kenward_roger.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest); library(pbkrtest)})
D <- "tests/data/datasets"
der <- read.csv(file.path(D, "therapy_sim_derived.csv"))
dm <- der[!is.na(der$oq_next), ]
dm$patient_id <- factor(dm$patient_id)
ss <- read.csv(file.path(D, "sleepstudy.csv"))
ss$Subject <- factor(ss$Subject)
ss$phase <- factor(ifelse(ss$Days <= 2, "a_early", ifelse(ss$Days <= 5, "b_mid", "c_late")))
set.seed(3)
ssu <- ss[-sample(nrow(ss), 40), ]          # unbalanced sleepstudy
rows <- function(d) { r <- rownames(d); d <- as.data.frame(d); rownames(d) <- NULL; cbind(row = r, d) }
kr <- function(fit, call, data_note) {
  list(call = call, data = data_note, theta = as.list(getME(fit, "theta")),
       coefficients = rows(as.data.frame(summary(fit, ddf = "Kenward-Roger")$coefficients)),
       anova = rows(as.data.frame(anova(fit, ddf = "Kenward-Roger"))),
       vcovAdj = unname(as.matrix(pbkrtest::vcovAdj(fit))))
}
f1 <- lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), data = dm)
f2 <- lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), data = dm)
f3 <- lmer(Reaction ~ Days + (Days | Subject), data = ssu)
f4 <- lmer(Reaction ~ phase + (1 | Subject), data = ssu)
res <- list(
  ri = kr(f1, "lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), dm)", "case 7 dm"),
  slope = kr(f2, "lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), dm)", "case 7 dm"),
  sleep_unbalanced = c(kr(f3, "lmer(Reaction ~ Days + (Days | Subject), ssu)", "sleepstudy without 40 random rows (set.seed(3); sample(180, 40))"),
                       list(dropped_rows_1based = sort(setdiff(seq_len(nrow(ss)), as.integer(rownames(ssu)))))),
  factor_unbalanced = kr(f4, "lmer(Reaction ~ phase + (1 | Subject), ssu)", "as sleep_unbalanced"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  pbkrtest = as.character(packageVersion("pbkrtest"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null", matrix = "rowmajor"),
           "tests/data/r_results/multilevel/kenward_roger.json")
print(summary(f3, ddf = "Kenward-Roger")$coefficients); print(anova(f4, ddf = "Kenward-Roger"))
