# Reference values for the report's item and scale descriptives (psych::describe).
# Data: the first 30 patients of examples/therapy_example.csv (all their months),
# the WAI-SR items; run from the repository root:
#   Rscript tests/data/r_scripts/report/describe.R
library(psych)
library(jsonlite)
d <- read.csv("examples/therapy_example.csv")
ids <- unique(d$patient_id)[1:30]
d <- d[d$patient_id %in% ids, ]
items <- paste0("wai_", 1:12)
des <- psych::describe(d[, items], type = 3)
out <- list(
  call = "psych::describe(d[, paste0('wai_', 1:12)], type = 3)",
  psych_version = as.character(packageVersion("psych")),
  items = items,
  n = unname(des$n), mean = unname(des$mean), sd = unname(des$sd),
  skew = unname(des$skew), kurtosis = unname(des$kurtosis)
)
write_json(out, "tests/data/r_results/report/describe.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
