## Extra lavaan 0.6-14 references for psychometrics.sem (structural models, options, invariance variants).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_structural.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
DATA <- "tests/data/datasets"
OUT <- "tests/data/r_results/sem"
nv <- function(x) { x <- unclass(x); if (is.null(names(x))) as.list(as.vector(x)) else as.list(setNames(as.vector(x), names(x))) }
mat <- function(m) { m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn) }
df_rows <- function(d) { d <- as.data.frame(d); rownames(d) <- NULL; class(d) <- "data.frame"; d }
write_json_out <- function(x, file) {
  x <- c(list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")))), x)
  writeLines(toJSON(x, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                    dataframe = "rows", matrix = "rowmajor", force = TRUE), file.path(OUT, file))
}
summ <- function(fit, call) {
  ng <- lavInspect(fit, "ngroups")
  impl <- lavInspect(fit, "implied"); if (ng == 1) impl <- list(impl)
  rc <- resid(fit, type = "cor"); if (ng == 1) rc <- list(rc)
  rsq <- lavInspect(fit, "rsquare"); if (ng == 1) rsq <- list(rsq)
  list(call = call, converged = lavInspect(fit, "converged"), npar = lavInspect(fit, "npar"),
       parameterEstimates = df_rows(parameterEstimates(fit)),
       standardizedSolution_std_all = df_rows(standardizedSolution(fit, type = "std.all")),
       standardizedSolution_std_lv = df_rows(standardizedSolution(fit, type = "std.lv")),
       fitMeasures = nv(fitMeasures(fit)),
       modindices_top10 = df_rows(modindices(fit, sort. = TRUE, maximum.number = 10)),
       implied_cov = lapply(impl, function(x) mat(x$cov)),
       implied_mean = lapply(impl, function(x) if (is.null(x$mean)) NULL else nv(x$mean)),
       residual_cor = lapply(rc, function(x) mat(x$cov)),
       rsquare = lapply(rsq, nv))
}
PD <- read.csv(file.path(DATA, "PoliticalDemocracy.csv"))
PD.model <- '
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
  # regressions
    dem60 ~ g1*ind60
    dem65 ~ g2*ind60 + b2*dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
  # defined
    indirect := g1*b2
    total := g2 + g1*b2
'
HS <- read.csv(file.path(DATA, "HolzingerSwineford1939.csv"), stringsAsFactors = FALSE)
HS.model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '
HS.fixed <- ' visual  =~ x1 + 0.5*x2 + NA*x3 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9
              visual ~~ 0*speed
              x1 ~ 1 '
HS.mimic <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              visual ~ ageyr + sex
              textual ~ ageyr '
HS.path <- ' x9 ~ x1 + x2
             x8 ~ x9 + x1
             x7 ~ x8 '
HS.second <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9
              g =~ visual + textual + speed '
HS.eq <- ' visual  =~ x1 + v2*x2 + v3*x3
           textual =~ x4 + start(1)*x5 + t6*x6
           speed   =~ x7 + x8 + x9
           v2 == v3
           x1 ~~ x4 '
HS.groupvec <- ' visual  =~ x1 + c(a1, a1)*x2 + c(NA, 0.6)*x3
                textual =~ x4 + x5 + x6
                speed   =~ x7 + x8 + x9 '
HS.int <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            x1 ~ 0*1
            visual ~ 1 '
HS.multi <- ' x7 + x8 ~ x1 + x2
              x9 ~ x7 '
HS.fixcov <- ' visual =~ x1 + x2 + x3
               textual =~ x4 + x5 + x6
               visual ~~ 0.3*textual '
HS.cross <- ' visual =~ x1 + x2 + x3 + x9
              speed =~ x7 + x8 + x9
              visual ~ ageyr
              speed ~ visual + sex '
calls <- list(
  pd_sem = 'sem(PD.model, data = PD)',
  pd_sem_stdlv_observed = 'sem(PD.model, data = PD, std.lv = TRUE, information = "observed")',
  pd_sem_meanstructure = 'sem(PD.model, data = PD, meanstructure = TRUE)',
  hs_fixed = 'cfa(HS.fixed, data = HS)',
  hs_strict = 'cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts", "residuals"))',
  hs_partial = 'cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts"), group.partial = c("visual =~ x2", "x3 ~ 1"))',
  hs_means = 'cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts", "means"))',
  hs_mimic = 'sem(HS.mimic, data = HS)',
  hs_path = 'sem(HS.path, data = HS)',
  hs_path_meanstructure = 'sem(HS.path, data = HS, meanstructure = TRUE)',
  hs_mimic_groups = 'sem(HS.mimic, data = HS, group = "school", group.equal = "loadings")',
  hs_second_order = 'cfa(HS.second, data = HS)',
  hs_second_order_stdlv = 'cfa(HS.second, data = HS, std.lv = TRUE)',
  pd_sem_mlr = 'sem(PD.model, data = PD, estimator = "MLR")',
  hs_eq = 'cfa(HS.eq, data = HS)',
  hs_groupvec = 'cfa(HS.groupvec, data = HS, group = "school")',
  hs_groups_observed = 'cfa(HS.model, data = HS, group = "school", group.equal = "loadings", information = "observed")',
  hs_mimic_equal_many = 'sem(HS.mimic, data = HS, group = "school", group.equal = c("loadings", "regressions", "lv.variances", "lv.covariances", "residuals", "residual.covariances"))',
  hs_mimic_mlr = 'sem(HS.mimic, data = HS, estimator = "MLR")',
  hs_path_mlr = 'sem(HS.path, data = HS, estimator = "MLR")',
  hs_int = 'sem(HS.int, data = HS)',
  hs_multi_lhs = 'sem(HS.multi, data = HS)',
  hs_fixcov = 'sem(HS.fixcov, data = HS)',
  hs_cross = 'sem(HS.cross, data = HS)',
  hs_orthogonal = 'cfa(HS.model, data = HS, orthogonal = TRUE)',
  hs_groups_stdlv = 'cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts"), std.lv = TRUE)',
  hs_scalar_mlr = 'cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts"), estimator = "MLR")')
out <- list()
for (k in names(calls)) out[[k]] <- summ(eval(parse(text = calls[[k]])), calls[[k]])
conf <- cfa(HS.model, data = HS, group = "school")
met <- cfa(HS.model, data = HS, group = "school", group.equal = "loadings")
sca <- cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts"))
str <- cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts", "residuals"))
lrt <- lavTestLRT(conf, met, sca, str)
out$lrt4 <- cbind(row = c("configural", "metric", "scalar", "strict"), df_rows(as.data.frame(lrt)))
out$lrt4_fit <- lapply(list(configural = conf, metric = met, scalar = sca, strict = str),
                       function(f) nv(fitMeasures(f, c("chisq", "df", "cfi", "rmsea"))))
confR <- cfa(HS.model, data = HS, group = "school", estimator = "MLR")
metR <- cfa(HS.model, data = HS, group = "school", group.equal = "loadings", estimator = "MLR")
scaR <- cfa(HS.model, data = HS, group = "school", group.equal = c("loadings", "intercepts"), estimator = "MLR")
lrtR <- lavTestLRT(confR, metR, scaR)
out$lrt_mlr <- cbind(row = c("configural", "metric", "scalar"), df_rows(as.data.frame(lrtR)))
write_json_out(out, "sem_structural.json")
cat("done\n")
