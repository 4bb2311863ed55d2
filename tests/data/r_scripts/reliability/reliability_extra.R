## Extra reference values for psychometrics.reliability (beyond case4_reliability.json).
## Run from the repository root:
##   Rscript tests/data/r_scripts/reliability/reliability_extra.R
## Writes tests/data/r_results/reliability/reliability_extra.json
suppressPackageStartupMessages({library(psych); library(jsonlite); library(lme4)})
options(warn = 1)
bfi <- read.csv("tests/data/datasets/bfi.csv")
sai <- read.csv("tests/data/datasets/sai.csv", stringsAsFactors = FALSE)

nv <- function(x) { x <- unclass(x); as.list(setNames(as.vector(x), names(x))) }
mat <- function(m) { m <- as.matrix(unclass(m)); rn <- rownames(m); cn <- colnames(m)
  setNames(lapply(seq_len(nrow(m)), function(i) setNames(as.list(as.vector(m[i, ])), cn)), rn) }
rows <- function(d) { d <- as.data.frame(d); r <- rownames(d); rownames(d) <- NULL; cbind(row = r, d) }

alpha_out <- function(a, call) list(call = call, total = nv(unlist(a$total[1, ])),
  alpha.drop = rows(a$alpha.drop), item.stats = rows(a$item.stats),
  response.freq = if (is.null(a$response.freq)) NULL else rows(a$response.freq),
  feldt = list(lower.ci = a$feldt$lower.ci[[1]], upper.ci = a$feldt$upper.ci[[1]], r.bar = a$feldt$r.bar[[1]]),
  Unidim = a$Unidim[[1]], Fit = a$Fit[[1]])
sh_out <- function(s, call) list(call = call, maxrb = s$maxrb, minrb = s$minrb, meanr = s$meanr,
  alpha = s$alpha, lambda2 = s$lambda2, lambda6 = s$lambda6, av.r = s$av.r, med.r = s$med.r)
icc_out <- function(i, call) list(call = call, results = rows(i$results), n.obs = i$n.obs,
  n.judge = i$n.judge, MSW = i$MSW, stats = mat(i$stats))

out <- list()
## alpha: three items (drop gives two-item scales), two items (psych's special case), E scale
out$alpha_E <- alpha_out(psych::alpha(bfi[, paste0("E", 1:5)], keys = c("E1", "E2")),
                         "psych::alpha(bfi[, paste0('E', 1:5)], keys = c('E1','E2'))")
out$alpha_O3 <- alpha_out(psych::alpha(bfi[, c("O1", "O3", "O5")], keys = "O5"),
                          "psych::alpha(bfi[, c('O1','O3','O5')], keys = 'O5')")
out$alpha_N2 <- alpha_out(psych::alpha(bfi[, c("N1", "N2")]), "psych::alpha(bfi[, c('N1','N2')])")

## cumulative scores (sum instead of mean) and splitHalf on covariances
out$alpha_A_cumulative <- alpha_out(psych::alpha(bfi[, paste0("A", 1:5)], keys = "A1", cumulative = TRUE),
                                    "psych::alpha(bfi[, paste0('A', 1:5)], keys = 'A1', cumulative = TRUE)")
ArC <- bfi[, paste0("A", 1:5)]; ArC$A1 <- 7 - ArC$A1
shRaw <- psych::splitHalf(ArC, raw = TRUE)
out$splitHalf_A_raw <- list(call = "psych::splitHalf(Ar, raw = TRUE)", raw = as.numeric(shRaw$raw), ci = nv(shRaw$ci))
out$splitHalf_A_covar <- sh_out(psych::splitHalf(ArC, covar = TRUE), "psych::splitHalf(Ar, covar = TRUE)")

## alpha of a covariance matrix with n.obs (standard errors from n.obs)
Cc <- na.omit(bfi[, paste0("C", 1:5)])
aM <- psych::alpha(cov(Cc), keys = c("C4", "C5"), n.obs = nrow(Cc))
out$alpha_C_matrix <- list(call = "psych::alpha(cov(na.omit(bfi[, C1:C5])), keys = c('C4','C5'), n.obs = nrow(Cc))",
                           n.obs = nrow(Cc), total = nv(unlist(aM$total[1, ])), alpha.drop = rows(aM$alpha.drop),
                           item.stats = rows(aM$item.stats))

