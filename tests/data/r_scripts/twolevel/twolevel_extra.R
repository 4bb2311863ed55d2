## Extra lavaan 0.6-14 / semTools 0.5-6 references for psychometrics.sem.twolevel.
## Run from the repository root:  Rscript tests/data/r_scripts/twolevel/twolevel_extra.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan); library(semTools) })
DATA <- "tests/data/datasets"
OUT <- "tests/data/r_results/twolevel"
nv <- function(x) { x <- unclass(x); if (is.null(names(x))) as.list(as.vector(x)) else as.list(setNames(as.vector(x), names(x))) }
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
mat <- function(m) { m <- as.matrix(unclass(m)); setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), colnames(m))), rownames(m)) }
TS <- read.csv(file.path(DATA, "therapy_sim.csv"))
D <- read.csv(file.path(DATA, "Demo.twolevel.csv"))
quiet <- function(expr) withCallingHandlers(expr, warning = function(w) {
  if (grepl("no variance within some clusters", conditionMessage(w))) invokeRestart("muffleWarning")
})
fit_out <- function(f, call, m) {
  h1 <- lavInspect(f, "h1")
  list(call = call, model = m, converged = lavInspect(f, "converged"),
       nobs = lavInspect(f, "nobs"), nclusters = lavInspect(f, "nclusters"),
       npar = lavInspect(f, "npar"), fitMeasures = nv(fitMeasures(f)),
       parameterEstimates = df_rows(parameterEstimates(f)),
       standardizedSolution_std_all = df_rows(standardizedSolution(f)),
       h1_within_cov = mat(h1[[1]]$cov), h1_between_cov = mat(h1[[2]]$cov),
       implied_within_cov = mat(fitted(f)[[1]]$cov), implied_between_cov = mat(fitted(f)[[2]]$cov),
       implied_between_mean = nv(fitted(f)[[2]]$mean))
}
items <- paste0("wai_", 1:12)
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))))

## (1) therapy: 1 within + 1 between factor (case 8 model), level-specific reliability
m1 <- paste0("level: 1\n  wai_w =~ ", paste(items, collapse = " + "),
             "\nlevel: 2\n  wai_b =~ ", paste(items, collapse = " + "), "\n")
f1 <- quiet(sem(m1, data = TS, cluster = "patient_id"))
out$therapy_1w1b <- c(fit_out(f1, 'sem(m1, data = therapy_sim, cluster = "patient_id")', m1), list(
  compRelSEM_blocks = lapply(compRelSEM(f1, return.df = FALSE), nv),
  compRelSEM_blocks_implied = lapply(compRelSEM(f1, obs.var = FALSE, return.df = FALSE), nv),
  compRelSEM_shared = nv(unlist(compRelSEM(f1, shared = "wai_b"))),
  harmonic_mean_cluster_size = 1 / mean(1 / lavInspect(f1, "cluster.size"))))

## (2) therapy: configural construct, loadings equal across levels (shared labels)
lab <- paste0("L", 1:12, "*", items, collapse = " + ")
m2 <- paste0("level: 1\n  wai =~ ", lab, "\nlevel: 2\n  wai =~ ", lab, "\n")
f2 <- quiet(sem(m2, data = TS, cluster = "patient_id"))
cr2 <- compRelSEM(f2, config = "wai", shared = "wai")
cr2i <- compRelSEM(f2, config = "wai", shared = "wai", obs.var = FALSE)
out$therapy_config_equal <- c(fit_out(f2, 'sem(m2, data = therapy_sim, cluster = "patient_id")', m2), list(
  compRelSEM_config_shared = list(config = nv(unlist(cr2$config)), shared = nv(unlist(cr2$shared))),
  compRelSEM_config_shared_implied = list(config = nv(unlist(cr2i$config)), shared = nv(unlist(cr2i$shared)))))
lrt21 <- as.data.frame(lavTestLRT(f2, f1))
out$lavTestLRT_config_equal_vs_1w1b <- df_rows(cbind(row = c(f1 = "f1", f2 = "f2")[c("f1", "f2")][match(rownames(lrt21), c("f1", "f2"))], lrt21))

## (3) Demo.twolevel: std.lv, a within-only outcome (x1) and a between-only outcome (w1)
m3 <- '
level: 1
  f1 =~ y1 + y2 + y3
  f2 =~ y4 + y5 + y6
  x1 ~ f1
level: 2
  fb =~ y1 + y2 + y3
  fb2 =~ y4 + y5 + y6
  w1 ~ fb
