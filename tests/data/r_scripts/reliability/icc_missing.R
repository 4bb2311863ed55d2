## psych::ICC (lmer route, the default) on INCOMPLETE ratings.
## Run from the repository root:
##   Rscript tests/data/r_scripts/reliability/icc_missing.R
## Writes tests/data/r_results/reliability/icc_missing.json
suppressPackageStartupMessages({library(psych); library(jsonlite); library(lme4)})
options(warn = 1)
sai <- read.csv("tests/data/datasets/sai.csv", stringsAsFactors = FALSE)

mat <- function(m) { m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn) }
rows <- function(d) { d <- as.data.frame(d); r <- rownames(d); rownames(d) <- NULL; cbind(row = r, d) }

case <- function(x, mask, call) {
  x[mask] <- NA
  i <- psych::ICC(x)
  ## the same lmer fit psych makes (for the REML criterion and theta)
  x.df <- data.frame(stack(as.data.frame(x)), id = rep(paste0("S", seq_len(nrow(x))), ncol(x)))
  colnames(x.df) <- c("values", "items", "id")
  m <- lme4::lmer(values ~ 1 + (1 | id) + (1 | items), data = x.df, na.action = na.omit)
  list(call = call,
       mask = lapply(seq_len(nrow(mask)), function(r) list(row = mask[r, 1], col = mask[r, 2])),
       results = rows(i$results), n.obs = i$n.obs, n.judge = i$n.judge, MSW = i$MSW,
       stats = mat(i$stats), lme = rows(i$lme),
       lmer = list(REMLcrit = as.numeric(lme4::REMLcrit(m)), theta = as.numeric(lme4::getME(m, "theta")),
                   sigma = sigma(m), fixef = as.numeric(lme4::fixef(m)), nobs = nobs(m)))
}

out <- list()
## Shrout & Fleiss (1979) example with 3 cells NA (row, col; 1-based)
sf <- matrix(c(9, 2, 5, 8,  6, 1, 3, 2,  8, 4, 6, 8,  7, 1, 2, 6,  10, 5, 6, 9,  6, 2, 4, 7),
             ncol = 4, byrow = TRUE, dimnames = list(NULL, paste0("J", 1:4)))
sf_mask <- cbind(c(2, 4, 5), c(3, 1, 4))
out$sf_data <- mat(sf)
out$ICC_sf_missing <- case(sf, sf_mask, "sf[cbind(c(2,4,5), c(3,1,4))] <- NA; psych::ICC(sf)")

## boundary: equal subject means (sf rows centred on the grand mean), same 3 cells NA:
## lme4 reports a singular fit (subject variance 0)
sfc <- sf - rowMeans(sf) + mean(sf)
out$sfc_data <- mat(sfc)
out$ICC_sfc_missing <- suppressMessages(case(sfc, sf_mask,
  "sfc <- sf - rowMeans(sf) + mean(sf); sfc[cbind(c(2,4,5), c(3,1,4))] <- NA; psych::ICC(sfc)"))

## sai subset (as in reliability_extra.R) with 50 of 500 ratings (10%) NA
saiI <- as.matrix(na.omit(sai[sai$study == "FLAT" & sai$time == 1,
                              c("calm", "secure", "at.ease", "rested", "comfortable")])[1:100, ])
rownames(saiI) <- NULL
set.seed(20240611)
cells <- sort(sample(length(saiI), 50))
sai_mask <- arrayInd(cells, dim(saiI))
out$ICC_sai_missing <- case(saiI, sai_mask,
  "set.seed(20240611); x[arrayInd(sort(sample(500, 50)), dim(x))] <- NA; psych::ICC(x)")

out$versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                     lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/reliability/icc_missing.json")
cat("done\n")
