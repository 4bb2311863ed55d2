## Issue 19's failing case: the study's model on psychometrics.simulate(n_patients = 5000,
## sessions_min = sessions_max = 12, seed = 5000), written by the project's own code:
##   python tests/lmer_corpus.py write-study /tmp/lmer_study
##   Rscript tests/data/r_scripts/multilevel/lmer_study_sim5000.R /tmp/lmer_study
## (run from the repository root) -> tests/data/r_results/multilevel/lmer_study_sim5000.json
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "/tmp/lmer_study"
fml <- oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)
res <- list()
for (case in c("sim5000_raw", "sim5000_raw_first1000", "sim5000_scored")) {
  d <- read.csv(file.path(dir, paste0(case, ".csv")))
  fits <- list()
  for (reml in c(FALSE, TRUE)) {
    f <- lmer(fml, data = d, REML = reml)
    vc <- as.data.frame(VarCorr(f))
    fits[[if (reml) "REML" else "ML"]] <- list(
      logLik = as.numeric(logLik(f)), theta = unname(getME(f, "theta")),
      fixef = as.list(fixef(f)), se = as.list(sqrt(diag(as.matrix(vcov(f))))),
      sigma = sigma(f), vcov = vc$vcov, nobs = nobs(f), isSingular = isSingular(f),
      conv_messages = f@optinfo$conv$lme4$messages)
  }
  res[[case]] <- fits
}
writeLines(toJSON(list(call = "lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), d, REML = FALSE / TRUE)",
                       versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
                       cases = res), auto_unbox = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/multilevel/lmer_study_sim5000.json")
cat("done\n")