'
## (an earlier version with one between factor for y1-y6 had two local maxima; lavaan's
##  nlminb stopped at the lower one, so the between part now has two factors)
f3 <- sem(m3, data = D, cluster = "cluster", std.lv = TRUE)
out$demo_stdlv_outcomes <- fit_out(f3, 'sem(m3, data = Demo.twolevel, cluster = "cluster", std.lv = TRUE)', m3)

writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(cr2); print(cr2i); print(compRelSEM(f1)); print(compRelSEM(f1, shared = "wai_b"))
print(fitMeasures(f3, c("chisq", "df", "logl", "srmr_within", "srmr_between")))

## (4) Demo.twolevel tutorial model with fixed.x = FALSE, written with level: within / between
m4 <- '
level: within
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: between
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
'
f4 <- sem(m4, data = D, cluster = "cluster", fixed.x = FALSE)
out$demo_fixedx_false <- fit_out(f4, 'sem(m4, data = Demo.twolevel, cluster = "cluster", fixed.x = FALSE)', m4)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(fitMeasures(f4, c("chisq", "df", "logl", "npar")))

## (5) latent-mean decomposition of a predictor (Luedtke et al. 2008): y2 and x-variables
##     regressed at both levels; y2 is an exogenous covariate at both levels (fixed.x)
m5 <- '
level: 1
    y1 ~ y2 + x1
level: 2
    y1 ~ y2 + w1
'
f5 <- sem(m5, data = D, cluster = "cluster")
out$demo_path_split_x <- fit_out(f5, 'sem(m5, data = Demo.twolevel, cluster = "cluster")', m5)
## (6) the same on therapy_sim: outcome (OQ-45 total) on the alliance item wai_1, within and between
m6 <- '
level: 1
    oq_total ~ wai_1
level: 2
    oq_total ~ wai_1
'
f6 <- quiet(sem(m6, data = TS, cluster = "patient_id"))
out$therapy_contextual <- fit_out(f6, 'sem(m6, data = therapy_sim, cluster = "patient_id")', m6)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(parameterEstimates(f5)); print(fitMeasures(f5, c("chisq", "df", "logl", "npar")))
print(parameterEstimates(f6)); print(fitMeasures(f6, c("chisq", "df", "logl", "npar")))

## (7) the saturated two-level model fitted explicitly as an h0 model (all covariances free at
##     both levels): its logL is the exact maximum, to compare with lavaan's EM h1 logL
pairs <- function(v) { out <- character(0); for (i in seq_along(v)) out <- c(out, paste(v[i], "~~", paste(v[i:length(v)], collapse = " + "))); out }
m7 <- paste(c("level: 1", pairs(items), "level: 2", pairs(items)), collapse = "\n")
f7 <- quiet(sem(m7, data = TS, cluster = "patient_id"))
out$therapy_saturated_explicit <- list(call = 'sem(m7, data = therapy_sim, cluster = "patient_id")',
  model = m7, converged = lavInspect(f7, "converged"), logl = fitMeasures(f7, "logl")[[1]],
  em_unrestricted_logl = fitMeasures(f7, "unrestricted.logl")[[1]], npar = fitMeasures(f7, "npar")[[1]])
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(out$therapy_saturated_explicit[c("converged", "logl", "em_unrestricted_logl", "npar")])

## (8) contextual effect (Luedtke et al. 2008): between slope minus within slope, a defined
##     parameter across levels
m8 <- '
level: 1
    oq_total ~ bw*wai_1
level: 2
    oq_total ~ bb*wai_1
    contextual := bb - bw
    ratio := bb / bw
'
f8 <- quiet(sem(m8, data = TS, cluster = "patient_id"))
out$therapy_contextual_defined <- fit_out(f8, 'sem(m8, data = therapy_sim, cluster = "patient_id")', m8)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(parameterEstimates(f8)); print(standardizedSolution(f8))

## (9) singleton clusters: clusters 1-30 of Demo.twolevel keep only their first row
##     (patients with a single session)
D9 <- D[!duplicated(D$cluster) | D$cluster > 30, ]
m9 <- '
level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
'
f9 <- sem(m9, data = D9, cluster = "cluster")
out$demo_singletons <- fit_out(f9, 'sem(m9, data = D9, cluster = "cluster")  # D9: clusters 1-30 cut to their first row', m9)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), file.path(OUT, "twolevel_extra.json"))
print(fitMeasures(f9, c("chisq", "df", "logl", "npar", "ntotal")))
