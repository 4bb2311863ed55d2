# Reference: unidimensional generalized partial credit model fitted by OpenMx's Bock-Aitkin EM
# (mxExpectationBA81) on psych's bfi neuroticism items N1-N5 (6 categories), complete rows.
# rpf has no separate GPCM: it is the nominal model rpf.nrm with the scoring-function
# contrasts fixed at alf = (1, 0, ..., 0), so the category slopes are a * (0, 1, ..., K-1).
# rpf.nrm parameterises the intercepts through Fourier contrasts (gam); we export the
# implied slope-intercept parameters c_k (c_0 = 0, P(k) ∝ exp(k a theta + c_k)), which are
# linear in gam: c = Tc %*% gam, so their SEs follow exactly from the covariance of gam.
# Quadrature 49 points on [-6, 6]; SEs by Oakes (1999).
# Run from the repository root:  Rscript tests/data/r_scripts/irt/gpcm_bfi.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
bfi <- read.csv("tests/data/datasets/bfi.csv")
items <- c("N1", "N2", "N3", "N4", "N5")
raw <- bfi[rowSums(is.na(bfi[, items])) == 0, items]
dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 1:6)))
K <- 6
spec <- lapply(items, function(i) rpf.nrm(outcomes = K))
start <- sapply(items, function(i) c(1, 1, rep(0, K - 2), seq(1, -1, length.out = K - 1)))
rownames(start) <- c("a", paste0("alf", 1:(K - 1)), paste0("gam", 1:(K - 1)))
free <- matrix(TRUE, nrow(start), ncol(start))
free[2:K, ] <- FALSE                                    # alf fixed: GPCM
imat <- mxMatrix(name = "item", values = start, free = free,
                 dimnames = list(rownames(start), items))
m <- mxModel("gpcm", imat, mxData(dat, type = "raw"),
             mxExpectationBA81(spec, qpoints = 49, qwidth = 6),
             mxFitFunctionML(),
             mxComputeSequence(list(
               mxComputeEM("expectation", "scores", mxComputeNewtonRaphson(),
                           tolerance = 1e-12, maxIter = 5000L,
                           information = "oakes1999",
                           infoArgs = list(fitfunction = "fitfunction")),
               mxComputeHessianQuality(),
               mxComputeStandardError(),
               mxComputeOnce("fitfunction", "gradient"),
               mxComputeReportDeriv())))
fit <- mxRun(m, silent = TRUE)
est <- fit$item$values
V <- solve(fit$output$hessian / 2)                        # hessian of -2LL
pn <- names(fit$output$estimate)
# c_k(gam) is linear: columns of Tc from unit gam vectors (theta = 0, a irrelevant)
cfun <- function(par) { p <- rpf.prob(spec[[1]], par, 0); log(p[-1] / p[1]) }
a_out <- c(); c_out <- list(); se_a <- c(); se_c <- list()
for (j in seq_along(items)) {
  par <- est[, j]
  base <- par; base[K + seq_len(K - 1)] <- 0; base[1] <- 1
  Tc <- sapply(seq_len(K - 1), function(h) { e <- base; e[K + h] <- 1; cfun(e) })
  cj <- drop(Tc %*% par[K + seq_len(K - 1)])
  ia <- match(sprintf("gpcm.item[1,%d]", j), pn)
  ig <- match(sprintf("gpcm.item[%d,%d]", K + seq_len(K - 1), j), pn)
  a_out[j] <- par[1]; c_out[[j]] <- cj
  se_a[j] <- sqrt(V[ia, ia]); se_c[[j]] <- sqrt(diag(Tc %*% V[ig, ig] %*% t(Tc)))
}
res <- list(n_obs = nrow(raw), items = items, a = a_out,
            c = do.call(rbind, c_out), se_a = se_a, se_c = do.call(rbind, se_c),
            logLik = -fit$output$minimum / 2,
            gradient_max_abs = max(abs(fit$output$gradient)),
            n_par = length(fit$output$estimate), status = fit$output$status$code,
            versions = list(R = R.version.string,
                            OpenMx = as.character(packageVersion("OpenMx")),
                            rpf = as.character(packageVersion("rpf"))),
            settings = list(qpoints = 49, qwidth = 6, em_tolerance = 1e-12,
                            information = "oakes1999"))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/gpcm_bfi.json")