## polychoric: E items (global), A items with pairwise thresholds, sai items with 4 categories
pcE <- psych::polychoric(bfi[, paste0("E", 1:5)])
out$polychoric_E <- list(call = "psych::polychoric(bfi[, paste0('E', 1:5)])", rho = mat(pcE$rho), tau = mat(pcE$tau))
pcAl <- suppressWarnings(psych::polychoric(bfi[, paste0("A", 1:5)], global = FALSE))
out$polychoric_A_local <- list(call = "psych::polychoric(bfi[, paste0('A', 1:5)], global = FALSE)", rho = mat(pcAl$rho), tau = mat(pcAl$tau))
sai_items <- c("calm", "tense", "upset", "rested", "anxious", "joyful")
sai1 <- sai[sai$time == 1 & sai$study == "AGES", sai_items]
pcS <- psych::polychoric(sai1)
out$polychoric_sai <- list(call = "psych::polychoric(sai[sai$time == 1 & sai$study == 'AGES', c('calm','tense','upset','rested','anxious','joyful')])",
                           rho = mat(pcS$rho), tau = mat(pcS$tau), n.obs = pcS$n.obs)
oaS <- psych::alpha(pcS$rho, keys = c("tense", "upset", "anxious"))
out$ordinal_alpha_sai <- list(call = "psych::alpha(pcS$rho, keys = c('tense','upset','anxious'))", total = nv(unlist(oaS$total[1, ])),
                              alpha.drop = rows(oaS$alpha.drop))

## unused categories: A2 never 1, A3 never 3 (thresholds -Inf / tied)
Au <- bfi[, paste0("A", 1:5)]; Au$A2[Au$A2 %in% 1] <- 2; Au$A3[Au$A3 %in% 3] <- 4
pcU <- psych::polychoric(Au)
out$polychoric_unused <- list(call = "Au <- A; Au$A2[Au$A2 == 1] <- 2; Au$A3[Au$A3 == 3] <- 4; psych::polychoric(Au)",
                              rho = mat(pcU$rho),
                              tau = lapply(mat(pcU$tau), function(r) lapply(r, function(v) if (is.infinite(v)) as.character(v) else v)))  # "-Inf" kept as text

## cor.smooth of a non-positive-definite matrix (used by polychoric when smooth = TRUE)
npd <- matrix(c(1, .9, .1, .9, 1, .8, .1, .8, 1), 3, dimnames = list(c("a", "b", "c"), c("a", "b", "c")))
out$cor_smooth <- list(call = "psych::cor.smooth(matrix(c(1,.9,.1,.9,1,.8,.1,.8,1), 3))", input = mat(npd),
                       smoothed = mat(suppressWarnings(psych::cor.smooth(npd))))

## binary items (lsat6): polychoric = tetrachoric-type correlations with 2 categories, alpha = KR-20
lsat6 <- read.csv("tests/data/datasets/lsat6.csv")
pcL <- psych::polychoric(lsat6)
out$polychoric_lsat6 <- list(call = "psych::polychoric(lsat6)", rho = mat(pcL$rho), tau = mat(pcL$tau))
out$alpha_lsat6 <- alpha_out(psych::alpha(lsat6), "psych::alpha(lsat6)")

## splitHalf: 8 items (35 splits), 7 items (odd), 3 items, 18 items (sampled: only alpha/lambdas comparable)
C8 <- bfi[, c(paste0("C", 1:5), "A2", "A3", "A4")]
out$splitHalf_8 <- sh_out(psych::splitHalf(C8, key = c("C1", "C2", "C3", "-C4", "-C5", "A2", "A3", "A4")), "psych::splitHalf(bfi[, c(paste0('C',1:5),'A2','A3','A4')], key = c('C1','C2','C3','-C4','-C5','A2','A3','A4'))  # psych needs the full signed key vector")
out$splitHalf_7 <- sh_out(psych::splitHalf(bfi[, c(paste0("C", 1:5), "A2", "A3")], key = c("C1", "C2", "C3", "-C4", "-C5", "A2", "A3")), "psych::splitHalf(bfi[, c(paste0('C',1:5),'A2','A3')], key = c('C1','C2','C3','-C4','-C5','A2','A3'))")
out$splitHalf_3 <- sh_out(psych::splitHalf(bfi[, c("A2", "A3", "A5")]), "psych::splitHalf(bfi[, c('A2','A3','A5')])")
set.seed(1)
out$splitHalf_18 <- sh_out(suppressWarnings(psych::splitHalf(bfi[, 1:18])), "set.seed(1); psych::splitHalf(bfi[, 1:18])  # sampled: maxrb/minrb/meanr random")

