## Extra references for psychometrics.reliability.multilevel (psych::multilevel.reliability).
## Run from the repository root:
##   Rscript tests/data/r_scripts/mlrel/mlrel_reference.R
## Writes tests/data/r_results/mlrel/mlrel_reference.json
suppressPackageStartupMessages({library(psych); library(lme4); library(nlme); library(jsonlite)})
options(warn = 1)

versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                 lme4 = as.character(packageVersion("lme4")), nlme = as.character(packageVersion("nlme")),
                 Matrix = as.character(packageVersion("Matrix")))
nv <- function(x) as.list(setNames(as.vector(x), names(x)))
comp_rows <- function(d) { d <- as.data.frame(d); r <- rownames(d); rownames(d) <- NULL
                           cbind(row = r, d) }

## full-precision crossed (lmer) and nested (nlme, lmer) fits on psych's own long data
full_fits <- function(long) {
  f <- values ~ 1 + (1 | id) + (1 | time) + (1 | items) + (1 | id:time) + (1 | id:items) + (1 | items:time)
  m <- lme4::lmer(f, data = long, na.action = "na.omit")
  vc <- as.data.frame(lme4::VarCorr(m))
  crossed <- list(call = "lme4::lmer(values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time) + (1|id:items) + (1|items:time), data = mr$long)",
                  theta = nv(lme4::getME(m, "theta")), sigma = sigma(m), REMLcrit = as.numeric(REMLcrit(m)),
                  logLik = as.numeric(logLik(m)), fixef = as.numeric(fixef(m)),
                  vcov_names = vc$grp, vcov = vc$vcov, nobs = nobs(m), isSingular = isSingular(m),
                  messages = m@optinfo$conv$lme4$messages)
  ml <- nlme::lme(values ~ 1, random = list(id = ~1, time = ~1 | id:items), data = long, na.action = "na.omit")
  pd <- lapply(nlme::pdMatrix(ml$modelStruct$reStruct), function(x) as.numeric(x) * ml$sigma^2)
  nested_lme <- list(call = "nlme::lme(values ~ 1, random = list(id = ~1, time = ~1 | id:items), data = mr$long, na.action = 'na.omit')",
                     var_id = pd$id, var_time_in_id = pd$time, var_residual = ml$sigma^2,
                     logLik = as.numeric(logLik(ml)), fixef = as.numeric(nlme::fixef(ml)),
                     n_groups = as.list(ml$dims$ngrps[1:2]))
  ml2 <- nlme::lme(values ~ 1, random = ~ 1 | id/time, data = long, na.action = "na.omit")
  pd2 <- lapply(nlme::pdMatrix(ml2$modelStruct$reStruct), function(x) as.numeric(x) * ml2$sigma^2)
  nested_lme_idtime <- list(call = "nlme::lme(values ~ 1, random = ~ 1 | id/time, data = mr$long)",
                            var_id = pd2$id, var_time_in_id = pd2$time, var_residual = ml2$sigma^2,
                            logLik = as.numeric(logLik(ml2)))
  mn <- lme4::lmer(values ~ 1 + (1 | id/time), data = long, na.action = "na.omit")
  vcn <- as.data.frame(lme4::VarCorr(mn))
  nested_lmer <- list(call = "lme4::lmer(values ~ 1 + (1 | id/time), data = mr$long)",
                      vcov_names = vcn$grp, vcov = vcn$vcov, REMLcrit = as.numeric(REMLcrit(mn)),
                      theta = nv(lme4::getME(mn, "theta")), sigma = sigma(mn))
  list(crossed_lmer = crossed, nested_lme = nested_lme, nested_lme_idtime = nested_lme_idtime,
       nested_lmer = nested_lmer)
}
mlr_out <- function(mr, call) {
  list(call = call, n.obs = mr$n.obs, n.time = mr$n.time, n.items = mr$n.items,
       RkF = mr$RkF, R1R = mr$R1R, RkR = mr$RkR, Rc = mr$Rc, RkRn = mr$RkRn, Rcn = mr$Rcn,
       components = comp_rows(mr$components), long_nrow = nrow(mr$long))
}

