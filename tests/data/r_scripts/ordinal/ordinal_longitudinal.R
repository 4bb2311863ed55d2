## Ordinal longitudinal measurement invariance (Wu & Estabrook, 2016, across occasions):
## the WAI-SR bond items of examples/therapy_example.csv at months 1, 2, 3 as one CFA on wide
## data (a factor per month, residual autocovariances of each item), semTools 0.5-6
## measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", longFacNames, long.equal)
## and lavaan 0.6-14 cfa(ordered = ...). Category 1 (rare, absent at some months) is merged
## into 2, so every item has categories 2..5 at every month.
## Run from the repository root:  Rscript tests/data/r_scripts/ordinal/ordinal_longitudinal.R
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
d <- read.csv("examples/therapy_example.csv")
items <- c("wai_3", "wai_5", "wai_7", "wai_9")
occ <- 1:3
sub <- d[d$month %in% occ, c("patient_id", "month", items)]
for (v in items) sub[[v]] <- pmax(sub[[v]], 2)
w <- reshape(sub, idvar = "patient_id", timevar = "month", direction = "wide", sep = "_t")
w <- w[order(w$patient_id), ]
w <- w[complete.cases(w), ]
vars <- unlist(lapply(occ, function(t) paste0(items, "_t", t)))
fac <- function(t) paste0("bond_t", t, " =~ ", paste0(items, "_t", t, collapse = " + "))
config <- paste(sapply(occ, fac), collapse = "\n")
long <- list(bond = paste0("bond_t", occ))
equal <- list(configural = character(0), thresholds = "thresholds",
              loadings = c("thresholds", "loadings"),
              intercepts = c("thresholds", "loadings", "intercepts"))
df_rows <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; class(x) <- "data.frame"; x }
out <- list(lavaan = as.character(packageVersion("lavaan")),
            semTools = as.character(packageVersion("semTools")),
            items = items, occasions = occ, n = nrow(w), config = config,
            data = "examples/therapy_example.csv, months 1-3, wai_3/5/7/9 with 1 merged into 2, complete cases")
for (prm in c("delta", "theta")) {
  fits <- list(); res <- list()
  for (lv in names(equal)) {
    syn <- measEq.syntax(configural.model = config, data = w, ordered = vars,
                         parameterization = prm, ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
                         longFacNames = long, long.equal = equal[[lv]])
    txt <- as.character(syn)
    fit <- cfa(txt, data = w, ordered = vars, parameterization = prm,
               optim.method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
    fits[[lv]] <- fit
    res[[lv]] <- list(call = sprintf("cfa(as.character(measEq.syntax(config, data = w, ordered = vars, parameterization = '%s', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', longFacNames = long, long.equal = %s)), data = w, ordered = vars, parameterization = '%s', optim.method = 'BFGS', control = list(reltol = 1e-15, maxit = 10000))",
                                     prm, deparse(equal[[lv]]), prm),
                      long_equal = equal[[lv]], syntax = txt,
                      parameterEstimates = df_rows(parameterEstimates(fit)),
                      fitMeasures = as.list(fitMeasures(fit)))
  }
  tt <- lavTestLRT(fits$configural, fits$thresholds, fits$loadings, fits$intercepts,
                   method = "satorra.2000", model.names = names(equal))
  res$lrt_sequence <- list(call = "lavTestLRT(configural, thresholds, loadings, intercepts, method = 'satorra.2000')",
                           table = df_rows(cbind(model = rownames(tt), as.data.frame(tt))))
  out[[prm]] <- res
  cat(prm, "done\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null",
                  dataframe = "rows", force = TRUE),
           "tests/data/r_results/ordinal/ordinal_longitudinal.json")
cat("done\n")
