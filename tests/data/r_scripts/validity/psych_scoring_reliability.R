## Reference values for psych's scoreItems, reliability, unidim and omegaSem (psych 2.2.9,
## lavaan 0.6-14). Run from the repository root:
##   Rscript tests/data/r_scripts/validity/psych_scoring_reliability.R
## Writes tests/data/r_results/validity/psych_scoring_reliability.json; each entry keeps its R call.
suppressPackageStartupMessages({library(psych); library(jsonlite); library(lavaan); library(GPArotation)})
options(warn = 1)
bfi <- read.csv("tests/data/datasets/bfi.csv")
hs <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
mat <- function(m) { m <- unclass(as.matrix(m)); list(rows = rownames(m), cols = colnames(m),
  values = lapply(seq_len(nrow(m)), function(i) as.vector(m[i, ]))) }
out <- list(versions = list(psych = as.character(packageVersion("psych")),
  lavaan = as.character(packageVersion("lavaan"))))
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
  extraversion = c("-E1", "-E2", "E3", "E4", "E5"), neuroticism = c("N1", "N2", "N3", "N4", "N5"),
  openness = c("O1", "-O2", "O3", "O4", "-O5"))
items <- bfi[, 1:25]
si <- function(s, call) list(call = call, scores_head = mat(head(s$scores, 40)),
  scores_na = sum(is.na(s$scores)), alpha = as.vector(s$alpha), av_r = as.vector(s$av.r),
  g6 = as.vector(s$G6), sn = as.vector(s$sn), n_items = as.vector(s$n.items),
  med_r = as.vector(s$med.r), ase = as.vector(s$ase), alpha_ob = as.vector(s$alpha.ob),
  num_ob_item = as.vector(s$num.ob.item), cor = mat(s$cor), corrected = mat(s$corrected),
  item_cor = mat(s$item.cor), item_corrected = mat(s$item.corrected), mims = mat(s$MIMS),
  missing_head = mat(head(s$missing, 40)), scale_names = colnames(s$scores))
out$score_items_median <- si(scoreItems(keys, items),
  "psych::scoreItems(keys, bfi[, 1:25])  # impute = 'median' (psych's default)")
out$score_items_mean_totals <- si(scoreItems(keys, items, impute = "mean", totals = TRUE),
  "psych::scoreItems(keys, bfi[, 1:25], impute = 'mean', totals = TRUE)")
out$score_items_none <- si(scoreItems(keys, items, impute = "none"),
  "psych::scoreItems(keys, bfi[, 1:25], impute = 'none')")
out$score_items_minmax <- si(scoreItems(keys[1:2], items, impute = "median", min = 1, max = 7),
  "psych::scoreItems(keys[1:2], bfi[, 1:25], min = 1, max = 7)")

## psych::reliability: omega_h, alpha, omega.tot, Uni, r.fit, fa.fit, splits, mean/median r
rel <- reliability(keys, items)
out$reliability_bfi <- list(call = "psych::reliability(keys, bfi[, 1:25])",
  table = mat(rel$result.df))
rel3 <- reliability(list(vis_text = paste0("x", 1:6), vis_speed = paste0("x", c(1:3, 7:9)),
  all = paste0("x", 1:9)), hs[, paste0("x", 1:9)])
out$reliability_hs <- list(call = "psych::reliability(list(vis_text=x1:x6, vis_speed=x1:x3,x7:x9, all=x1:x9), HS)",
  table = mat(rel3$result.df))

## unidim
u <- unidim(items, keys)
out$unidim_bfi <- list(call = "psych::unidim(bfi[, 1:25], keys)", table = mat(u$uni))

## omegaSem: Schmid-Leiman solution refitted as a bifactor CFA by lavaan
os <- omegaSem(hs[, paste0("x", 1:9)], nfactors = 3, plot = FALSE)
ef <- os$omega.efa
out$omega_sem_hs <- list(call = "psych::omegaSem(HS[, x1:x9], nfactors = 3, plot = FALSE)",
  model = as.character(os$omegaSem$model$lavaan), omega_h = ef$omega, omega_tot = ef$omega.tot,
  cfa_loads = mat(unclass(ef$cfa.loads)), omega_group = mat(ef$omega.group),
  chisq = unname(fitMeasures(os$sem, "chisq")), df = unname(fitMeasures(os$sem, "df")),
  sl_omega_h = os$omegaSem$omega_h, sl_omega_tot = os$omegaSem$omega.tot)
os2 <- omegaSem(bfi[, 1:25], nfactors = 5, plot = FALSE)
ef2 <- os2$omega.efa
out$omega_sem_bfi <- list(call = "psych::omegaSem(bfi[, 1:25], nfactors = 5, plot = FALSE)",
  model = as.character(os2$omegaSem$model$lavaan), omega_h = ef2$omega, omega_tot = ef2$omega.tot,
  cfa_loads = mat(unclass(ef2$cfa.loads)), omega_group = mat(ef2$omega.group),
  chisq = unname(fitMeasures(os2$sem, "chisq")), df = unname(fitMeasures(os2$sem, "df")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
  "tests/data/r_results/validity/psych_scoring_reliability.json")
