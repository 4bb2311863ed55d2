# Reference: confirmatory two-factor graded response model (simple structure, correlated
# factors) on bfi N1-N5 (factor N) and E1-E5 (factor E), complete rows, fitted by OpenMx
# (mxExpectationBA81 with rpf.grm(factors = 2); product grid of qpoints = 21 per dimension on
# [-5, 5]; latent variances fixed at 1, correlation free) by SLSQP on the marginal likelihood.
# E1 and E2 are reverse-scored (7 - x) first.
# Run from the repository root:  Rscript tests/data/r_scripts/irt/mirt_bfi.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
bfi <- read.csv("tests/data/datasets/bfi.csv")
nI <- c("N1", "N2", "N3", "N4", "N5"); eI <- c("E1", "E2", "E3", "E4", "E5")
items <- c(nI, eI)
raw <- bfi[rowSums(is.na(bfi[, items])) == 0, items]
raw$E1 <- 7 - raw$E1; raw$E2 <- 7 - raw$E2            # reverse-keyed: OpenMx's slopes are > 0
dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 1:6)))
spec <- lapply(items, function(i) rpf.grm(factors = 2, outcomes = 6))
start <- sapply(items, function(i) c(i %in% nI, i %in% eI, 1.5, 0.5, 0, -0.5, -1.5))
free <- matrix(TRUE, 7, 10); free[1, items %in% eI] <- FALSE; free[2, items %in% nI] <- FALSE
imat <- mxMatrix(name = "item", values = start, free = free,
                 dimnames = list(c("N", "E", paste0("c", 1:5)), items))
mean <- mxMatrix("Full", 1, 2, values = 0, free = FALSE, name = "mean",
                 dimnames = list(NULL, c("N", "E")))
cov <- mxMatrix("Symm", 2, 2, values = c(1, 0, 1), free = c(FALSE, TRUE, FALSE),
                labels = c(NA, "rho", NA), name = "cov", lbound = -0.99, ubound = 0.99,
                dimnames = list(c("N", "E"), c("N", "E")))
m <- mxModel("mirt", imat, mean, cov, mxData(dat, type = "raw"),
             mxExpectationBA81(spec, qpoints = 21, qwidth = 5, mean = "mean", cov = "cov"),
             mxFitFunctionML(),
             mxComputeSequence(list(
               mxComputeGradientDescent(engine = "SLSQP", tolerance = 1e-14),
               mxComputeOnce("fitfunction", "gradient"), mxComputeReportDeriv())))
f <- mxRun(m, silent = TRUE)
est <- f$item$values
res <- list(n_obs = nrow(raw), items = items,
            slope = unname(ifelse(items %in% nI, est[1, ], est[2, ])),
            c = unname(t(est[3:7, ])), rho = unname(f$cov$values[1, 2]),
            logLik = -f$output$minimum / 2, n_par = length(f$output$estimate),
            gradient_max_abs = max(abs(f$output$gradient)), status = f$output$status$code,
            versions = list(R = R.version.string,
                            OpenMx = as.character(packageVersion("OpenMx"))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/mirt_bfi.json")
