## lmerTest type III anova (Satterthwaite and Kenward-Roger) for main effects that also appear in
## interactions; lmerTest 3.1-3 tests them with get_contrasts_type3 (marginal contrasts, e.g. the
## average slope of month over the conditions), not by dropping the treatment-coded column.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/anova_type3.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest); library(pbkrtest)})
D <- "tests/data/datasets"
tc <- read.csv(file.path(D, "therapy_conditions.csv"))
tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
tc$fmonth <- factor(tc$month)
o <- read.csv(file.path(D, "orthodont.csv"))
o$Sex <- factor(o$Sex, levels = c("Male", "Female"))         # R's Orthodont level order
ck <- read.csv(file.path(D, "cake.csv"))
ck$recipe <- factor(ck$recipe); ck$rr <- factor(paste(ck$recipe, ck$replicate, sep = ":"))
rows <- function(d) { r <- rownames(d); d <- as.data.frame(d); rownames(d) <- NULL; cbind(row = r, d) }
one <- function(fit, call) {
  list(call = call, theta = unname(getME(fit, "theta")), fixef = as.list(fixef(fit)),
       loglik = as.numeric(logLik(fit)),
       anova_satterthwaite = rows(anova(fit, type = 3)),
       anova_kenward_roger = rows(anova(fit, type = 3, ddf = "Kenward-Roger")),
       contrasts_type3 = lapply(lmerTest:::get_contrasts_type3(fit), function(L) unname(as.matrix(L))))
}
res <- list(
  therapy = one(lmer(oq ~ month * condition + (1 | patient), tc),
                "lmer(oq ~ month * condition + (1 | patient), therapy_conditions)"),
  therapy_slope = one(lmer(oq ~ month * condition + (month | patient), tc),
                      "lmer(oq ~ month * condition + (month | patient), therapy_conditions)"),
  therapy_factor = one(lmer(oq ~ fmonth * condition + (1 | patient), tc),
                       "lmer(oq ~ factor(month) * condition + (1 | patient), therapy_conditions)"),
  orthodont = one(lmer(distance ~ age * Sex + (age | Subject), o),
                  "lmer(distance ~ age * Sex + (age | Subject), Orthodont)"),
  cake = one(lmer(angle ~ recipe * temp + (1 | rr), ck),
             "lmer(angle ~ recipe * temp + (1 | recipe:replicate), cake)"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  pbkrtest = as.character(packageVersion("pbkrtest"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null", matrix = "rowmajor"),
           "tests/data/r_results/multilevel/anova_type3.json")
print(res$therapy$anova_satterthwaite); print(res$therapy_factor$anova_satterthwaite)
