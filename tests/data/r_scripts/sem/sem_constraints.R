## lavaan 0.6-14 references for general constraints (issue #20): nonlinear equality
## (b1 == (b2 + b3)^2, b1 == 2*b2), inequality (a > 0, b1 > exp(b2 + b3)), active and
## inactive, with lavaan's SEs under constraints and its df (ndat - npar + rank of the
## equality-constraint Jacobian; inequalities do not change df).
## Run from the repository root:  Rscript tests/data/r_scripts/sem/sem_constraints.R
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
HS <- read.csv("tests/data/datasets/HolzingerSwineford1939.csv")
PD <- read.csv("tests/data/datasets/PoliticalDemocracy.csv")
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
nv <- function(x) as.list(unclass(x))
REG <- 'x9 ~ b1*x1 + b2*x2 + b3*x3'
models <- list(
  reg_free = REG,
  reg_nonlin_eq = paste(REG, '\n b1 == (b2 + b3)^2'),
  reg_nonlin_eq_ineq = paste(REG, '\n b1 == (b2 + b3)^2 \n b1 > exp(b2 + b3)'),
  reg_linear_eq = paste(REG, '\n b1 == 2*b3'),
  reg_ineq_active = paste(REG, '\n b2 > 0.1'),
  reg_ineq_inactive = paste(REG, '\n b1 > 0'),
  cfa_linear_eq = 'visual =~ x1 + l2*x2 + l3*x3
                   textual =~ x4 + x5 + x6
                   speed =~ x7 + x8 + x9
                   l2 == 0.5*l3 + 0.2',
  pd_ratio = 'ind60 =~ x1 + x2 + x3
              dem60 =~ y1 + y2 + y3 + y4
              dem65 =~ y5 + y6 + y7 + y8
              dem60 ~ a*ind60
              dem65 ~ c*ind60 + b*dem60
              y1 ~~ y5
              ab := a*b
              c == 0.5*ab')
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (k in names(models)) {
  dat <- if (startsWith(k, "pd")) PD else HS
  f <- sem(models[[k]], data = dat)
  out[[k]] <- list(model = models[[k]], converged = lavInspect(f, "converged"),
                   parameterEstimates = df_rows(parameterEstimates(f)),
                   fitMeasures = nv(fitMeasures(f, c("npar", "fmin", "chisq", "df", "pvalue", "logl",
                                                     "aic", "bic", "cfi", "tli", "rmsea", "srmr"))))
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), "tests/data/r_results/sem/sem_constraints.json")
cat("done\n")
