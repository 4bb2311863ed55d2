## lme4 predict() with new data (poly() coefficients reused, a new patient) and Wald intervals.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/lmm_predict.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
tc <- read.csv("tests/data/datasets/therapy_conditions.csv")
tc$patient <- factor(tc$patient); tc$condition <- factor(tc$condition)
fit <- lmer(oq ~ poly(month, 2) * condition + (month | patient), tc)
new <- data.frame(patient = c("p001", "p002", "zz_new"), month = c(13, 2.5, 6),
                  condition = c("cbt", "waitlist", "ipt"))
ci <- confint(fit, method = "Wald")
res <- list(call = "lmer(oq ~ poly(month, 2) * condition + (month | patient), therapy_conditions)",
            theta = unname(getME(fit, "theta")),
            predict_new = unname(predict(fit, newdata = new, allow.new.levels = TRUE)),
            predict_new_fixed = unname(predict(fit, newdata = new, re.form = NA)),
            predict_head = unname(head(predict(fit), 5)),
            confint_wald = unname(ci[names(fixef(fit)), ]),
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, matrix = "rowmajor"),
           "tests/data/r_results/multilevel/lmm_predict.json")
## conditional variances of the random effects: ranef(fit, condVar = TRUE)
pv <- attr(ranef(fit, condVar = TRUE)$patient, "postVar")
res$condvar_first3 <- lapply(1:3, function(i) unname(pv[, , i]))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA, matrix = "rowmajor"),
           "tests/data/r_results/multilevel/lmm_predict.json")
