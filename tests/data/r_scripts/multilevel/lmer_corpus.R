## The differential corpus of linear mixed models (issue 19): lme4's fit of every design in
## lmer_corpus_designs.json, ML and REML. The data are written by the project's own generator:
##   python tests/lmer_corpus.py write /tmp/lmer_corpus
##   Rscript tests/data/r_scripts/multilevel/lmer_corpus.R /tmp/lmer_corpus
## (run from the repository root) -> tests/data/r_results/multilevel/lmer_corpus.json
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "/tmp/lmer_corpus"
designs <- fromJSON("tests/data/r_scripts/multilevel/lmer_corpus_designs.json",
                    simplifyVector = FALSE)$designs
fit_one <- function(fml, d, reml) {
  warn <- character(0)
  f <- withCallingHandlers(
    tryCatch(lmer(as.formula(fml), data = d, REML = reml), error = function(e) e),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { warn <<- c(warn, conditionMessage(m)); invokeRestart("muffleMessage") })
  if (inherits(f, "error")) return(list(error = conditionMessage(f)))
  vc <- as.data.frame(VarCorr(f))
  list(
    logLik = as.numeric(logLik(f)), theta = unname(getME(f, "theta")),
    theta_names = names(getME(f, "theta")),
    fixef = as.list(fixef(f)), se = as.list(sqrt(diag(as.matrix(vcov(f))))),
    sigma = sigma(f),
    varcorr = list(grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov),
    nobs = nobs(f), ngroups = unname(ngrps(f)),
    isSingular = isSingular(f),
    conv_messages = f@optinfo$conv$lme4$messages,
    optimizer_code = f@optinfo$conv$opt,
    warnings = warn)
}
res <- list()
for (des in designs) {
  d <- read.csv(file.path(dir, sprintf("design_%03d.csv", des$design)))
  t0 <- Sys.time()
  fits <- list(ML = fit_one(des$formula, d, FALSE), REML = fit_one(des$formula, d, TRUE))
  res[[length(res) + 1]] <- list(design = des$design, formula = des$formula, fits = fits,
                                 seconds = as.numeric(difftime(Sys.time(), t0, units = "secs")))
}
out <- list(
  call = "lmer(formula, data = read.csv(design_###.csv), REML = FALSE / TRUE), default control",
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  Matrix = as.character(packageVersion("Matrix"))),
  results = res)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null"),
           "tests/data/r_results/multilevel/lmer_corpus.json")
cat("done\n")
