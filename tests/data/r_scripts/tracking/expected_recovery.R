# Oracle for psychometrics.tracking.expected: per intake band, lmer(score ~ log(session) +
# (1 + log(session) | id), REML) and the prediction of a later score given the intake score
# (Gaussian conditional), +- qnorm(0.95) prediction SDs (90% band).
# Input: tests/data/tracking/expected_input.csv (id, session, score: the OQ-45.2 totals the
# tracking store holds after ingesting clinic_small.csv).
# Run from the repository root: Rscript tests/data/r_scripts/tracking/expected_recovery.R
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
d <- read.csv("tests/data/tracking/expected_input.csv", stringsAsFactors = FALSE)
d <- d[order(d$id, d$session), ]
n_per <- table(d$id)
d <- d[d$id %in% names(n_per)[n_per >= 2], ]
intake <- d[!duplicated(d$id), c("id", "score", "session")]
n_pat <- nrow(intake)
k <- max(1, min(5, n_pat %/% 30))
edges <- unique(quantile(intake$score, probs = seq(0, 1, length.out = k + 1)[-c(1, k + 1)],
                         type = 7, names = FALSE))
intake$band <- findInterval(intake$score, edges)
d$band <- intake$band[match(d$id, intake$id)]
d$log_session <- log(d$session)
z <- qnorm(0.95)
bands <- list()
for (b in sort(unique(d$band))) {
  db <- d[d$band == b, ]
  fit <- lmer(score ~ log_session + (1 + log_session | id), data = db, REML = TRUE,
              control = lmerControl(optimizer = "bobyqa",
                                    optCtrl = list(maxfun = 1e5)))
  beta <- unname(fixef(fit)); V <- unname(as.matrix(vcov(fit)))
  G <- unname(as.matrix(VarCorr(fit)$id)); s2 <- sigma(fit)^2
  ib <- intake[intake$band == b, ]
  y0 <- median(ib$score); t0 <- 0
  preds <- list()
  for (s in c(2, 4, 8)) {
    t <- log(s); z0 <- c(1, t0); zt <- c(1, t)
    v0 <- drop(t(z0) %*% G %*% z0) + s2
    vt <- drop(t(zt) %*% G %*% zt) + s2
    cv <- drop(t(zt) %*% G %*% z0)
    kk <- cv / v0
    m <- sum(zt * beta) + kk * (y0 - sum(z0 * beta))
    w <- zt - kk * z0
    v <- vt - kk * cv + drop(t(w) %*% V %*% w)
    preds[[length(preds) + 1]] <- list(intake = y0, session = s, expected = m,
                                       lower = m - z * sqrt(v), upper = m + z * sqrt(v))
  }
  bands[[length(bands) + 1]] <- list(
    band = b + 1, n_patients = nrow(ib), n_obs = nrow(db),
    fixef = beta, G = G, sigma = sigma(fit), vcov = V,
    loglik_reml = as.numeric(logLik(fit)), predictions = preds)
}
out <- list(edges = edges, n_patients = n_pat, bands = bands,
            versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/r_results/tracking/expected_recovery.json")
