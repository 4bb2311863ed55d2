# Cross-check (approximate): the normal-ogive graded response model against lavaan's ordinal
# CFA (WLSMV, delta parameterization, std.lv = TRUE) on bfi N1-N5, complete rows.  The CFA's
# loadings and thresholds convert to normal-ogive IRT parameters:
#   a = lambda / sqrt(1 - lambda^2),  c_k = -tau_k / sqrt(1 - lambda^2)
# Limited-information DWLS and full-information ML estimate the same parameters but are not
# equal in a sample, so the comparison is approximate.
# Run from the repository root:  Rscript tests/data/r_scripts/irt/lavaan_ogive_bfi.R
suppressMessages({library(lavaan); library(jsonlite)})
bfi <- read.csv("tests/data/datasets/bfi.csv")
items <- c("N1", "N2", "N3", "N4", "N5")
d <- bfi[rowSums(is.na(bfi[, items])) == 0, items]
fit <- cfa("N =~ N1 + N2 + N3 + N4 + N5", data = d, ordered = items, std.lv = TRUE)
pe <- parameterEstimates(fit)
lam <- pe$est[pe$op == "=~"]
tau <- t(sapply(items, function(i) pe$est[pe$op == "|" & pe$lhs == i]))
res <- list(items = items, n_obs = nrow(d), lambda = lam, tau = unname(tau),
            a = lam / sqrt(1 - lam^2), c = unname(-tau / sqrt(1 - lam^2)),
            versions = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan"))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/lavaan_ogive_bfi.json")