## 1. psych's own example (Shrout & Lane 2012), balanced 5 persons x 4 times x 3 items
shrout <- structure(list(Person = c(1L, 2L, 3L, 4L, 5L, 1L, 2L, 3L, 4L,
5L, 1L, 2L, 3L, 4L, 5L, 1L, 2L, 3L, 4L, 5L), Time = c(1L, 1L,
1L, 1L, 1L, 2L, 2L, 2L, 2L, 2L, 3L, 3L, 3L, 3L, 3L, 4L, 4L, 4L,
4L, 4L), Item1 = c(2L, 3L, 6L, 3L, 7L, 3L, 5L, 6L, 3L, 8L, 4L,
4L, 7L, 5L, 6L, 1L, 5L, 8L, 8L, 6L), Item2 = c(3L, 4L, 6L, 4L,
8L, 3L, 7L, 7L, 5L, 8L, 2L, 6L, 8L, 6L, 7L, 3L, 9L, 9L, 7L, 8L
), Item3 = c(6L, 4L, 5L, 3L, 7L, 4L, 7L, 8L, 9L, 9L, 5L, 7L,
9L, 7L, 8L, 4L, 7L, 9L, 9L, 6L)), .Names = c("Person", "Time",
"Item1", "Item2", "Item3"), class = "data.frame", row.names = c(NA, -20L))
items3 <- c("Item1", "Item2", "Item3")
mr_aov <- multilevel.reliability(shrout, grp = "Person", Time = "Time", items = items3)
mr_lmer <- multilevel.reliability(shrout, grp = "Person", Time = "Time", items = items3,
                                  aov = FALSE, lmer = TRUE)
st <- matrix(unlist(mr_aov$ANOVA), ncol = 5)
colnames(st) <- c("df", "SS", "MS", "F", "p")
rownames(st) <- c("id", "time", "items", "id x time", "time x items", "id x items", "residuals")
shrout_out <- list(
  data = shrout,
  aov = c(mlr_out(mr_aov, "psych::multilevel.reliability(shrout, grp = 'Person', Time = 'Time', items = c('Item1','Item2','Item3'))  # aov = TRUE, lmer = FALSE, lme = TRUE"),
          list(anova = comp_rows(st))),
  lmer = mlr_out(mr_lmer, "psych::multilevel.reliability(shrout, grp = 'Person', Time = 'Time', items = c('Item1','Item2','Item3'), aov = FALSE, lmer = TRUE)"),
  fits = full_fits(mr_lmer$long))

## 2. therapy_sim, all 12 WAI items: full-precision fits (psych's own long data)
ts <- read.csv("tests/data/datasets/therapy_sim.csv")
wai <- paste0("wai_", 1:12)
t0 <- Sys.time()
mr_ts <- multilevel.reliability(ts, grp = "patient_id", Time = "month", items = wai, alpha = FALSE,
                                aov = FALSE, lmer = TRUE, lme = TRUE)
el <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
ts_out <- c(mlr_out(mr_ts, "psych::multilevel.reliability(therapy_sim, grp = 'patient_id', Time = 'month', items = wai_1..wai_12, alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)"),
            list(elapsed_s = el, fits = full_fits(mr_ts$long)))

## 3. missing values: first 40 patients of therapy_sim, items wai_1..wai_6, cells set to NA
##    deterministically (row r, 1-based: if r %% 7 == 0, item (r %% 6) + 1 is NA; rows 5 and 50
##    have all six items NA)
sub <- ts[ts$patient_id <= 40, c("patient_id", "month", wai[1:6])]
for (r in seq_len(nrow(sub))) if (r %% 7 == 0) sub[r, 2 + (r %% 6) + 1] <- NA
sub[c(5, 50), wai[1:6]] <- NA
write.csv(sub, "tests/data/r_results/mlrel/therapy_sub_missing.csv", row.names = FALSE, na = "NA")
mr_na <- multilevel.reliability(sub, grp = "patient_id", Time = "month", items = wai[1:6], alpha = FALSE,
                                aov = FALSE, lmer = TRUE, lme = TRUE)
na_out <- c(mlr_out(mr_na, "psych::multilevel.reliability(sub, grp = 'patient_id', Time = 'month', items = wai_1..wai_6, alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)"),
            list(n_missing = sum(is.na(sub[wai[1:6]])), fits = full_fits(mr_na$long)))

## 4. reverse-keyed item ("-wai_3") on the same subset without NAs
sub2 <- ts[ts$patient_id <= 40, c("patient_id", "month", wai[1:6])]
mr_rev <- multilevel.reliability(sub2, grp = "patient_id", Time = "month",
                                 items = c("wai_1", "wai_2", "-wai_3", "wai_4", "wai_5", "wai_6"),
                                 alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)
rev_out <- c(mlr_out(mr_rev, "psych::multilevel.reliability(sub2, grp = 'patient_id', Time = 'month', items = c('wai_1','wai_2','-wai_3','wai_4','wai_5','wai_6'), alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)  # sub2 = patients 1..40, no NA"),
             list(fits = full_fits(mr_rev$long)))

## 5. repeated sessions: shrout plus a second row for Person 1 at Time 1 (psych pools it into
##    the same id:time level)
shrout_dup <- rbind(shrout, data.frame(Person = 1L, Time = 1L, Item1 = 4L, Item2 = 2L, Item3 = 5L))
mr_dup <- multilevel.reliability(shrout_dup, grp = "Person", Time = "Time", items = items3,
                                 aov = FALSE, lmer = TRUE)
