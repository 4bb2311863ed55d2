## psych::fa with the rotations added for issue 21 (psych 2.2.9, GPArotation 2022.10-2).
## Run from the repository root:
##   Rscript tests/data/r_scripts/validity/fa_rotations.R
## Writes tests/data/r_results/validity/fa_rotations.json (rotated loadings, Phi, rot.mat).
suppressPackageStartupMessages({library(psych); library(jsonlite); library(GPArotation)})
options(warn = 1)
bfi <- read.csv("tests/data/datasets/bfi.csv")
X <- bfi[, 1:15]
mat <- function(m) { if (is.null(m)) return(NULL); m <- unclass(as.matrix(m))
  lapply(seq_len(nrow(m)), function(i) as.vector(m[i, ])) }
out <- list(versions = list(psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))))
cases <- list(
  bifactor = list(nf = 4, rotate = "bifactor"),
  biquartimin = list(nf = 4, rotate = "biquartimin"),
  equamax = list(nf = 3, rotate = "equamax"),
  simplimax = list(nf = 3, rotate = "simplimax"),
  oblimin_gam = list(nf = 3, rotate = "oblimin", gam = 0.3))
for (nm in names(cases)) {
  cs <- cases[[nm]]
  f <- if (is.null(cs$gam)) fa(X, cs$nf, rotate = cs$rotate) else fa(X, cs$nf, rotate = cs$rotate, gam = cs$gam)
  out[[nm]] <- list(call = sprintf("psych::fa(bfi[, 1:15], %d, rotate = '%s'%s)", cs$nf, cs$rotate,
                                   if (is.null(cs$gam)) "" else sprintf(", gam = %g", cs$gam)),
    nf = cs$nf, rotate = cs$rotate, gam = if (is.null(cs$gam)) 0 else cs$gam,
    loadings = mat(f$loadings), Phi = mat(f$Phi), rot_mat = mat(f$rot.mat), colnames = colnames(f$loadings))
}
## GPArotation directly on a fixed unrotated matrix (oblimax is not reachable through fa)
A <- unclass(fa(X, 3, rotate = "none")$loadings)
ob <- GPArotation::oblimax(A)
out$oblimax_gpa <- list(call = "GPArotation::oblimax(unclass(fa(bfi[,1:15], 3, rotate='none')$loadings))",
  A = mat(A), loadings = mat(ob$loadings), Phi = mat(ob$Phi))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           "tests/data/r_results/validity/fa_rotations.json")
