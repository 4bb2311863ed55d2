## lavaan 0.6-14 fits of the random SEM / two-level SEM corpus (issue 19).
## Data: python tests/sem_corpus/write_corpus.py /tmp/sem_corpus_csv   (regenerated from seeds)
## Run from the repository root:
##   Rscript tests/data/r_scripts/sem_corpus/sem_corpus.R /tmp/sem_corpus_csv
## Writes tests/data/r_results/sem_corpus/sem_corpus.json: per design lavaan's converged flag,
## iterations, max |gradient| at the solution, logLik, npar, chisq, df, the parameter
## estimates with SEs, whether a variance is negative (Heywood) and every warning text.
suppressPackageStartupMessages({ library(jsonlite); library(lavaan) })
args <- commandArgs(trailingOnly = TRUE)
CSV <- if (length(args)) args[1] else "/tmp/sem_corpus_csv"
OUT <- "tests/data/r_results/sem_corpus"
designs <- fromJSON(file.path(OUT, "designs.json"), simplifyVector = FALSE)

fit_one <- function(d) {
  dat <- read.csv(file.path(CSV, paste0(d$id, ".csv")), na.strings = "NA")
  warns <- character(0)
  args <- list(model = d$model, data = dat)
  call <- "sem(model, data = dat"
  if (!is.null(d$missing)) { args$missing <- d$missing; call <- paste0(call, ', missing = "ml"') }
  if (d$kind == "mg") {
    args$group <- "group"; call <- paste0(call, ', group = "group"')
    if (length(d$group_equal)) { args$group.equal <- unlist(d$group_equal)
      call <- paste0(call, ', group.equal = "loadings"') }
  }
  if (d$kind == "twolevel") { args$cluster <- "cluster"; call <- paste0(call, ', cluster = "cluster"') }
  call <- paste0(call, ")")
  f <- withCallingHandlers(tryCatch(do.call("sem", args), error = function(e) e),
                           warning = function(w) { warns <<- c(warns, conditionMessage(w))
                             invokeRestart("muffleWarning") })
  if (inherits(f, "error")) return(list(id = d$id, call = call, error = conditionMessage(f),
                                        warnings = I(warns)))
  conv <- lavInspect(f, "converged")
  pe <- parameterEstimates(f)
  if (is.null(pe$group)) pe$group <- 1L
  if (is.null(pe$level)) pe$level <- 1L
  pe <- pe[pe$op != ":=", c("lhs", "op", "rhs", "group", "level", "est", "se")]
  rownames(pe) <- NULL
  var_rows <- pe$op == "~~" & pe$lhs == pe$rhs
  grad <- tryCatch(max(abs(lavInspect(f, "gradient"))), error = function(e) NA)
  fm <- if (conv) fitMeasures(f, c("logl", "npar", "chisq", "df", "fmin")) else NULL
  ## lavaan's log-likelihood at the point where it stopped (also when not converged)
  logl_stop <- tryCatch(f@loglik$loglik, error = function(e) NA)
  list(id = d$id, call = call, converged = conv, logl_at_stop = logl_stop, iterations = lavInspect(f, "iterations"),
       max_abs_gradient = grad, npar_free_rows = lavInspect(f, "npar"),
       logl = if (conv) unname(fm["logl"]) else NA, npar = if (conv) unname(fm["npar"]) else NA,
       chisq = if (conv) unname(fm["chisq"]) else NA, df = if (conv) unname(fm["df"]) else NA,
       fmin = if (conv) unname(fm["fmin"]) else NA,
       negative_variance = any(pe$est[var_rows] < 0),
       warnings = I(warns), estimates = pe)
}
res <- lapply(designs, fit_one)
names(res) <- vapply(designs, function(d) d$id, "")
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            designs = res)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE),
           file.path(OUT, "sem_corpus.json"))
cat(length(res), "designs ->", file.path(OUT, "sem_corpus.json"), "\n")
