## lavaan 0.6-14 bootstrap references for psychometrics.sem (issue #20):
## se = "bootstrap" (ordinary, 1000 draws) on PoliticalDemocracy with defined effects,
## a mediation model on HolzingerSwineford1939 (ab := a*b), with the bootstrap draws
## themselves (lavInspect(fit, "boot")) so that the interval formulas can be checked
## exactly, percentile / bias-corrected (bca.simple) / basic / norm intervals, and
## the Bollen-Stine bootstrap p-value. Also the lavaan time of the PoliticalDemocracy
## bootstrap (used by benchmarks/bench_sem_bootstrap.py when Rscript is absent).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_bootstrap.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
PD_MODEL <- '
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
    dem60 ~ g1*ind60
    dem65 ~ g2*ind60 + b2*dem60
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
    indirect := g1*b2
    total := g2 + g1*b2'
MED <- '
    x4 ~ a*x1
    x9 ~ b*x4 + c*x1
    ab := a*b
    total := c + a*b'
HS_MODEL <- 'visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9'
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
cis <- function(f) lapply(list(perc = "perc", bca_simple = "bca.simple", basic = "basic", norm = "norm"),
                          function(t) df_rows(parameterEstimates(f, boot.ci.type = t)))
set.seed(20)
t_pd <- system.time(f_pd <- sem(PD_MODEL, data = PD, se = "bootstrap", bootstrap = 1000L))
out$pd_boot <- list(call = 'set.seed(20); sem(PD_MODEL, data = PD, se = "bootstrap", bootstrap = 1000L)',
                    seconds = unname(t_pd["elapsed"]),
                    n_successful = nrow(lavInspect(f_pd, "boot")),
                    parameterEstimates = cis(f_pd))
f_pd_ml <- sem(PD_MODEL, data = PD)
out$pd_ml <- list(parameterEstimates = df_rows(parameterEstimates(f_pd_ml)))
set.seed(7)
f_med <- sem(MED, data = HS, se = "bootstrap", bootstrap = 1000L)
B <- lavInspect(f_med, "boot")
out$med_boot <- list(call = 'set.seed(7); sem(MED, data = HS, se = "bootstrap", bootstrap = 1000L)',
                     n_successful = nrow(B),
                     boot = lapply(seq_len(ncol(B)), function(j) as.numeric(B[, j])),
                     boot_names = colnames(B),
                     parameterEstimates = cis(f_med),
                     parameterEstimates_90 = df_rows(parameterEstimates(f_med, level = 0.90,
                                                                        boot.ci.type = "bca.simple")))
set.seed(11)
f_bs <- cfa(HS_MODEL, data = HS, test = "bollen.stine", bootstrap = 1000L)
out$hs_bollen_stine <- list(call = 'set.seed(11); cfa(HS_MODEL, data = HS, test = "bollen.stine", bootstrap = 1000L)',
                            test = lapply(lavInspect(f_bs, "test"), function(t) t[c("test", "stat", "df", "pvalue")]),
                            fitMeasures = nv(fitMeasures(f_bs, c("chisq", "df", "pvalue"))))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_bootstrap.json")
cat("done", t_pd["elapsed"], "\n")
