# Reference: bifactor graded response models (one general factor, orthogonal specific
# factors, every item on the general factor and on one specific factor) fitted by OpenMx's
# full-information EM (mxExpectationBA81 with multidimensional rpf.grm items; OpenMx
# integrates a bifactor structure two-tier, i.e. general x specific grids, Cai 2010).
#   case "bfi":     psych's bfi, complete rows, 12 items in three 4-item subscales as a
#                   WAI-SR-like bank (A2-A5; C1-C3 + C4 reversed; E1, E2 reversed + E3, E4),
#                   6 categories
#   case "ability": psychTools' ability (16 binary ICAR items, 4 subscales reason/letter/
#                   matrix/rotate), every row with at least one answer (missing responses in
#                   the likelihood); the CSV is written to tests/data/datasets/ability.csv
# Latent distribution N(0, I); quadrature qpoints = 21 per dimension on [-5, 5] (qwidth = 5),
# normal weights normalised per dimension.  EM with Newton-Raphson M-step (tolerance 1e-15),
# SEs by Oakes (1999) observed information.  (mxComputeNumericDeriv at the same estimates was
# tried as a second check: on ability it is NA along the nearly flat direction of matrix.45
# and up to 9% off elsewhere, where the Oakes SEs agree with the exact Hessian to 1e-5.)
# Run from the repository root:  Rscript tests/data/r_scripts/irt/bifactor.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite); library(psychTools)})
mxOption(NULL, "Number of Threads", 1L)

fit_bifactor <- function(raw, groups, K) {
  items <- colnames(raw)
  lab_items <- gsub(".", "_", items, fixed = TRUE)      # OpenMx labels may not contain "."
  S <- length(groups)
  fac <- c("G", names(groups))
  dat <- as.data.frame(lapply(raw, function(x) mxFactor(x, levels = sort(unique(na.omit(x))))))
  colnames(dat) <- lab_items                             # OpenMx names may not contain "."
  spec <- lapply(items, function(i) rpf.grm(factors = S + 1, outcomes = K))
  spec_of <- sapply(items, function(i) which(sapply(groups, function(g) i %in% g)))
  start <- matrix(0, S + K, length(items),
                  dimnames = list(c(fac, paste0("c", 1:(K - 1))), lab_items))
  free <- matrix(FALSE, S + K, length(items))
  labels <- matrix(NA_character_, S + K, length(items))
  for (j in seq_along(items)) {
    s <- spec_of[j]
    start[1, j] <- 1; start[1 + s, j] <- 0.5
    start[(S + 2):(S + K), j] <- seq(1.5, -1.5, length.out = K - 1)
    free[c(1, 1 + s, (S + 2):(S + K)), j] <- TRUE
    labels[1, j] <- paste0(lab_items[j], "_aG")
    labels[1 + s, j] <- paste0(lab_items[j], "_aS")
    labels[(S + 2):(S + K), j] <- paste0(lab_items[j], "_c", 1:(K - 1))
  }
  imat <- mxMatrix(name = "item", values = start, free = free, labels = labels,
                   dimnames = dimnames(start))
  m <- mxModel("bifactor", imat, mxData(dat, type = "raw"),
               mxExpectationBA81(spec, qpoints = 21, qwidth = 5),
               mxFitFunctionML(),
               mxComputeSequence(list(
                 mxComputeEM("expectation", "scores", mxComputeNewtonRaphson(),
                             tolerance = 1e-15, maxIter = 50000L,
                             information = "oakes1999",
                             infoArgs = list(fitfunction = "fitfunction")),
                 mxComputeHessianQuality(),
                 mxComputeStandardError(),
                 mxComputeOnce("fitfunction", "gradient"),
                 mxComputeReportDeriv())))
  t0 <- Sys.time()
  fit <- mxRun(m, silent = TRUE)
  secs <- as.numeric(Sys.time() - t0, units = "secs")
  est <- fit$item$values
  se <- fit$output$standardErrors[, 1]
  lab <- function(suffix, v = se) unname(v[paste0(lab_items, suffix)])
  gr <- fit$output$gradient                             # d(-2 logLik) at the estimates
  cnames <- as.vector(t(outer(lab_items, paste0("_c", 1:(K - 1)), paste0)))
  list(n_obs = nrow(raw), items = items, specific = unname(names(groups)[spec_of]),
       a_general = unname(est[1, ]),
       a_specific = sapply(seq_along(items), function(j) est[1 + spec_of[j], j]),
       c = unname(t(est[(S + 2):(S + K), ])),
       se_a_general = lab("_aG"), se_a_specific = lab("_aS"),
       se_c = unname(matrix(se[cnames], ncol = K - 1, byrow = TRUE)),
       grad_a_general = lab("_aG", gr), grad_a_specific = lab("_aS", gr),
       grad_c = unname(matrix(gr[cnames], ncol = K - 1, byrow = TRUE)),
       logLik = -fit$output$minimum / 2,
       gradient_max_abs = max(abs(fit$output$gradient)),
       n_par = length(fit$output$estimate),
       em_iterations = fit$compute$steps[[1]]$output$EMcycles,
       seconds = secs,
       status = fit$output$status$code)
}

bfi <- read.csv("tests/data/datasets/bfi.csv")
b_items <- c("A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "E1", "E2", "E3", "E4")
braw <- bfi[rowSums(is.na(bfi[, b_items])) == 0, b_items]
for (i in c("C4", "E1", "E2")) braw[[i]] <- 7 - braw[[i]]       # reverse keyed
bgroups <- list(A = c("A2", "A3", "A4", "A5"), C = c("C1", "C2", "C3", "C4"),
                E = c("E1", "E2", "E3", "E4"))

ability <- as.data.frame(psychTools::ability)
write.csv(ability, "tests/data/datasets/ability.csv", row.names = FALSE)
araw <- ability[rowSums(!is.na(ability)) > 0, ]
an <- colnames(ability)
agroups <- list(reason = an[grepl("^reason", an)], letter = an[grepl("^letter", an)],
                matrix = an[grepl("^matrix", an)], rotate = an[grepl("^rotate", an)])

res <- list(
  bfi = fit_bifactor(braw, bgroups, 6),
  ability = fit_bifactor(araw, agroups, 2),
  ability_rows_all_missing = sum(rowSums(!is.na(ability)) == 0),
  versions = list(R = R.version.string, OpenMx = as.character(packageVersion("OpenMx")),
                  rpf = as.character(packageVersion("rpf")),
                  psychTools = as.character(packageVersion("psychTools"))),
  settings = list(qpoints = 21, qwidth = 5, em_tolerance = 1e-15, information = "oakes1999"))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/bifactor.json")
