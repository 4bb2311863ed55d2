# Reference: scoring and item fit of the graded response model on bfi N1-N5 (complete rows),
# at the OpenMx estimates of grm_bfi.R (case "complete"), with rpf's functions:
#   sumScoreEAP   EAP and posterior SD for every sum score (Lord-Wingersky; Thissen et al. 1995)
#   EAPscores     EAP and posterior SD per respondent, for the first 200 rows of the data
#                 *with* missing responses
#   SitemFit      S-X2 (Pearson) item fit tables (rest-score grouping, rpf's default)
#   rpf.info      item information at theta = -3, -2.5, ..., 3
#   ChenThissen1997  observed and model-implied bivariate tables of every item pair
# Quadrature 49 points on [-6, 6].
# Run from the repository root:  Rscript tests/data/r_scripts/irt/scores_fit_bfi.R
suppressMessages({library(OpenMx); library(rpf); library(jsonlite)})
mxOption(NULL, "Number of Threads", 1L)
bfi <- read.csv("tests/data/datasets/bfi.csv")
items <- c("N1", "N2", "N3", "N4", "N5")
ref <- fromJSON("tests/data/r_results/irt/grm_bfi.json")$complete
param <- rbind(a = ref$a, t(ref$c)); colnames(param) <- items
spec <- lapply(items, function(i) rpf.grm(outcomes = 6))
fac <- function(raw) as.data.frame(lapply(raw, function(x) mxFactor(x, levels = 1:6)))
raw <- bfi[rowSums(is.na(bfi[, items])) == 0, items]
grp <- list(spec = spec, param = param, mean = 0, cov = matrix(1), data = fac(raw),
            qwidth = 6, qpoints = 49L)

ss <- sumScoreEAP(grp)
sx2 <- SitemFit(grp, method = "pearson")
# rpf's S-X2 groups by the REST score (the other items' sum; alt = FALSE) and merges small
# cells in C; we export the uncollapsed tables (orig.*) and their Pearson X2.
sx2_tab <- lapply(names(sx2), function(i) list(
  item = i, observed = unname(sx2[[i]]$orig.observed), expected = unname(sx2[[i]]$orig.expected),
  x2_uncollapsed = sum(((sx2[[i]]$orig.observed - sx2[[i]]$orig.expected)^2 /
                        sx2[[i]]$orig.expected)[sx2[[i]]$orig.expected > 0]),
  statistic_collapsed = sx2[[i]]$statistic, df_collapsed = sx2[[i]]$df))
ld <- ChenThissen1997(grp)
ld_tab <- lapply(names(ld$detail), function(pr) {
  d <- ld$detail[[pr]]
  list(pair = strsplit(pr, ":")[[1]], observed = unname(d$orig.observed),
       expected = unname(d$orig.expected),
       x2_uncollapsed = sum(((d$orig.observed - d$orig.expected)^2 / d$orig.expected)))
})

# EAP scores with missing responses: a BA81 model with fixed parameters
rawm <- bfi[1:200, items]
rawm <- rawm[rowSums(!is.na(rawm)) > 0, ]
grpm <- grp; grpm$data <- fac(rawm)
fs <- EAPscores(grpm)
# item information (rpf.info) at a grid of theta
th_info <- seq(-3, 3, by = 0.5)
info <- sapply(seq_along(items), function(j) rpf.info(spec[[j]], param[, j], t(th_info)))
res <- list(
  information = list(theta = th_info, item = unname(info)),   # item[theta, item]
  sum_score = list(sum_score = as.integer(sub("^(\\d+).*", "\\1", rownames(ss))),
                   p = unname(ss[, "p"]), eap = unname(ss[, 2]),
                   se = unname(ss[, 3])),
  sx2 = sx2_tab,
  ld = ld_tab,
  eap = list(rows = as.integer(rownames(rawm)), est = unname(fs[, 1]),
             se = unname(fs[, 2])),
  versions = list(R = R.version.string, OpenMx = as.character(packageVersion("OpenMx")),
                  rpf = as.character(packageVersion("rpf"))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/irt/scores_fit_bfi.json")
