## lme4 predict() with a subset of the random terms (re.form) and new levels for models with
## several grouping factors, and simulate()'s marginal variance check data. Data: the data
## frames stored in nested_crossed.json.
## Run from the repository root: Rscript tests/data/r_scripts/multilevel/multi_predict.R
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
nc <- fromJSON("tests/data/r_results/multilevel/nested_crossed.json")$data
therapy <- nc$therapy; pen <- nc$penicillin; therapy2 <- nc$therapy2
fit1 <- lmer(y ~ x + (1 | therapist/patient), therapy)
new1 <- data.frame(therapist = c("T01", "T02", "T99", "T03"), patient = c(1, 2, 1, 77),
                   x = c(4.5, 6, 5, 3))
fit2 <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen)
new2 <- data.frame(plate = c("a", "b", "zz"), sample = c("A", "F", "B"))
fit3 <- lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2)
new3 <- data.frame(therapist = c("U01", "U05", "U10"), patient = c(1, 3, 8),
                   x = c(0.2, -1, 0.5), month = c(2, 11, 4))
res <- list(
  nested = list(call = "lmer(y ~ x + (1 | therapist/patient), therapy)",
    theta = unname(getME(fit1, "theta")),
    newdata = new1,
    # predict(fit1, new1, allow.new.levels = TRUE)
    all_new = unname(predict(fit1, new1, allow.new.levels = TRUE)),
    # predict(fit1, new1, re.form = ~(1 | therapist), allow.new.levels = TRUE)
    therapist_new = unname(predict(fit1, new1, re.form = ~(1 | therapist), allow.new.levels = TRUE)),
    # predict(fit1, re.form = ~(1 | therapist))[1:6]
    therapist_head = unname(predict(fit1, re.form = ~(1 | therapist))[1:6]),
    # predict(fit1, re.form = ~(1 | patient:therapist))[1:6]
    patient_head = unname(predict(fit1, re.form = ~(1 | patient:therapist))[1:6]),
    # predict(fit1, re.form = NA)[1:6]
    fixed_head = unname(predict(fit1, re.form = NA)[1:6])),
  crossed = list(call = "lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin)",
    theta = unname(getME(fit2, "theta")),
    newdata = new2,
    # predict(fit2, new2, re.form = ~(1 | sample), allow.new.levels = TRUE)
    sample_new = unname(predict(fit2, new2, re.form = ~(1 | sample), allow.new.levels = TRUE)),
    # predict(fit2, new2, allow.new.levels = TRUE)
    all_new = unname(predict(fit2, new2, allow.new.levels = TRUE))),
  slope = list(call = "lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2)",
    theta = unname(getME(fit3, "theta")),
    newdata = new3,
    # predict(fit3, new3, re.form = ~(1 + month | therapist:patient))
    patient_new = unname(predict(fit3, new3, re.form = ~(1 + month | therapist:patient))),
    # predict(fit3, new3)
    all_new = unname(predict(fit3, new3))),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))))
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           "tests/data/r_results/multilevel/multi_predict.json")
