## Robustness references: 12 random data sets (different numbers of patients and sessions,
## unbalanced, random intercepts and slopes, small and large variance components, predictors on
## different scales), each fitted by lme4 (ML and REML, correlated random slope).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/random_designs.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(lmerTest)})
res <- list()
for (k in 1:12) {
  set.seed(1000 + k)
  G <- sample(c(8, 15, 40, 120), 1)
  n_i <- sample(2:12, G, replace = TRUE)
  id <- rep(seq_len(G), n_i)
  n <- length(id)
  scale_x <- c(1, 0.05, 30)[1 + k %% 3]
  x <- rnorm(n, 0, scale_x)
  z <- rnorm(G)[id] + rnorm(n, 0, 0.5)
  sd_int <- c(0, 0.3, 2)[1 + (k %/% 3) %% 3]
  sd_slope <- c(0, 0.5)[1 + k %% 2] / scale_x
  y <- 1 + 0.5 * x / scale_x + 0.3 * z + rnorm(G, 0, sd_int)[id] + rnorm(G, 0, sd_slope)[id] * x + rnorm(n)
  d <- data.frame(id = id, x = x, z = z, y = y)
  fits <- list()
  for (reml in c(TRUE, FALSE)) {
    f <- suppressWarnings(suppressMessages(lmer(y ~ x + z + (1 + x | id), data = d, REML = reml)))
    s <- summary(f)
    fits[[if (reml) "REML" else "ML"]] <- list(
      theta = as.list(getME(f, "theta")), fixef = as.list(fixef(f)),
      coefficients = { cf <- as.data.frame(s$coefficients); rownames(cf) <- NULL; cf },
      sigma = sigma(f), logLik = as.numeric(logLik(f)), isSingular = isSingular(f),
      conv_messages = f@optinfo$conv$lme4$messages)
  }
  res[[k]] <- list(seed = 1000 + k, G = G, data = d, fits = fits,
                   call = "lmer(y ~ x + z + (1 + x | id), d, REML = TRUE / FALSE)")
}
writeLines(toJSON(list(designs = res, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
                  auto_unbox = TRUE, digits = NA, null = "null"),
           "tests/data/r_results/multilevel/random_designs.json")
cat("done\n")
