## Differential corpus for several grouping factors (issue 23): 40 small/awkward random designs
## (nested therapist/patient with 2-12 therapists, 1-6 patients each, 1-8 rows each, variance
## components from 0 up, incomplete crossed patient x rater designs, random slopes of time per
## patient in a nested model, crossed random slopes), each fitted by lme4 (REML and ML). The
## data are stored in the JSON. Run from the repository root:
##   Rscript tests/data/r_scripts/multilevel/nested_crossed_corpus.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
OUT <- "tests/data/r_results/multilevel/nested_crossed_corpus.json"
nv <- function(x) as.list(setNames(as.vector(x), names(x)))
design <- function(i) {
  set.seed(1000 + i)
  kind <- c("nested", "crossed", "nested_slope", "crossed_slope")[(i - 1) %% 4 + 1]
  sd_hi <- sample(c(0, 0.3, 1, 3), 1); sd_lo <- sample(c(0, 0.5, 1, 2), 1)
  if (kind %in% c("nested", "nested_slope")) {
    nt <- sample(2:12, 1); rows <- list()
    for (t in 1:nt) for (p in 1:sample(1:6, 1)) {
      m <- sample(1:8, 1); rows[[length(rows) + 1]] <- data.frame(therapist = sprintf("T%d", t),
        patient = p, time = 0:(m - 1))
    }
    d <- do.call(rbind, rows)
    ut <- rnorm(nt, 0, sd_hi); ti <- as.integer(factor(d$therapist, levels = sprintf("T%d", 1:nt)))
    key <- paste(d$therapist, d$patient); up <- rnorm(length(unique(key)), 0, sd_lo)
    pi <- as.integer(factor(key, levels = unique(key)))
    us <- rnorm(length(unique(key)), 0, 0.3 * sd_lo)
    d$x <- round(rnorm(nrow(d)), 3)
    d$y <- round(1 + 0.5 * d$x + ut[ti] + up[pi] + us[pi] * d$time + rnorm(nrow(d)), 4)
    f <- if (kind == "nested") y ~ x + (1 | therapist/patient) else
      y ~ x + time + (1 | therapist) + (1 + time | therapist:patient)
  } else {
    np <- sample(4:15, 1); nr <- sample(2:6, 1)
    g <- expand.grid(patient = sprintf("P%d", 1:np), rater = sprintf("R%d", 1:nr), rep = 1:2)
    g <- g[runif(nrow(g)) < 0.6, ]
    up <- rnorm(np, 0, sd_hi); ur <- rnorm(nr, 0, sd_lo); sr <- rnorm(nr, 0, 0.5)
    g$x <- round(rnorm(nrow(g)), 3)
    g$y <- round(as.numeric(up[as.integer(g$patient)] + ur[as.integer(g$rater)] +
                              (0.3 + sr[as.integer(g$rater)]) * g$x + rnorm(nrow(g))), 4)
    d <- data.frame(patient = as.character(g$patient), rater = as.character(g$rater), x = g$x, y = g$y)
    f <- if (kind == "crossed") y ~ x + (1 | patient) + (1 | rater) else
      y ~ x + (1 | patient) + (1 + x | rater)
  }
  list(kind = kind, formula = paste(deparse(f), collapse = ""), data = d, f = f)
}
res <- list()
for (i in 1:40) {
  ds <- design(i)
  fits <- list()
  for (reml in c(TRUE, FALSE)) {
    fit <- tryCatch(suppressWarnings(suppressMessages(lmer(ds$f, data = ds$data, REML = reml))),
                    error = function(e) conditionMessage(e))
    fits[[if (reml) "REML" else "ML"]] <- if (is.character(fit)) list(error = fit) else
      list(logLik = as.numeric(logLik(fit)), theta = nv(getME(fit, "theta")),
           fixef = nv(fixef(fit)), se = nv(sqrt(diag(as.matrix(vcov(fit))))),
           sigma = sigma(fit), isSingular = isSingular(fit),
           conv = c(fit@optinfo$conv$lme4$messages, fit@optinfo$warnings))
  }
  res[[i]] <- list(id = i, kind = ds$kind, formula = ds$formula, data = ds$data, fits = fits)
}
out <- list(designs = res, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE), OUT)
cat("wrote", OUT, "\n")
