## lavaan 0.6-14 two-level FIML (missing = "ml"), ML and MLR, on data with holes.
## Run from the repository root:  Rscript tests/data/r_scripts/twolevel/twolevel_fiml.R
## Writes the data sets with holes (tests/data/datasets/*_holes.csv) and
## tests/data/r_results/twolevel/twolevel_fiml.json.
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })

## ---- Demo.twolevel with holes: y1-y6 missing completely at random (12% of cells),
## 15 rows with every y and x missing. (Holes in the between-only w1 are left out: lavaan
## 0.6-14 does not converge with them, 26 iterations, nor with 'w1 ~ fb' on these holes;
## that path is checked in
## tests/sem_twolevel/test_twolevel_missing_lik.py against the dense normal density.)
D <- read.csv("tests/data/datasets/Demo.twolevel.csv")
set.seed(20261202)
for (v in paste0("y", 1:6)) D[runif(nrow(D)) < 0.12, v] <- NA
empty <- sample(nrow(D), 15)
D[empty, c(paste0("y", 1:6), "x1", "x2", "x3")] <- NA
write.csv(D, "tests/data/datasets/Demo.twolevel_holes.csv", row.names = FALSE, na = "")

## ---- therapy example with holes: its skipped items plus 6% more item cells, and 8% of
## months skipped (every item of the row missing)
TE <- read.csv("examples/therapy_example.csv")
items <- c(paste0("wai_", 1:4), paste0("pear_", 1:4))
TE <- TE[, c("patient_id", "month", items)]
for (v in items) TE[runif(nrow(TE)) < 0.06, v] <- NA
skip <- runif(nrow(TE)) < 0.08
TE[skip, items] <- NA
write.csv(TE, "tests/data/datasets/therapy_example_holes.csv", row.names = FALSE, na = "")

models <- list(
  demo_cov = list(data = "D", cluster = "cluster", model = '
level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w2
'),
  demo_cfa = list(data = "D", cluster = "cluster", model = '
level: 1
    fw =~ y1 + y2 + y3
level: 2
    fb =~ y1 + y2 + y3
'),
  demo_6 = list(data = "D", cluster = "cluster", model = '
level: 1
    fw =~ y1 + y2 + y3 + y4 + y5 + y6
level: 2
    fb =~ y1 + y2 + y3 + y4 + y5 + y6
'),
  therapy_wai = list(data = "TE", cluster = "patient_id", model = '
level: 1
    wai_w =~ wai_1 + wai_2 + wai_3 + wai_4
level: 2
    wai_b =~ wai_1 + wai_2 + wai_3 + wai_4
'),
  therapy = list(data = "TE", cluster = "patient_id", model = '
level: 1
    wai_w =~ wai_1 + wai_2 + wai_3 + wai_4
    pear_w =~ pear_1 + pear_2 + pear_3 + pear_4
level: 2
    wai_b =~ wai_1 + wai_2 + wai_3 + wai_4
    pear_b =~ pear_1 + pear_2 + pear_3 + pear_4
'))

df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
h1_list <- function(f) { h <- lavInspect(f, "h1")
  lapply(h, function(b) list(cov = unclass(b$cov), mean = unclass(b$mean))) }
out <- list()
for (key in names(models)) {
  M <- models[[key]]
  dat <- get(M$data)
  if (key == "demo_cov") {
    ## lavaan 0.6-14 fails (NaN in the observed information, lav_model_vcov) when a row has
    ## every y missing but its fixed.x covariates observed; such rows carry no information
    ## on the model (only on the fixed covariates), so they are left out of this fit (the
    ## test leaves out the same rows)
    dat <- dat[!(is.na(dat$y1) & is.na(dat$y2) & is.na(dat$y3)), ]
  }
  t0 <- proc.time()[["elapsed"]]
  ## ML: sem(model, data, cluster =, missing = "ml")
  fit <- tryCatch(sem(M$model, data = dat, cluster = M$cluster, missing = "ml"),
                  error = function(e) conditionMessage(e))
  t_ml <- proc.time()[["elapsed"]] - t0
  if (is.character(fit) || !lavInspect(fit, "converged")) {
    ## lavaan 0.6-14 fails on some two-level FIML problems: its parameter values and logL
    ## where nlminb stopped are recorded (the test evaluates our likelihood there: the same
    ## function, and our maximum is higher)
    pt <- if (is.character(fit)) NULL else
      df_rows(parTable(fit)[, c("lhs", "op", "rhs", "level", "free", "est")])
    out[[key]] <- list(model = M$model, cluster = M$cluster, converged = FALSE,
                       error = if (is.character(fit)) fit else "not converged",
                       partable = pt, logl = if (is.character(fit)) NULL else fit@loglik$loglik,
                       max_abs_gradient = if (is.character(fit)) NULL else
                         max(abs(lavInspect(fit, "optim.gradient"))))
    cat(key, "lavaan did not converge\n")
    next
  }
  ## MLR: sem(model, data, cluster =, missing = "ml", estimator = "MLR")
  fitr <- tryCatch(sem(M$model, data = dat, cluster = M$cluster, missing = "ml",
                       estimator = "MLR"), error = function(e) conditionMessage(e))
  mlr <- if (is.character(fitr)) list(error = fitr) else tryCatch(
    list(pe = df_rows(parameterEstimates(fitr)), fm = as.list(fitMeasures(fitr)),
         options = lavInspect(fitr, "options")[c("se", "test", "information",
                                                   "h1.information", "observed.information")]),
    error = function(e) list(error = conditionMessage(e)))
  out[[key]] <- list(
    model = M$model, cluster = M$cluster, converged = TRUE,
    ml = list(pe = df_rows(parameterEstimates(fit)), fm = as.list(fitMeasures(fit)),
              std = df_rows(standardizedSolution(fit)),
              h1 = h1_list(fit), nobs = lavInspect(fit, "nobs"),
              nclusters = lavInspect(fit, "nclusters"), converged = lavInspect(fit, "converged"),
              seconds = t_ml),
    mlr = mlr)
  cat(key, "done in", t_ml, "s", if (is.character(fitr)) fitr, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null"),
           "tests/data/r_results/twolevel/twolevel_fiml.json")
