# Reference: DIF by gender on bfi N1-N5 (complete rows; gender 1 = male is the reference).
# (1) Multiple-group graded response model in OpenMx (mxExpectationBA81, 49 points on [-6, 6]):
#     all items equal across groups, female latent mean and variance free ("constrained");
#     and the same with item N2 free across groups ("N2_free").  Optimised with
#     mxComputeGradientDescent on the multigroup marginal likelihood (SLSQP) from our
#     own rough start, then the gradient is reported.
# (2) Ordinal logistic regression DIF with MASS::polr (logit), matching on the sum score:
#     m1 = item ~ sum, m2 = item ~ sum + group, m3 = item ~ sum * group; logLik of each and
#     the intercept-only logLik (McFadden pseudo-R2 as in lordif).
# Run from the repository root:  Rscript tests/data/r_scripts/irt/dif_bfi.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite); library(MASS)})
mxOption(NULL, "Number of Threads", 1L)
bfi <- read.csv("tests/data/datasets/bfi.csv")
items <- c("N1", "N2", "N3", "N4", "N5")
d <- bfi[rowSums(is.na(bfi[, items])) == 0, c(items, "gender")]
fac <- function(raw) as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 1:6)))
grm <- fromJSON("tests/data/r_results/irt/grm_bfi.json")$complete
start <- rbind(grm$a, t(grm$c)); colnames(start) <- items

mk <- function(name, raw, free_items, latent_free) {
  spec <- lapply(items, function(i) rpf.grm(outcomes = 6))
  lab <- matrix(paste0(rep(items, each = 6), "_", c("a", paste0("c", 1:5))), 6, 5)
  lab[, items %in% free_items] <- paste0(name, "_", lab[, items %in% free_items])
  imat <- mxMatrix(name = "item", values = start, free = TRUE, labels = lab,
                   dimnames = list(c("f1", paste0("c", 1:5)), items))
  mean <- mxMatrix("Full", 1, 1, free = latent_free, values = 0, name = "mean",
                   labels = if (latent_free) paste0(name, "_mean") else NA,
                   dimnames = list(NULL, "f1"))
  cov <- mxMatrix("Full", 1, 1, free = latent_free, values = 1, name = "cov",
                  labels = if (latent_free) paste0(name, "_var") else NA, lbound = 1e-3,
                  dimnames = list("f1", "f1"))
  mxModel(name, imat, mean, cov, mxData(fac(raw), type = "raw"),
          mxExpectationBA81(spec, qpoints = 49, qwidth = 6, mean = "mean", cov = "cov"),
          mxFitFunctionML())
}
fit_mg <- function(free_items) {
  g1 <- mk("male", d[d$gender == 1, items], free_items, FALSE)
  g2 <- mk("female", d[d$gender == 2, items], free_items, TRUE)
  m <- mxModel("mg", g1, g2, mxFitFunctionMultigroup(c("male", "female")),
               mxComputeSequence(list(
                 mxComputeGradientDescent(engine = "SLSQP", tolerance = 1e-14),
                 mxComputeOnce("fitfunction", "gradient"),
                 mxComputeReportDeriv())))
  f <- mxRun(m, silent = TRUE)
  list(logLik = -f$output$minimum / 2, n_par = length(f$output$estimate),
       gradient_max_abs = max(abs(f$output$gradient)),
       female_mean = unname(f$output$estimate["female_mean"]),
       female_var = unname(f$output$estimate["female_var"]))
}
mg <- list(constrained = fit_mg(character(0)), N2_free = fit_mg("N2"))

ss <- rowSums(d[, items])
grp <- as.numeric(d$gender == 2)
ol <- lapply(items, function(it) {
  y <- factor(d[[it]])
  m0 <- polr(y ~ 1, method = "logistic")
  m1 <- polr(y ~ ss, method = "logistic")
  m2 <- polr(y ~ ss + grp, method = "logistic")
  m3 <- polr(y ~ ss * grp, method = "logistic")
  list(item = it, ll0 = as.numeric(logLik(m0)), ll1 = as.numeric(logLik(m1)),
       ll2 = as.numeric(logLik(m2)), ll3 = as.numeric(logLik(m3)),
       beta1_m1 = unname(coef(m1)["ss"]), beta1_m2 = unname(coef(m2)["ss"]))
})
res <- list(n_obs = nrow(d), n_male = sum(d$gender == 1), multigroup = mg, ordinal = ol,
            versions = list(R = R.version.string,
                            OpenMx = as.character(packageVersion("OpenMx")),
                            MASS = as.character(packageVersion("MASS"))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/dif_bfi.json")
