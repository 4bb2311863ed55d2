## lme4's REML fit of the crossed model of multilevel reliability (psych::mlr's lmer model) on 16
## random designs written by the project's own generator:
##   python tests/lmer_corpus.py write-crossed /tmp/lmer_crossed
##   Rscript tests/data/r_scripts/mlrel/crossed_corpus.R /tmp/lmer_crossed
## (run from the repository root) -> tests/data/r_results/mlrel/crossed_corpus.json
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "/tmp/lmer_crossed"
f <- values ~ 1 + (1 | id) + (1 | time) + (1 | items) + (1 | id:time) + (1 | id:items) + (1 | items:time)
res <- list()
for (fn in sort(list.files(dir, pattern = "^crossed_[0-9]+\\.csv$"))) {
  d <- read.csv(file.path(dir, fn))
  for (v in c("id", "time", "items")) d[[v]] <- factor(d[[v]])
  m <- suppressWarnings(suppressMessages(lmer(f, data = d)))
  vc <- as.data.frame(VarCorr(m))
  res[[sub("\\.csv$", "", fn)]] <- list(
    REMLcrit = REMLcrit(m), vcov = setNames(as.list(vc$vcov), vc$grp),
    isSingular = isSingular(m), conv_messages = m@optinfo$conv$lme4$messages)
}
writeLines(toJSON(list(call = "lmer(values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time) + (1|id:items) + (1|items:time), d)",
                       versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
                       designs = res), auto_unbox = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/mlrel/crossed_corpus.json")
cat("done\n")
