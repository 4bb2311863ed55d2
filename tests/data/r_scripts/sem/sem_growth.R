## lavaan 0.6-14 growth() references for psychometrics.sem.growth (issue #20).
## Demo.growth (lavaan's own data set, exported to tests/data/datasets/Demo.growth.csv):
## linear and quadratic growth, time-invariant and time-varying covariates, FIML with
## missing occasions. therapy_sim: WAI-SR bond (sum of wai_3, wai_5, wai_7, wai_9) at
## months 1, 2, 3, 4, 6, 8, 10, 12 (dropout = missing occasions), FIML.
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_growth.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
DG <- read.csv("tests/data/datasets/Demo.growth.csv")
DGm <- DG
DGm$t2[seq_len(nrow(DGm)) %% 5 == 0] <- NA      # row numbers 1-based
DGm$t4[seq_len(nrow(DGm)) %% 3 == 1] <- NA
DGm$t3[seq_len(nrow(DGm)) %% 7 == 2] <- NA
TS <- read.csv("tests/data/datasets/therapy_sim.csv")
TS$bond <- TS$wai_3 + TS$wai_5 + TS$wai_7 + TS$wai_9
months <- c(1, 2, 3, 4, 6, 8, 10, 12)
W <- data.frame(patient_id = sort(unique(TS$patient_id)))
for (m in months) {
  sub <- TS[TS$month == m, c("patient_id", "bond")]
  W[[paste0("bond_", m)]] <- sub$bond[match(W$patient_id, sub$patient_id)]
}
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
LIN <- 'i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
        s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4'
QUAD <- 'i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
         s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
         q =~ 0*t1 + 1*t2 + 4*t3 + 9*t4'
TIC <- paste(LIN, '
        i ~ x1 + x2
        s ~ x1 + x2')
TVC <- paste(TIC, '
        t1 ~ c1
        t2 ~ c2
        t3 ~ c3
        t4 ~ c4')
BOND <- paste0('i =~ ', paste0('1*bond_', months, collapse = ' + '), '\n',
               's =~ ', paste0(months - 1, '*bond_', months, collapse = ' + '))
calls <- list(
  linear = 'growth(LIN, data = DG)',
  quadratic = 'growth(QUAD, data = DG)',
  time_invariant = 'growth(TIC, data = DG)',
  time_varying = 'growth(TVC, data = DG)',
  linear_fiml = 'growth(LIN, data = DGm, missing = "ml")',
  time_invariant_fiml = 'growth(TIC, data = DGm, missing = "ml")',
  bond_months_fiml = 'growth(BOND, data = W, missing = "ml")')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            missing_rule = "DGm: t2 NA if row %% 5 == 0; t4 NA if row %% 3 == 1; t3 NA if row %% 7 == 2 (1-based rows)",
            bond_syntax = BOND)
for (k in names(calls)) {
  f <- eval(parse(text = calls[[k]]))
  out[[k]] <- list(call = calls[[k]], converged = lavInspect(f, "converged"),
                   nobs = lavInspect(f, "nobs"),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f)),
                   implied_mean = nv(lavInspect(f, "implied")$mean))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_growth.json")
cat("done\n")
