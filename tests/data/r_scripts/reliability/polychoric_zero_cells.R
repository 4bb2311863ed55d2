## The 30-row, 4-item data of tests/reliability/test_polychoric_zero_cells.py (issue 19 audit):
## psych 2.2.9 stops on it. Run: Rscript tests/data/r_scripts/reliability/polychoric_zero_cells.R
## Output (R 4.2.2, psych 2.2.9):
##   Error in `rownames<-`(`*tmp*`, value = colnames(x)) : attempt to set 'rownames' on an
##   object with no dimensions;  warning "Something is wrong in polycor"
suppressPackageStartupMessages(library(psych))
x <- data.frame(
  a = c(2, 2, 2, 1, 2, 1, 2, 2, 2, 2, 3, 1, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 1),
  b = c(1, 3, 2, 2, 4, 1, 1, 2, 2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 3, 3, 2, 1, 2, 2, 2, 1, 2, 2, 1),
  c = c(2, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 4, 3, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 1, 2, 1, 2),
  d = c(1, 2, 2, 2, 4, 1, 2, 2, 1, 2, 2, 1, 2, 2, 3, 2, 1, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 2, 3, 2))
print(tryCatch(polychoric(x, smooth = FALSE)$rho, error = function(e) conditionMessage(e)))
