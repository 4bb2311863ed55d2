## The therapist level on a realistic design: therapy_sim (150 patients, 12 WAI items, 20 months)
## with an artificial therapist column (15 therapists, the i-th patient id in sorted order,
## counting from 0, -> therapist "T<i %% 15>"). Crossed model only (REML, lme4).
## Run from the repository root:  Rscript tests/data/r_scripts/mlrel/therapist_therapy_sim.R
## -> tests/data/r_results/mlrel/therapist_therapy_sim.json
## Used by tests/reliability_multilevel/test_mlrel_therapist.py (lme4 took 23 s here).
suppressMessages({library(lme4); library(jsonlite)})
d <- read.csv("tests/data/datasets/therapy_sim.csv")
items <- paste0("wai_", 1:12)
ids <- sort(unique(d$patient_id))
d$ther <- paste0("T", (match(d$patient_id, ids) - 1) %% 15)
long <- reshape(d[, c("patient_id", "month", "ther", items)], direction = "long",
                varying = items, v.names = "values", timevar = "items", times = items,
                idvar = c("patient_id", "month"))
long <- long[!is.na(long$values), ]
long$id <- factor(long$patient_id); long$time <- factor(long$month)
long$items <- factor(long$items); long$ther <- factor(long$ther)
m <- lmer(values ~ 1 + (1 | ther) + (1 | ther:items) + (1 | id) + (1 | time) + (1 | items) +
            (1 | id:time) + (1 | id:items) + (1 | items:time), data = long, REML = TRUE)
vc <- as.data.frame(VarCorr(m))
out <- list(
  call = paste("lmer(values ~ 1 + (1|ther) + (1|ther:items) + (1|id) + (1|time) + (1|items) +",
               "(1|id:time) + (1|id:items) + (1|items:time), long, REML = TRUE)"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
  n_obs = nrow(long), REMLcrit = REMLcrit(m), sigma = sigma(m), fixef = unname(fixef(m)),
  vcov = setNames(as.list(vc$vcov), vc$grp), isSingular = isSingular(m))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE),
           "tests/data/r_results/mlrel/therapist_therapy_sim.json")
cat("done\n")
