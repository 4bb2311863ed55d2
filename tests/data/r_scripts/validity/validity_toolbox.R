## Reference values for psychometrics.validity (psych 2.2.9, semTools 0.5-6, lavaan 0.6-14).
## Run from the repository root:
##   Rscript tests/data/r_scripts/validity/validity_toolbox.R
## Writes tests/data/r_results/validity/validity_toolbox.json; each entry keeps its R call.
suppressPackageStartupMessages({library(psych); library(jsonlite); library(lavaan); library(semTools)})
options(warn = 1)
bfi <- read.csv("tests/data/datasets/bfi.csv")
hs <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
mat <- function(m) { m <- unclass(as.matrix(m)); list(rows = rownames(m), cols = colnames(m),
  values = lapply(seq_len(nrow(m)), function(i) as.vector(m[i, ]))) }
df <- function(d) { d <- as.data.frame(d); cbind(row = rownames(d), d) }
out <- list(versions = list(psych = as.character(packageVersion("psych")),
  semTools = as.character(packageVersion("semTools")), lavaan = as.character(packageVersion("lavaan"))))

## corr.test: pairwise n (bfi has NA), holm (default) and a second adjustment; x by y
A <- bfi[, paste0("A", 1:5)]
ct <- corr.test(A)
out$corr_test_A <- list(call = "psych::corr.test(bfi[, paste0('A', 1:5)])", r = mat(ct$r), n = mat(ct$n),
  t = mat(ct$t), p = mat(ct$p), se = mat(ct$se), ci = df(ct$ci), ci_adj = df(ct$ci.adj))
ct2 <- corr.test(A, adjust = "BH", alpha = 0.1)
out$corr_test_A_BH <- list(call = "psych::corr.test(bfi[, paste0('A', 1:5)], adjust = 'BH', alpha = 0.1)",
  p = mat(ct2$p), ci = df(ct2$ci), ci_adj = df(ct2$ci.adj))
ct3 <- corr.test(bfi[, paste0("C", 1:3)], bfi[, c("N1", "N2")])
out$corr_test_xy <- list(call = "psych::corr.test(bfi[, paste0('C', 1:3)], bfi[, c('N1','N2')])",
  r = mat(ct3$r), n = mat(ct3$n), t = mat(ct3$t), p = mat(ct3$p), se = mat(ct3$se),
  ci = df(ct3$ci), ci_adj = df(ct3$ci.adj))
cc <- bfi[complete.cases(bfi[, paste0("E", 1:4)]), paste0("E", 1:4)]
ct4 <- corr.test(cc, method = "spearman")
out$corr_test_spearman <- list(call = "psych::corr.test(E1-E4 complete cases, method = 'spearman')",
  r = mat(ct4$r), n = ct4$n, t = mat(ct4$t), p = mat(ct4$p), se = mat(ct4$se), ci = df(ct4$ci))

## describe
d <- describe(bfi[, c("A1", "A2", "N3", "age", "education")])
out$describe <- list(call = "psych::describe(bfi[, c('A1','A2','N3','age','education')])", table = df(d))
d2 <- describe(bfi[, c("A1", "age")], trim = 0.2, type = 1)
out$describe_trim2_type1 <- list(call = "psych::describe(bfi[, c('A1','age')], trim = 0.2, type = 1)", table = df(d2))
d3 <- describe(bfi[, c("A1", "age")], type = 2)
out$describe_type2 <- list(call = "psych::describe(bfi[, c('A1','age')], type = 2)", table = df(d3))

## cohen.kappa: two raters (rows with both), a given weight matrix, three raters
ck_out <- function(k, call) list(call = call, kappa = k$kappa, weighted_kappa = k$weighted.kappa,
  n_obs = k$n.obs, var_kappa = k$var.kappa, var_weighted = k$var.weighted, confid = mat(k$confid))
