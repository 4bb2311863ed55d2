## Reference values for psych::testRetest (psych 2.2.9, lme4 1.1-31) on the shipped example data.
## Run from the repository root:
##   Rscript tests/data/r_scripts/validity/test_retest.R
## Writes tests/data/r_results/validity/test_retest.json; each entry keeps its R call.
suppressPackageStartupMessages({library(psych); library(jsonlite)})
options(warn = 1)
d <- read.csv("examples/therapy_example.csv")
mat <- function(m) { m <- unclass(as.matrix(m)); list(rows = rownames(m), cols = colnames(m),
  values = lapply(seq_len(nrow(m)), function(i) as.vector(m[i, ]))) }
out <- list(versions = list(psych = as.character(packageVersion("psych")),
  lme4 = as.character(packageVersion("lme4"))))
remlcrit <- function(xy) {   # the REML criterion of psych's internal mlr1 model
  items <- setdiff(colnames(xy), c("id", "time"))
  n <- NROW(xy) / 2
  long <- data.frame(id = rep(1:n, 2), time = rep(1:2, each = n), stack(xy[items]))
  colnames(long)[4] <- "items"
  m <- lme4::lmer(values ~ 1 + (1 | id) + (1 | time) + (1 | items) + (1 | id:time) +
    (1 | id:items) + (1 | items:time), data = long, na.action = "na.omit")
  lme4::REMLcrit(m)
}
one <- function(r, call) {
  ml <- r$ml
  list(call = call, r12 = r$r12, alpha = mat(r$alpha), item_stats = mat(r$item.stats[, 1:6]),
    key = r$key, rqq = r$scores$rqq, dxy = r$scores$dxy, t1sd = r$scores$t1sd,
    t2sd = r$scores$t2sd, t1scores = r$scores$t1scores, t2scores = r$scores$t2scores,
    n_obs = ml$n.obs, n_items = ml$n.items, components = mat(ml$components),
    R1F = ml$R1F, RkF = ml$RkF, R1R = ml$R1R, RkR = ml$RkR, Rc = ml$Rc,
    remlcrit = suppressMessages(remlcrit(r$xy.df)))
}
wai <- paste0("wai_", 1:12)
x <- d[d$month %in% c(1, 2), c("patient_id", "month", wai)]
names(x)[1:2] <- c("id", "time")
out$wai_m1_m2 <- one(testRetest(x, keys = wai),
  "psych::testRetest(example[month %in% 1:2, c(id, time, wai_1..wai_12)], keys = wai)")
## PEAR items 1-6 at months 1 and 6 (patients without month 6 are dropped by psych, with
## a warning), with item pear_3 keyed negatively
pear <- paste0("pear_", 1:6)
y <- d[d$month %in% c(1, 6), c("patient_id", "month", pear)]
names(y)[1:2] <- c("id", "time")
out$pear_m1_m6_rev <- one(suppressWarnings(testRetest(y, keys = c("pear_1", "pear_2", "-pear_3",
  "pear_4", "pear_5", "pear_6"))),
  "psych::testRetest(example[month %in% c(1,6), c(id, time, pear_1..pear_6)], keys = c(..., '-pear_3', ...))")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
  "tests/data/r_results/validity/test_retest.json")
