## Factor score references for psychometrics.efa (FactorAnalysisResult.factor_scores).
## Run from the repository root:  Rscript tests/data/r_scripts/efa/efa_scores.R
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
mat <- function(m) {
  m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  if (is.null(rn)) rn <- as.character(seq_len(nrow(m))); if (is.null(cn)) cn <- as.character(seq_len(ncol(m)))
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn)
}
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
X <- na.omit(bfi[, 1:25]); rownames(X) <- NULL
B <- bfi[, 1:25]
one <- function(f, call) list(call = call, weights = mat(f$weights), R2.scores = as.list(f$R2.scores),
                              scores_first20 = mat(f$scores[1:20, , drop = FALSE]))
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  ml_oblimin_regression = one(fa(X, 5, fm = "ml", scores = "regression"), "psych::fa(X, 5, fm = 'ml', scores = 'regression')"),
  ml_oblimin_tenBerge = one(fa(X, 5, fm = "ml", scores = "tenBerge"), "psych::fa(X, 5, fm = 'ml', scores = 'tenBerge')"),
  ml_oblimin_Bartlett = one(fa(X, 5, fm = "ml", scores = "Bartlett"), "psych::fa(X, 5, fm = 'ml', scores = 'Bartlett')"),
  minres_varimax_tenBerge = one(fa(X, 5, rotate = "varimax", scores = "tenBerge"), "psych::fa(X, 5, rotate = 'varimax', scores = 'tenBerge')"),
  pairwise_minres_oblimin_regression = one(fa(B, 5, scores = "regression"), "psych::fa(bfi[, 1:25], 5, scores = 'regression')  # rows with NA get NA scores"))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/efa/efa_scores.json")
cat("done\n")