dup_out <- c(mlr_out(mr_dup, "psych::multilevel.reliability(rbind(shrout, data.frame(Person = 1, Time = 1, Item1 = 4, Item2 = 2, Item3 = 5)), grp = 'Person', Time = 'Time', items = c('Item1','Item2','Item3'), aov = FALSE, lmer = TRUE)"),
             list(fits = full_fits(mr_dup$long)))

## 6. gaps in the time series (complete items): patients 1..40, rows with (patient_id + month) %% 5 == 0
##    removed, items wai_7..wai_12
sub3 <- ts[ts$patient_id <= 40 & (ts$patient_id + ts$month) %% 5 != 0, c("patient_id", "month", wai[7:12])]
mr_gap <- multilevel.reliability(sub3, grp = "patient_id", Time = "month", items = wai[7:12], alpha = FALSE,
                                 aov = FALSE, lmer = TRUE, lme = TRUE)
gap_out <- c(mlr_out(mr_gap, "psych::multilevel.reliability(sub3, grp = 'patient_id', Time = 'month', items = wai_7..wai_12, alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)  # sub3 = patients 1..40 without rows where (patient_id + month) %% 5 == 0"),
             list(fits = full_fits(mr_gap$long)))

## 7. long input (psych's own example: the long data returned by the wide call)
shrout_long <- mr_lmer$long
write.csv(shrout_long, "tests/data/r_results/mlrel/shrout_long.csv", row.names = FALSE)
mr_long_aov <- multilevel.reliability(shrout_long, grp = "id", Time = "time", items = "items",
                                      values = "values", long = TRUE)
mr_long_lmer <- multilevel.reliability(shrout_long, grp = "id", Time = "time", items = "items",
                                       values = "values", long = TRUE, aov = FALSE, lmer = TRUE)
long_out <- list(
  aov = mlr_out(mr_long_aov, "psych::multilevel.reliability(mg$long, grp = 'id', Time = 'time', items = 'items', values = 'values', long = TRUE)"),
  lmer = mlr_out(mr_long_lmer, "psych::multilevel.reliability(mg$long, grp = 'id', Time = 'time', items = 'items', values = 'values', long = TRUE, aov = FALSE, lmer = TRUE)"))

## 8. alpha per person (psych's default alpha = TRUE; alphaBy: pairwise covariances per person)
alpha_df <- function(a) { d <- as.data.frame(a); cbind(row = rownames(a), d) }
mr_alpha <- multilevel.reliability(sub, grp = "patient_id", Time = "month", items = wai[1:6],
                                   aov = FALSE, lmer = FALSE, lme = FALSE)
mr_alpha_rev <- multilevel.reliability(sub2, grp = "patient_id", Time = "month",
                                       items = c("wai_1", "wai_2", "-wai_3", "wai_4", "wai_5", "wai_6"),
                                       aov = FALSE, lmer = FALSE, lme = FALSE)
mr_alpha_shrout <- multilevel.reliability(shrout, grp = "Person", Time = "Time", items = items3,
                                          aov = FALSE, lmer = FALSE, lme = FALSE)
alpha_out <- list(
  missing = list(call = "psych::multilevel.reliability(sub, grp = 'patient_id', Time = 'month', items = wai_1..wai_6, aov = FALSE, lmer = FALSE, lme = FALSE)$alpha  # sub = therapy_sub_missing.csv",
                 alpha = alpha_df(mr_alpha$alpha)),
  reversed = list(call = "psych::multilevel.reliability(sub2, ..., items = c('wai_1','wai_2','-wai_3','wai_4','wai_5','wai_6'), aov = FALSE, lmer = FALSE, lme = FALSE)$alpha",
                  alpha = alpha_df(mr_alpha_rev$alpha)),
  shrout = list(call = "psych::multilevel.reliability(shrout, grp = 'Person', Time = 'Time', items = c('Item1','Item2','Item3'), aov = FALSE, lmer = FALSE, lme = FALSE)$alpha",
                alpha = alpha_df(mr_alpha_shrout$alpha)))

out <- list(generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"), versions = versions,
            shrout = shrout_out, therapy_wai12 = ts_out, therapy_sub_missing = na_out,
            therapy_sub_reversed = rev_out, shrout_duplicate = dup_out, therapy_sub_gaps = gap_out,
            shrout_long = long_out, alpha_by_person = alpha_out)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", matrix = "rowmajor", force = TRUE),
           "tests/data/r_results/mlrel/mlrel_reference.json")
cat("wrote tests/data/r_results/mlrel/mlrel_reference.json\n")
