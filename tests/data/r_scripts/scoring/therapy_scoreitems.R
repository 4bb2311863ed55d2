# Reference scale scores of the shipped WAI-SR and PEAR banks on the simulated therapy data,
# with psych::scoreItems. Run from the repository root:
#   Rscript tests/data/r_scripts/scoring/therapy_scoreitems.R
# therapy_sim.csv has no blanks, so sum scales equal totals = TRUE and mean scales totals = FALSE.
suppressPackageStartupMessages({library(psych); library(jsonlite)})
d <- read.csv("tests/data/datasets/therapy_sim.csv")
wai_keys <- list(task = c("wai_1", "wai_2", "wai_10", "wai_12"),
                 bond = c("wai_3", "wai_5", "wai_7", "wai_9"),
                 goal = c("wai_4", "wai_6", "wai_8", "wai_11"),
                 total = paste0("wai_", 1:12),
                 goal_task = c("wai_1", "wai_2", "wai_4", "wai_6", "wai_8", "wai_10", "wai_11", "wai_12"))
pear_keys <- list(f1 = paste0("pear_", 1:6), f2 = paste0("pear_", 7:10), total = paste0("pear_", 1:10))
wai <- scoreItems(wai_keys, d[, paste0("wai_", 1:12)], totals = TRUE, impute = "none",
                  min = 1, max = 5)$scores
pear <- scoreItems(pear_keys, d[, paste0("pear_", 1:10)], totals = FALSE, impute = "none",
                   min = 1, max = 6)$scores
out <- data.frame(patient_id = d$patient_id, month = d$month)
for (k in colnames(wai)) out[[paste0("wai_sr__", k)]] <- sprintf("%.17g", wai[, k])
for (k in colnames(pear)) out[[paste0("pear__", k)]] <- sprintf("%.17g", pear[, k])
write.csv(out, "tests/data/r_results/scoring/therapy_scoreitems.csv", row.names = FALSE, quote = FALSE)
writeLines(toJSON(list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  calls = list(
    wai_sr = "psych::scoreItems(wai_keys, d[, paste0('wai_', 1:12)], totals = TRUE, impute = 'none', min = 1, max = 5)$scores",
    pear = "psych::scoreItems(pear_keys, d[, paste0('pear_', 1:10)], totals = FALSE, impute = 'none', min = 1, max = 6)$scores"),
  wai_keys = wai_keys, pear_keys = pear_keys), auto_unbox = TRUE, pretty = TRUE),
  "tests/data/r_results/scoring/therapy_scoreitems_meta.json")
cat("done\n")
