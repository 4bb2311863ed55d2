## lmerTest type III anova (Satterthwaite) for models with several grouping factors (issue 22/23).
## Data: the simulated therapy data stored in nested_crossed.json, with a two-level factor.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/multi_anova.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
d <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data$therapy2
d$phase <- ifelse(d$month < 5, "early", "late")
fit <- lmer(y ~ x * phase + month + (1 | therapist) + (1 + month | therapist:patient), d)
a <- anova(fit, type = 3)
akr <- anova(fit, type = 3, ddf = "Kenward-Roger")
skr <- summary(fit, ddf = "Kenward-Roger")$coefficients
res <- list(call = "anova(lmer(y ~ x * phase + month + (1 | therapist) + (1 + month | therapist:patient), therapy2), type = 3); phase = ifelse(month < 5, 'early', 'late')",
            theta = unname(getME(fit, "theta")), terms = rownames(a),
            sum_sq = a$`Sum Sq`, num_df = a$NumDF, den_df = a$DenDF, f_value = a$`F value`,
            p_value = a$`Pr(>F)`,
            ## anova(fit, type = 3, ddf = "Kenward-Roger")
            kr_f_value = akr$`F value`, kr_den_df = akr$DenDF, kr_sum_sq = akr$`Sum Sq`,
            ## summary(fit, ddf = "Kenward-Roger")$coefficients
            kr_se = unname(skr[, "Std. Error"]), kr_df = unname(skr[, "df"]),
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                            lmerTest = as.character(packageVersion("lmerTest"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/multi_anova.json")
