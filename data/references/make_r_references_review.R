# Reference values from lavaan for the review of issues 18 and 19 (model
# comparison of ordered-item fits): lavTestLRT of three nested models of
# ordered items, fitted by WLSMV (lavaan's "satorra.2000" scaled-shifted
# difference) and by ULS (the plain chi-square difference and its RMSEA).
#
# Run from the repository root:  Rscript data/references/make_r_references_review.R
# Needs R with lavaan (made with lavaan 0.6.14).  Data: data/ordinal/acsi5.csv.
# Writes data/references/compare_ordinal_lrt.csv; the tests read only that file.
suppressPackageStartupMessages(library(lavaan))

d <- read.csv("data/ordinal/acsi5.csv")
lav <- function(name) paste(readLines(file.path("data/references", name)), collapse = "\n")
models <- c(free = "compare_ord_free.lav", equal = "compare_ord_equal.lav", zero = "compare_ord_zero.lav")
rows <- list()
for (est in c("WLSMV", "ULS")) {
  fits <- lapply(models, function(m) sem(lav(m), d, ordered = TRUE, estimator = est))
  lrt <- lavTestLRT(fits[[1]], fits[[2]], fits[[3]])
  rows[[est]] <- data.frame(estimator = est, model = names(models), df = lrt$Df, chisq = lrt$Chisq,
                            chisq_diff = lrt$`Chisq diff`, df_diff = lrt$`Df diff`,
                            pvalue = lrt$`Pr(>Chisq)`,
                            rmsea_diff = if (is.null(lrt$RMSEA)) NA else lrt$RMSEA)
}
out <- do.call(rbind, rows)
write.csv(out, "data/references/compare_ordinal_lrt.csv", row.names = FALSE, na = "")
cat("wrote compare_ordinal_lrt.csv\n")