## ICC: Shrout & Fleiss (1979) example (typed in) and a sai subset; aov and lmer versions
sf <- matrix(c(9, 2, 5, 8,  6, 1, 3, 2,  8, 4, 6, 8,  7, 1, 2, 6,  10, 5, 6, 9,  6, 2, 4, 7),
             ncol = 4, byrow = TRUE, dimnames = list(NULL, paste0("J", 1:4)))
out$sf_data <- mat(sf)
out$ICC_sf_aov <- icc_out(psych::ICC(sf, lmer = FALSE), "psych::ICC(sf, lmer = FALSE)")
out$ICC_sf_lmer <- icc_out(psych::ICC(sf), "psych::ICC(sf)   # lmer = TRUE (default)")
saiI <- na.omit(sai[sai$study == "FLAT" & sai$time == 1, c("calm", "secure", "at.ease", "rested", "comfortable")])[1:100, ]
out$ICC_sai_aov <- icc_out(psych::ICC(saiI, lmer = FALSE), "psych::ICC(na.omit(sai[sai$study=='FLAT' & sai$time==1, c('calm','secure','at.ease','rested','comfortable')])[1:100, ], lmer = FALSE)")
out$ICC_sai_lmer <- icc_out(psych::ICC(saiI), "psych::ICC(same data)   # lmer = TRUE (default)")

## instrument table: WAI-SR and PEAR scales (item lists as in instruments/wai-sr.yaml, pear.yaml) on therapy_sim
ther <- read.csv("tests/data/datasets/therapy_sim.csv")
scales <- list(wai_sr_task = paste0("wai_", c(1, 2, 10, 12)), wai_sr_bond = paste0("wai_", c(3, 5, 7, 9)),
               wai_sr_goal = paste0("wai_", c(4, 6, 8, 11)),
               wai_sr_goal_task = paste0("wai_", c(1, 2, 4, 6, 8, 10, 11, 12)), wai_sr_total = paste0("wai_", 1:12),
               pear_f1 = paste0("pear_", 1:6), pear_f2 = paste0("pear_", 7:10), pear_total = paste0("pear_", 1:10))
out$therapy_scales <- lapply(names(scales), function(nm) {
  x <- ther[, scales[[nm]]]
  a <- psych::alpha(x); s <- psych::splitHalf(x)
  list(scale = nm, items = scales[[nm]], total = nv(unlist(a$total[1, ])),
       feldt = list(lower.ci = a$feldt$lower.ci[[1]], upper.ci = a$feldt$upper.ci[[1]]),
       r.drop = nv(setNames(a$item.stats$r.drop, rownames(a$item.stats))),
       alpha.drop = nv(setNames(a$alpha.drop$raw_alpha, rownames(a$alpha.drop))),
       splitHalf = sh_out(s, "psych::splitHalf(x)"))
})

tm <- function(f, reps) { f(); tt <- numeric(reps); for (i in seq_len(reps)) { gc(); t0 <- Sys.time(); f(); tt[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) }; median(tt) }
out$timings <- list(ICC_sai_lmer = tm(function() psych::ICC(saiI), 10), ICC_sai_aov = tm(function() psych::ICC(saiI, lmer = FALSE), 10),
                    polychoric_sai = tm(function() psych::polychoric(sai1), 5),
                    polychoric_25 = tm(function() psych::polychoric(bfi[, 1:25]), 1))
out$versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")), lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null", force = TRUE),
           "tests/data/r_results/reliability/reliability_extra.json")
cat("done\n")
