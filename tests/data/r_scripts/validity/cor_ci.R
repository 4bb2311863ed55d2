## References for psychometrics.validity.cor_ci: psych::cor.ci (= corCi) of psych 2.2.9
## (the installed version is checked and written into the JSON).
## Run from the repository root:  Rscript tests/data/r_scripts/validity/cor_ci.R
## Writes tests/data/r_results/validity/cor_ci.json
##
## The bootstrap draws of R cannot be reproduced (R's RNG, and mclapply), so the JSON holds
## (1) the deterministic parts: rho (items, keyed scales, overlap-corrected scales), and the
##     summary of R's own replicates (stored), to be recomputed from them exactly;
## (2) the correlation-matrix route (psych:::cor.Ci, normal theory), exact;
## (3) long runs (n.iter = 4000) whose intervals ours must meet within Monte-Carlo error.
suppressPackageStartupMessages({library(psych); library(jsonlite)})
options(warn = 1, mc.cores = 1)
if (packageVersion("psych") != "2.2.9")
  warning("psych ", as.character(packageVersion("psych")), " is installed; the package follows 2.2.9")
mat <- function(m) {
  m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn)
}
bfi <- read.csv("tests/data/datasets/bfi.csv", stringsAsFactors = FALSE)
B10 <- bfi[, 1:10]                 # A1-A5, C1-C5 with missing values (pairwise)
B25 <- bfi[, 1:25]
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"), neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
keys_ov <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), mixed = c("A4", "A5", "C1", "C2"),
                conscientious = c("C1", "C2", "C3", "-C4", "-C5"))
ci_out <- function(cc, call, replicates = TRUE) {
  out <- list(call = call, rho = mat(cc$rho), pairs = rownames(cc$ci),
              ci = lapply(as.list(cc$ci), as.vector),          # lower, low.e, upper, up.e, p
              means = as.vector(cc$means), sds = as.vector(cc$sds),
              tci = as.vector(cc$tci), ptci = as.vector(cc$ptci), n.iter = nrow(cc$replicates))
  if (replicates) out$replicates <- unname(split(cc$replicates, row(cc$replicates)))
  out
}
set.seed(17)
c_items <- cor.ci(B10, n.iter = 100, plot = FALSE)
set.seed(18)
c_keys <- cor.ci(B25, keys, n.iter = 100, plot = FALSE)
set.seed(19)
c_ov <- cor.ci(B25, keys_ov, n.iter = 100, overlap = TRUE, plot = FALSE)
set.seed(20)
c_p10 <- cor.ci(B10, n.iter = 100, p = 0.10, plot = FALSE)
set.seed(21)
c_spear <- cor.ci(B10[, 1:5], n.iter = 100, method = "spearman", plot = FALSE)
X <- na.omit(B25)
c_mat <- cor.ci(cor(X), n = nrow(X), plot = FALSE)
set.seed(22)
long_items <- cor.ci(B10, n.iter = 4000, plot = FALSE)
set.seed(23)
long_keys <- cor.ci(B25, keys, n.iter = 4000, plot = FALSE)
out <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  keys = keys, keys_overlap = keys_ov,
  items = ci_out(c_items, "set.seed(17); cor.ci(bfi[, 1:10], n.iter = 100, plot = FALSE)"),
  keyed = ci_out(c_keys, "set.seed(18); cor.ci(bfi[, 1:25], keys, n.iter = 100, plot = FALSE)"),
  overlap = ci_out(c_ov, "set.seed(19); cor.ci(bfi[, 1:25], keys_overlap, n.iter = 100, overlap = TRUE, plot = FALSE)"),
  items_p10 = ci_out(c_p10, "set.seed(20); cor.ci(bfi[, 1:10], n.iter = 100, p = 0.10, plot = FALSE)"),
  spearman = ci_out(c_spear, "set.seed(21); cor.ci(bfi[, 1:5], n.iter = 100, method = 'spearman', plot = FALSE)"),
  matrix = list(call = "cor.ci(cor(na.omit(bfi[, 1:25])), n = 2436, plot = FALSE)$ci",
                n = nrow(X), pairs = rownames(c_mat$ci), ci = lapply(as.list(c_mat$ci), as.vector)),
  long_items = ci_out(long_items, "set.seed(22); cor.ci(bfi[, 1:10], n.iter = 4000, plot = FALSE)", FALSE),
  long_keys = ci_out(long_keys, "set.seed(23); cor.ci(bfi[, 1:25], keys, n.iter = 4000, plot = FALSE)", FALSE))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/validity/cor_ci.json")
cat("done\n")
