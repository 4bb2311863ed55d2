# Closed-form power of the within-patient (level-1) effect in a balanced two-level
# random-intercept model analysed by y ~ x_within + x_between_c + (1 | id)
# (psychometrics.power.within_power_closed_form), computed independently in R:
#   power = E_{SS_w} [ P(|T_nu(delta)| > t_crit) ],  SS_w ~ s_w^2 chi2_{N(n-1)},
#   nu = N(n-1) - 1, delta = gamma_w sqrt(SS_w) / sigma_e.
# Run from the repository root: Rscript tests/data/r_scripts/power/closed_form.R
library(jsonlite)
power_within <- function(N, n, gw, sw, se, alpha = 0.05) {
  m <- N * (n - 1); nu <- m - 1
  crit <- qt(1 - alpha / 2, nu)
  f <- function(q) {
    delta <- gw * sw * sqrt(q) / se
    (pt(crit, nu, ncp = delta, lower.tail = FALSE) +
       pt(crit, nu, ncp = -delta, lower.tail = FALSE)) * dchisq(q, m)
  }
  integrate(f, qchisq(1e-12, m), qchisq(1 - 1e-12, m), rel.tol = 1e-10,
            subdivisions = 1000L)$value
}
cases <- list(
  list(n_patients = 20, n_months = 5, within = 3.0, x_within_sd = 0.35, e_sd = 7.0),
  list(n_patients = 40, n_months = 5, within = 3.0, x_within_sd = 0.35, e_sd = 7.0),
  list(n_patients = 30, n_months = 8, within = 1.5, x_within_sd = 0.5, e_sd = 4.0),
  list(n_patients = 10, n_months = 3, within = 0.8, x_within_sd = 1.0, e_sd = 1.5),
  list(n_patients = 100, n_months = 12, within = -0.5, x_within_sd = 0.35, e_sd = 7.0)
)
for (i in seq_along(cases)) {
  cs <- cases[[i]]
  cases[[i]]$power <- power_within(cs$n_patients, cs$n_months, cs$within, cs$x_within_sd, cs$e_sd)
}
out <- list(r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/data/r_results/power/closed_form.json")
