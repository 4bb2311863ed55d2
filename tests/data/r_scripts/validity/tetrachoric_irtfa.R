## psych 2.2.9 tetrachoric() and irt.fa() references.
## Run from the repository root:
##   Rscript tests/data/r_scripts/validity/tetrachoric_irtfa.R
## Writes tests/data/r_results/validity/tetrachoric_irtfa.json (the small simulated data
## set with an empty cell is stored in the JSON itself).
suppressPackageStartupMessages({library(psych); library(jsonlite)})
mat <- function(m) { m <- unclass(as.matrix(m)); lapply(seq_len(nrow(m)), function(i) as.vector(m[i, ])) }
lsat <- read.csv("tests/data/datasets/lsat6.csv")
bfi <- read.csv("tests/data/datasets/bfi.csv")
set.seed(2); n <- 200; z <- rnorm(n)
zc <- data.frame(a = (z + rnorm(n, 0, .3) > 0) * 1, b = (z + rnorm(n, 0, .3) > 1.2) * 1,
                 c = (rnorm(n) > 0) * 1)
zc$b[zc$a == 0] <- 0                      # an empty cell in the a x b table
bb <- (bfi[1:600, 1:10] > 3) * 1          # dichotomised bfi items, with NA
out <- list(versions = list(psych = as.character(packageVersion("psych"))),
            zero_cell_data = as.list(zc))
tet <- function(x, call) { t <- suppressMessages(tetrachoric(x)); list(call = call, rho = mat(t$rho), tau = as.vector(t$tau)) }
out$lsat6 <- tet(lsat, "psych::tetrachoric(lsat6)")
out$zero_cell <- tet(zc, "psych::tetrachoric(zc)  # correct = 0.5 replaces the empty cell")
out$bfi_binary <- tet(bb, "psych::tetrachoric((bfi[1:600, 1:10] > 3) * 1)")
ir <- irt.fa(lsat, plot = FALSE)
out$irt_fa_lsat6 <- list(call = "psych::irt.fa(lsat6, plot = FALSE)", loadings = as.vector(ir$fa$loadings),
  discrimination = as.vector(ir$irt$discrimination), difficulty = as.vector(ir$irt$difficulty[[1]]))
ir2 <- irt.fa(bb, nfactors = 2, plot = FALSE)
out$irt_fa_bfi2 <- list(call = "psych::irt.fa((bfi[1:600, 1:10] > 3) * 1, nfactors = 2, plot = FALSE)",
  loadings = mat(ir2$fa$loadings), discrimination = mat(ir2$irt$discrimination),
  difficulty = lapply(ir2$irt$difficulty, as.vector), colnames = colnames(ir2$fa$loadings))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/data/r_results/validity/tetrachoric_irtfa.json")
