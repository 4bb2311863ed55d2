## A random corpus of small and awkward GLMM designs (few groups, tiny clusters, rare events,
## zero-heavy counts, random slopes, no heterogeneity), each fitted by lme4 1.1-31 with its
## defaults and with a tight control. Data are stored in the JSON.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/glmm_corpus.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
set.seed(2026)
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
out <- list()
for (i in 1:14) {
  fam <- if (i %% 2) "binomial" else "poisson"
  G <- sample(c(6, 10, 25, 60), 1); m <- sample(c(2, 3, 5, 10), 1)
  slope <- i %in% c(3, 4, 9, 10)
  sd0 <- if (i %in% c(5, 6)) 0 else runif(1, 0.2, 1.5)
  base <- if (i %in% c(7, 8)) -2.5 else runif(1, -0.5, 0.8)   # rare events / zero-heavy counts
  g <- rep(seq_len(G), each = m); x <- round(rnorm(G * m), 3); t <- rep(seq_len(m) - 1, G)
  eta <- base + 0.4 * x + rnorm(G, 0, sd0)[g] + (if (slope) rnorm(G, 0, 0.3)[g] * t else 0)
  y <- if (fam == "binomial") rbinom(G * m, 1, plogis(eta)) else rpois(G * m, exp(eta))
  d <- data.frame(g = g, x = x, t = t, y = y)
  form <- if (slope) y ~ x + t + (t | g) else y ~ x + (1 | g)
  fits <- lapply(list(default = glmerControl(), tight = ctl), function(c) {
    f <- tryCatch(suppressWarnings(glmer(form, d, family = fam, control = c)), error = function(e) NULL)
    if (is.null(f)) return(NULL)
    list(loglik = as.numeric(logLik(f)), fixef = unname(fixef(f)), theta = unname(getME(f, "theta")),
         se = unname(sqrt(diag(as.matrix(vcov(f))))), singular = isSingular(f))
  })
  out[[i]] <- list(family = fam, formula = paste(deparse(form), collapse = ""), data = d,
                   default = fits$default, tight = fits$tight)
}
writeLines(toJSON(list(cases = out, versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))),
                  auto_unbox = TRUE, digits = NA, null = "null", dataframe = "columns"),
           "tests/data/r_results/multilevel/glmm_corpus.json")
for (o in out) cat(o$family, o$formula, nrow(o$data), o$default$loglik, o$tight$loglik, o$tight$singular, "\n")