ab <- na.omit(bfi[, c("A2", "A3")])
out$kappa_A2_A3 <- ck_out(cohen.kappa(ab), "psych::cohen.kappa(na.omit(bfi[, c('A2','A3')]))")
w <- outer(1:6, 1:6, function(i, j) 1 - abs(i - j) / 5)
out$kappa_A2_A3_linear <- ck_out(cohen.kappa(ab, w = w), "psych::cohen.kappa(.., w = 1 - |i-j|/5)")
small <- data.frame(r1 = c(1, 2, 2, 3, 3, 3, 1, 2, 3, 1, 2, 2), r2 = c(1, 2, 3, 3, 3, 2, 1, 1, 3, 1, 2, 2))
out$kappa_small <- ck_out(cohen.kappa(small), "psych::cohen.kappa(small 12 x 2)")
three <- na.omit(bfi[1:400, c("A2", "A3", "A5")])
k3 <- cohen.kappa(three)
out$kappa_three <- list(call = "psych::cohen.kappa(na.omit(bfi[1:400, c('A2','A3','A5')]))",
  cohen_kappa = mat(k3$cohen.kappa), av_kappa = k3$av.kappa, av_wt = k3$av.wt)

## HTMT (semTools::htmt): HS three factors, bfi five factors; htmt2 TRUE (default) and FALSE
hs_model <- "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
out$htmt_hs <- list(call = "semTools::htmt(hs_model, HolzingerSwineford1939)", model = hs_model,
  htmt = mat(htmt(hs_model, hs)))
out$htmt_hs_arith <- list(call = "semTools::htmt(hs_model, HolzingerSwineford1939, htmt2 = FALSE)",
  model = hs_model, htmt = mat(htmt(hs_model, hs, htmt2 = FALSE)))
out$htmt_hs_signed <- list(call = "semTools::htmt(hs_model, hs, htmt2 = FALSE, absolute = FALSE)",
  model = hs_model, htmt = mat(htmt(hs_model, hs, htmt2 = FALSE, absolute = FALSE)))
bfi_model <- paste(sapply(c("A", "C", "E", "N", "O"), function(f) paste0(f, " =~ ", paste0(f, 1:5, collapse = " + "))),
  collapse = "; ")
out$htmt_bfi <- list(call = "semTools::htmt(bfi_model, bfi) (listwise)", model = bfi_model,
  htmt = mat(htmt(bfi_model, bfi)))

## Fornell-Larcker: AVE (semTools::AVE) against squared latent correlations, HS CFA
fit <- cfa(hs_model, hs)
out$fornell_larcker_hs <- list(call = "semTools::AVE(cfa(hs_model, hs)); lavInspect(fit, 'cor.lv')",
  ave = as.list(AVE(fit)), cor_lv = mat(lavInspect(fit, "cor.lv")))

## factor.congruence of two loading matrices (given)
set.seed(1)
L1 <- fa(bfi[1:1200, 1:10], 2, rotate = "varimax")$loadings
L2 <- fa(bfi[1201:2800, 1:10], 2, rotate = "varimax")$loadings
out$congruence <- list(call = "psych::factor.congruence(L1, L2, digits = 15)", L1 = mat(L1), L2 = mat(L2),
  phi = mat(factor.congruence(L1, L2, digits = 15)))

## scoreOverlap: two overlapping scales, bfi items
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), agree_extra = c("A2", "A3", "E3", "E4", "E5"),
  neuro = c("N1", "N2", "N3", "N4", "N5"))
so <- scoreOverlap(keys, bfi[, 1:25])
out$score_overlap <- list(call = "psych::scoreOverlap(keys, bfi[, 1:25])", keys = keys,
  cor = mat(so$cor), corrected = mat(so$corrected), alpha = as.vector(so$alpha),
  av_r = as.vector(so$av.r), size = as.vector(so$size))

dir.create("tests/data/r_results/validity", showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
  "tests/data/r_results/validity/validity_toolbox.json")
