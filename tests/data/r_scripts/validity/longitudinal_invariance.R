## Longitudinal invariance of the WAI-SR bond items at months 1, 2, 3 of the shipped example
## data (semTools 0.5-6 measEq.syntax with ID.fac = "std.lv", lavaan 0.6-14).
## Run from the repository root:
##   Rscript tests/data/r_scripts/validity/longitudinal_invariance.R
## Writes tests/data/r_results/validity/longitudinal_invariance.json.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
d <- read.csv("examples/therapy_example.csv")
items <- c("wai_3", "wai_5", "wai_7", "wai_9")
occ <- 1:3
sub <- d[d$month %in% occ, c("patient_id", "month", items)]
w <- reshape(sub, idvar = "patient_id", timevar = "month", direction = "wide", sep = "_t")
w <- w[order(w$patient_id), ]
names(w) <- sub("^(wai_\\d+)_t(\\d+)$", "\\1_t\\2", names(w))
fac <- function(t) paste0("bond_t", t, " =~ ", paste0(items, "_t", t, collapse = " + "))
config <- paste(sapply(occ, fac), collapse = "\n")
long <- list(bond = paste0("bond_t", occ))
equal <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
out <- list(versions = list(lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            items = items, occasions = occ)
keys <- c("npar", "df", "chisq", "cfi", "rmsea", "srmr", "aic", "bic", "logl")
for (miss in c("listwise", "ml")) {
  dat <- if (miss == "listwise") w[complete.cases(w), ] else w[rowSums(!is.na(w[, -1])) > 0, ]
  res <- list(n = nrow(dat))
  for (lv in names(equal)) {
    syn <- measEq.syntax(configural.model = config, data = dat, ID.fac = "std.lv",
                         longFacNames = long, long.equal = equal[[lv]], return.fit = FALSE)
    fit <- cfa(as.character(syn), data = dat, meanstructure = TRUE, missing = miss)
    res[[lv]] <- list(call = sprintf(paste0("cfa(as.character(measEq.syntax(config, dat, ID.fac='std.lv', ",
                                            "longFacNames=long, long.equal=%s)), dat, meanstructure=TRUE, missing='%s')"),
                                     deparse(equal[[lv]]), miss),
                      fit = as.list(fitMeasures(fit, keys)))
  }
  out[[miss]] <- res
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/data/r_results/validity/longitudinal_invariance.json")
