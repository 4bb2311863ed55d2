## lavaan 0.6-14 references for psychometrics.multilevel.progress(method = "latent").
## Run from the repository root:  Rscript tests/data/r_scripts/multilevel/progress_latent.R
## Data: tests/data/datasets/progress_latent_{example,skipped}.csv, written by
## tests/progress_latent_data.py from examples/therapy_example.csv
## (x1 = WAI-SR mean, x2 = PEAR mean, y = OQ-45 total, y_next = next month's OQ-45 total).
## The model syntax is psychometrics.multilevel.progress_latent.latent_syntax(...), verbatim.
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
DATA <- "tests/data/datasets"
OUT <- "tests/data/r_results/multilevel/progress_latent.json"
nv <- function(x) { x <- unclass(x); as.list(setNames(as.vector(x), names(x))) }
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }

m_x1 <- "level: 1
    y_next ~ bw1*x1 + phi*y
    x1 ~~ x1
    x1 ~~ y
    y ~~ y
level: 2
    mu =~ 1*y + 1*y_next
    y ~~ 0*y
    y_next ~~ 0*y_next
    mu ~ bmu1*x1
    x1 ~~ x1
    between1 := bmu1*(1 - phi)
    contextual1 := bmu1*(1 - phi) - bw1
"
m_x1_zero <- "level: 1
    y_next ~ 0*x1 + phi*y
    x1 ~~ x1
    x1 ~~ y
    y ~~ y
level: 2
    mu =~ 1*y + 1*y_next
    y ~~ 0*y
    y_next ~~ 0*y_next
    mu ~ 0*x1
    x1 ~~ x1
"
m_joint <- "level: 1
    y_next ~ bw1*x1 + bw2*x2 + phi*y
    x1 ~~ x1
    x1 ~~ x2
    x1 ~~ y
    x2 ~~ x2
    x2 ~~ y
    y ~~ y
level: 2
    mu =~ 1*y + 1*y_next
    y ~~ 0*y
    y_next ~~ 0*y_next
    mu ~ bmu1*x1 + bmu2*x2
    x1 ~~ x1
    x1 ~~ x2
    x2 ~~ x2
    between1 := bmu1*(1 - phi)
    contextual1 := bmu1*(1 - phi) - bw1
    between2 := bmu2*(1 - phi)
    contextual2 := bmu2*(1 - phi) - bw2
"
models <- list(x1 = m_x1, x1_zero = m_x1_zero, joint = m_joint)
fit_out <- function(f, call, m) {
  message(call, ": converged ", lavInspect(f, "converged"))
  if (!lavInspect(f, "converged")) return(list(call = call, model = m, converged = FALSE))
  list(call = call, model = m, converged = lavInspect(f, "converged"),
       nobs = lavInspect(f, "nobs"), nclusters = lavInspect(f, "nclusters"),
       npar = lavInspect(f, "npar"), logl = as.numeric(fitMeasures(f, "logl")),
       fitMeasures = nv(fitMeasures(f, c("npar", "logl", "aic", "bic"))),
       parameterEstimates = df_rows(parameterEstimates(f)))
}
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))
for (dname in c("example", "skipped")) {
  d <- read.csv(file.path(DATA, paste0("progress_latent_", dname, ".csv")))
  vars <- c("x1", "x2", "y", "y_next")
  for (mname in names(models)) {
    m <- models[[mname]]
    used <- if (mname == "joint") vars else c("x1", "y", "y_next")
    ## listwise: complete rows of the model's variables (lavaan's default missing = "listwise")
    dc <- d[complete.cases(d[, used]), ]
    f <- sem(m, data = dc, cluster = "id", fixed.x = FALSE)
    out[[paste(dname, mname, "listwise", sep = "_")]] <- fit_out(
      f, sprintf('sem(m_%s, data = d[complete.cases(d[, used]), ], cluster = "id", fixed.x = FALSE)', mname), m)
    ## full-information ML; rows with no model variable observed are dropped first
    dm <- d[rowSums(!is.na(d[, used])) > 0, ]
    f <- tryCatch(sem(m, data = dm, cluster = "id", fixed.x = FALSE, missing = "ml"), error = function(e) e)
    if (inherits(f, "error")) {
      out[[paste(dname, mname, "ml", sep = "_")]] <- list(error = conditionMessage(f))
    } else {
      out[[paste(dname, mname, "ml", sep = "_")]] <- fit_out(
        f, sprintf('sem(m_%s, data = d, cluster = "id", fixed.x = FALSE, missing = "ml")', mname), m)
    }
  }
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), OUT)
