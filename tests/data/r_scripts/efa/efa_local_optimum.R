## A correlation matrix (7 variables, n = 300, 3 factors) on which psych::fa(fm = "ml") stops
## at a local optimum with three uniquenesses at the bound 0.005 while stats::factanal finds
## a much lower ML objective (issue 19 audit of EFA extraction).
## Run from the repository root:  Rscript tests/data/r_scripts/efa/efa_local_optimum.R
suppressPackageStartupMessages({ library(jsonlite); library(psych) })
R <- as.matrix(read.csv("tests/data/datasets/efa_local_optimum_cor.csv"))
rownames(R) <- colnames(R)
f <- fa(R, nfactors = 3, n.obs = 300, fm = "ml", rotate = "none")
g <- factanal(covmat = R, factors = 3, n.obs = 300, rotation = "none")
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
            psych_fa_ml = list(call = 'fa(R, nfactors = 3, n.obs = 300, fm = "ml", rotate = "none")',
                               uniquenesses = as.list(f$uniquenesses), objective = f$criteria[["objective"]]),
            factanal = list(call = 'factanal(covmat = R, factors = 3, n.obs = 300, rotation = "none")',
                            uniquenesses = as.list(g$uniquenesses), objective = g$criteria[["objective"]],
                            loadings = unclass(g$loadings)))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/data/r_results/efa/efa_local_optimum.json")
