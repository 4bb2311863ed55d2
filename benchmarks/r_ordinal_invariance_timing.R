## Timing of the four-model ordinal invariance sequence in lavaan 0.6-14 / semTools 0.5-6,
## for benchmarks/bench_ordinal_invariance.py (which writes the data and calls this script).
## Usage: Rscript benchmarks/r_ordinal_invariance_timing.R data.csv repeats
## Prints one JSON line: median wall and CPU seconds of the sequence
## (measEq.syntax + cfa for configural, thresholds, loadings, intercepts + lavTestLRT).
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
vars <- paste0("y", 1:10)
model <- "f1 =~ y1 + y2 + y3 + y4 + y5\nf2 =~ y6 + y7 + y8 + y9 + y10"
lv <- list(configural = character(0), thresholds = "thresholds",
           loadings = c("thresholds", "loadings"),
           intercepts = c("thresholds", "loadings", "intercepts"))
run <- function() {
  fits <- lapply(lv, function(ge) {
    txt <- as.character(measEq.syntax(configural.model = model, data = d, ordered = vars,
                                      group = "g", ID.fac = "std.lv",
                                      ID.cat = "Wu.Estabrook.2016", group.equal = ge))
    cfa(txt, data = d, ordered = vars, group = "g")
  })
  list(fits = fits, lrt = lavTestLRT(fits$configural, fits$thresholds, fits$loadings,
                                     fits$intercepts, method = "satorra.2000"))
}
res <- run()   # warm-up
wall <- cpu <- numeric(reps)
for (i in seq_len(reps)) {
  t <- system.time(run())
  wall[i] <- t[["elapsed"]]
  cpu[i] <- t[["user.self"]] + t[["sys.self"]]
}
cat(toJSON(list(median_s = median(wall), median_cpu_s = median(cpu),
                chisq = unname(sapply(res$fits, function(f) fitMeasures(f, "chisq"))),
                chisq_diff = res$lrt[["Chisq diff"]][-1],
                lavaan = as.character(packageVersion("lavaan"))), auto_unbox = TRUE, digits = NA), "\n")
