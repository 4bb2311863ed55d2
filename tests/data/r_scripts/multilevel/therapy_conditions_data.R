## Simulated psychotherapy panel with a treatment condition, used by the type III anova and GLMM
## references: 150 patients, up to 12 monthly OQ-45 totals (random dropout), three conditions
## ("cbt" reference, "ipt", "waitlist"), a binary "reliable improvement" and a count of sessions
## attended in the month with an exposure (weeks in the month).
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/therapy_conditions_data.R
set.seed(20261202)
n_pat <- 150
cond <- sample(c("cbt", "ipt", "waitlist"), n_pat, replace = TRUE)
u0 <- rnorm(n_pat, 0, 8); u1 <- rnorm(n_pat, 0, 0.8); v0 <- rnorm(n_pat, 0, 0.9); w0 <- rnorm(n_pat, 0, 0.35)
rows <- list()
for (i in seq_len(n_pat)) {
  nm <- sample(4:12, 1)
  m <- seq_len(nm)
  slope <- c(cbt = -2.0, ipt = -1.5, waitlist = -0.3)[cond[i]] + u1[i]
  oq <- 80 + (cond[i] == "waitlist") * 2 + u0[i] + slope * m + rnorm(nm, 0, 6)
  eta <- -2.2 + 0.25 * m + c(cbt = 0.6, ipt = 0.3, waitlist = -0.4)[cond[i]] + v0[i]
  improved <- rbinom(nm, 1, plogis(eta))
  weeks <- sample(c(4, 4, 5), nm, replace = TRUE)
  lam <- exp(log(weeks) - 0.5 - 0.03 * m + c(cbt = 0.2, ipt = 0.1, waitlist = -0.8)[cond[i]] + w0[i])
  sessions <- rpois(nm, lam)
  rows[[i]] <- data.frame(patient = sprintf("p%03d", i), month = m, condition = cond[i],
                          oq = round(oq, 1), improved = improved, sessions = sessions, weeks = weeks)
}
d <- do.call(rbind, rows)
write.csv(d, "tests/data/datasets/therapy_conditions.csv", row.names = FALSE)
cat(nrow(d), "rows\n")
