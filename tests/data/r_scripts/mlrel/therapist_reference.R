## Reference for multilevel_reliability(..., cluster="therapist"): lme4's REML fit of the crossed
## model of multilevel reliability with patients nested in therapists,
##   values ~ 1 + (1|therapist) + (1|therapist:items) + (1|id) + (1|time) + (1|items)
##            + (1|id:time) + (1|id:items) + (1|items:time)
## (patient ids unique across therapists, so (1|id) is the patient within the therapist), on a
## simulated three-level data set (8 therapists x 5 patients x 6 months x 6 items, 4% of the
## item values missing) that this script writes and the tests read; and of the nested model
##   values ~ 1 + (1|therapist) + (1|id) + (1|id:time).
## Run from the repository root:
##   Rscript tests/data/r_scripts/mlrel/therapist_reference.R
## -> tests/data/r_results/mlrel/therapist_sim.csv, tests/data/r_results/mlrel/therapist_reference.json
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
set.seed(20261203)
C <- 8; P <- 5; Tm <- 6; J <- 6
sd <- c(therapist = 0.45, therapist_items = 0.25, id = 0.7, time = 0.15, items = 0.3,
        id_time = 0.5, id_items = 0.3, items_time = 0.12, e = 0.6)
a_c <- rnorm(C, 0, sd["therapist"]); a_ci <- matrix(rnorm(C * J, 0, sd["therapist_items"]), C)
a_p <- rnorm(C * P, 0, sd["id"]); a_t <- rnorm(Tm, 0, sd["time"]); a_i <- rnorm(J, 0, sd["items"])
a_pt <- matrix(rnorm(C * P * Tm, 0, sd["id_time"]), C * P)
a_pi <- matrix(rnorm(C * P * J, 0, sd["id_items"]), C * P)
a_ti <- matrix(rnorm(Tm * J, 0, sd["items_time"]), Tm)
rows <- list()
for (p in seq_len(C * P)) {
  cc <- (p - 1) %/% P + 1
  for (t in seq_len(Tm)) {
    y <- 3 + a_c[cc] + a_ci[cc, ] + a_p[p] + a_t[t] + a_i + a_pt[p, t] + a_pi[p, ] + a_ti[t, ] +
      rnorm(J, 0, sd["e"])
    rows[[length(rows) + 1]] <- c(therapist = cc, patient_id = p, month = t, round(y, 2))
  }
}
w <- as.data.frame(do.call(rbind, rows))
names(w) <- c("therapist", "patient_id", "month", paste0("item_", seq_len(J)))
w$therapist <- sprintf("T%02d", w$therapist)
items <- paste0("item_", seq_len(J))
miss <- matrix(runif(nrow(w) * J) < 0.04, nrow(w))
for (j in seq_len(J)) w[[items[j]]][miss[, j]] <- NA
write.csv(w, "tests/data/r_results/mlrel/therapist_sim.csv", row.names = FALSE, na = "NA")

d <- reshape(w, direction = "long", varying = items, v.names = "values", timevar = "items",
             times = items, idvar = c("therapist", "patient_id", "month"))
d <- d[!is.na(d$values), ]
d$id <- factor(d$patient_id); d$time <- factor(d$month); d$items <- factor(d$items)
d$therapist <- factor(d$therapist)
f <- values ~ 1 + (1 | therapist) + (1 | therapist:items) + (1 | id) + (1 | time) + (1 | items) +
  (1 | id:time) + (1 | id:items) + (1 | items:time)
m <- lmer(f, data = d, REML = TRUE,
          control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
vc <- as.data.frame(VarCorr(m))
## the nested model (sessions within patients within therapists)
mn <- lmer(values ~ 1 + (1 | therapist) + (1 | id) + (1 | id:time), data = d, REML = TRUE)
vcn <- as.data.frame(VarCorr(mn))
out <- list(
  call = paste("lmer(values ~ 1 + (1|therapist) + (1|therapist:items) + (1|id) + (1|time) +",
               "(1|items) + (1|id:time) + (1|id:items) + (1|items:time), d, REML = TRUE,",
               "control = lmerControl(optimizer = 'bobyqa'))"),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
  n_obs = nrow(d),
  REMLcrit = REMLcrit(m), logLik = as.numeric(logLik(m)), sigma = sigma(m),
  fixef = unname(fixef(m)),
  theta = as.list(getME(m, "theta")),
  vcov = setNames(as.list(vc$vcov), vc$grp),
  isSingular = isSingular(m), conv_messages = m@optinfo$conv$lme4$messages,
  nested = list(call = "lmer(values ~ 1 + (1|therapist) + (1|id) + (1|id:time), d, REML = TRUE)",
                REMLcrit = REMLcrit(mn), logLik = as.numeric(logLik(mn)),
                theta = as.list(getME(mn, "theta")), vcov = setNames(as.list(vcn$vcov), vcn$grp),
                isSingular = isSingular(mn), conv_messages = mn@optinfo$conv$lme4$messages),
  simulated_sd = as.list(sd))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE),
           "tests/data/r_results/mlrel/therapist_reference.json")
cat("done\n")
