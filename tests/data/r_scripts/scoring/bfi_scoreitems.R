# Reference scale scores for the scoring engine: psych::scoreItems on bfi.
# Run from the repository root:
#   Rscript tests/data/r_scripts/scoring/bfi_scoreitems.R
# Writes tests/data/r_results/scoring/bfi_scoreitems.csv (one row per person, in
# the order of tests/data/datasets/bfi.csv) and bfi_scoreitems_meta.json.
suppressPackageStartupMessages({library(psych); library(jsonlite)})
bfi <- read.csv("tests/data/datasets/bfi.csv", na.strings = "NA")
items <- bfi[, 1:25]
# psych's own bfi.keys (the usual reverse keys)
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"),
             conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
             neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
out <- data.frame(row = seq_len(nrow(items)))
variants <- list(
  none_mean  = list(impute = "none", totals = FALSE),
  none_sum   = list(impute = "none", totals = TRUE),
  mean_mean  = list(impute = "mean", totals = FALSE),
  mean_sum   = list(impute = "mean", totals = TRUE))
calls <- list()
for (v in names(variants)) {
  a <- variants[[v]]
  sc <- suppressWarnings(scoreItems(keys, items, impute = a$impute, totals = a$totals,
                                    min = 1, max = 6))
  calls[[v]] <- sprintf("psych::scoreItems(keys, bfi[, 1:25], impute = \"%s\", totals = %s, min = 1, max = 6)$scores",
                        a$impute, a$totals)
  s <- sc$scores
  for (k in colnames(s)) out[[paste0(v, "__", k)]] <- s[, k]
}
# n of answered items per scale (for the record)
for (k in names(keys)) {
  cols <- sub("^-", "", keys[[k]])
  out[[paste0("n_answered__", k)]] <- rowSums(!is.na(items[, cols]))
}
dir.create("tests/data/r_results/scoring", showWarnings = FALSE, recursive = TRUE)
# 17 significant digits: every double round-trips exactly
fmt <- out
for (k in names(fmt)) if (is.double(fmt[[k]])) fmt[[k]] <- sprintf("%.17g", fmt[[k]])
write.csv(fmt, "tests/data/r_results/scoring/bfi_scoreitems.csv", row.names = FALSE, quote = FALSE)
meta <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  keys = keys, calls = calls,
  columns = "variant__scale: variant in none_mean, none_sum, mean_mean, mean_sum; NaN where psych gives NaN",
  note = "impute='none', totals=TRUE sums the answered items without proration (psych warns against it).")
writeLines(toJSON(meta, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/scoring/bfi_scoreitems_meta.json")
cat("done\n")
