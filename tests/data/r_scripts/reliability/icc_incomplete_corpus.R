## lme4's REML fit of value ~ 1 + (1 | subject) + (1 | rater) (psych::ICC's model) on 65
## incomplete subjects x raters designs written by the project's own generator:
##   python tests/lmer_corpus.py write-icc /tmp/lmer_icc
##   Rscript tests/data/r_scripts/reliability/icc_incomplete_corpus.R /tmp/lmer_icc
## (run from the repository root) -> tests/data/r_results/reliability/icc_incomplete_corpus.json
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "/tmp/lmer_icc"
files <- sort(list.files(dir, pattern = "^icc_[0-9]+\\.csv$"))
res <- list()
for (fn in files) {
  d <- read.csv(file.path(dir, fn))
  d$subject <- factor(d$subject); d$rater <- factor(d$rater)
  f <- suppressWarnings(suppressMessages(lmer(value ~ 1 + (1 | subject) + (1 | rater), data = d)))
  vc <- as.data.frame(VarCorr(f))
  res[[sub("\\.csv$", "", fn)]] <- list(
    REMLcrit = REMLcrit(f), theta = as.list(getME(f, "theta")),
    vcov = setNames(as.list(vc$vcov), vc$grp), intercept = unname(fixef(f)),
    isSingular = isSingular(f), conv_messages = f@optinfo$conv$lme4$messages)
}
writeLines(toJSON(list(call = "lmer(value ~ 1 + (1 | subject) + (1 | rater), d)  # REML",
                       versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
                       designs = res), auto_unbox = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/reliability/icc_incomplete_corpus.json")
cat("done\n")
