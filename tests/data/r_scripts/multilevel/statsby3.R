## psych::statsBy by patient and by therapist and the variance shares per level (issue 23.4)
## on the simulated three-level therapy data stored in nested_crossed.json.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/statsby3.R
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(psych)})
d <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data$therapy
d$pkey <- paste(d$therapist, d$patient, sep = "|")
sp <- statsBy(d[, c("pkey", "x", "y")], group = "pkey")
st <- statsBy(d[, c("therapist", "x", "y")], group = "therapist")
vc <- function(v) { f <- lmer(as.formula(paste(v, "~ 1 + (1 | therapist/pkey)")), d)
  a <- as.data.frame(VarCorr(f)); setNames(as.list(a$vcov), a$grp) }
res <- list(call = "statsBy(d[, c('pkey', 'x', 'y')], group = 'pkey'); statsBy(d[, c('therapist', 'x', 'y')], group = 'therapist'); lmer(v ~ 1 + (1 | therapist/pkey), d)",
            patient = list(icc1 = unname(sp$ICC1[c("x", "y")]), icc2 = unname(sp$ICC2[c("x", "y")]),
                           rwg = sp$rwg[1, 2], rbg = sp$rbg[1, 2]),
            therapist = list(icc1 = unname(st$ICC1[c("x", "y")]), icc2 = unname(st$ICC2[c("x", "y")]),
                             rwg = st$rwg[1, 2], rbg = st$rbg[1, 2]),
            var_x = vc("x"), var_y = vc("y"),
            versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/statsby3.json")
