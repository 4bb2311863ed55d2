## Three-level progress analysis (issue 23.2): assessments within patients within therapists,
## observed centring at both levels, next month's outcome. Data: the simulated therapy data in
## nested_crossed.json (12 therapists x 6 patients x 8 months, patient ids reused across
## therapists, 40 rows missing).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/progress3.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
d <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data$therapy
d$pkey <- paste(d$therapist, d$patient, sep = "|")
d <- d[order(d$pkey, d$month), ]
pm <- ave(d$x, d$pkey)                                   # patient mean
pmeans <- tapply(d$x, d$pkey, mean)
pther <- tapply(d$therapist, d$pkey, function(v) v[1])
tmeans <- tapply(pmeans, pther, mean)                    # therapist mean of patient means
d$x_within <- d$x - pm
d$x_between_c <- pm - tmeans[d$therapist]
d$x_cluster_c <- tmeans[d$therapist] - mean(tmeans)
## next month's y of the same patient (consecutive months only)
nxt <- match(paste(d$pkey, d$month + 1), paste(d$pkey, d$month))
d$y_lead <- d$y[nxt]
dm <- d[!is.na(d$y_lead), ]
fit <- lmer(y_lead ~ x_within + x_between_c + x_cluster_c + y + (1 | therapist/pkey), dm)
base <- lmer(y_lead ~ 1 + y + (1 | therapist/pkey), dm)
L <- rbind(within = c(0, 1, 0, 0, 0), between_patient = c(0, 0, 1, 0, 0),
           between_cluster = c(0, 0, 0, 1, 0), contextual_patient = c(0, -1, 1, 0, 0),
           contextual_cluster = c(0, 0, -1, 1, 0))
ct <- do.call(rbind, lapply(seq_len(nrow(L)), function(i) contest1D(fit, L[i, ])))
vs <- function(v) { f <- lmer(as.formula(paste(v, "~ 1 + (1 | therapist/pkey)")), d)
  vc <- as.data.frame(VarCorr(f)); list(grp = vc$grp, vcov = vc$vcov) }
lrt <- anova(base, fit)
res <- list(call = "lmer(y_lead ~ x_within + x_between_c + x_cluster_c + y + (1 | therapist/pkey), dm); contest1D(fit, L[i, ])",
            n_obs = nrow(dm), effects = rownames(L), est = ct$Estimate, se = ct$`Std. Error`,
            df = ct$df, t = ct$`t value`, p = ct$`Pr(>|t|)`,
            var_y = vs("y"), var_x = vs("x"),
            lrt_chisq = lrt$Chisq[2], lrt_df = lrt$Df[2],
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                            lmerTest = as.character(packageVersion("lmerTest"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/progress3.json")
