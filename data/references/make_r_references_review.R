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
d_missing <- read.csv("data/ordinal/acsi5_missing.csv")
lav <- function(name) paste(readLines(file.path("data/references", name)), collapse = "\n")
models <- c(free = "compare_ord_free.lav", equal = "compare_ord_equal.lav", zero = "compare_ord_zero.lav")
cases <- list(WLSMV = list("WLSMV", d, "listwise"), ULS = list("ULS", d, "listwise"),
              DWLS = list("DWLS", d, "listwise"),
              WLSMV_pairwise = list("WLSMV", d_missing, "pairwise"))
rows <- list()
for (case in names(cases)) {
  est <- cases[[case]][[1]]
  fits <- lapply(models, function(m) sem(lav(m), cases[[case]][[2]], ordered = TRUE, estimator = est,
                                         missing = cases[[case]][[3]]))
  lrt <- lavTestLRT(fits[[1]], fits[[2]], fits[[3]])
  rows[[case]] <- data.frame(case = case, estimator = est, missing = cases[[case]][[3]],
                            model = names(models), df = lrt$Df, chisq = lrt$Chisq,
                            chisq_diff = lrt$`Chisq diff`, df_diff = lrt$`Df diff`,
                            pvalue = lrt$`Pr(>Chisq)`,
                            rmsea_diff = if (is.null(lrt$RMSEA)) NA else lrt$RMSEA)
}
out <- do.call(rbind, rows)
write.csv(out, "data/references/compare_ordinal_lrt.csv", row.names = FALSE, na = "")
cat("wrote compare_ordinal_lrt.csv\n")

# ---------------------------------------------------------------------------
# t-test power where scipy's noncentral t returns NaN (a large change at few
# respondents): R's power.t.test (strict = TRUE: both tails), sd = 1 (the SD
# of a panel member's change, or of an answer for two independent samples)
# ---------------------------------------------------------------------------
cases <- data.frame(type = c("paired", "paired", "paired", "two.sample"),
                    delta = c(10, NA, 4, NA), n = c(NA, 2, NA, 2))
res <- lapply(seq_len(nrow(cases)), function(i) {
  cs <- cases[i, ]
  p <- if (is.na(cs$n)) power.t.test(delta = cs$delta, sd = 1, power = 0.8, type = cs$type, strict = TRUE)
       else power.t.test(n = cs$n, sd = 1, power = 0.8, type = cs$type, strict = TRUE)
  data.frame(type = cs$type, solve_for = if (is.na(cs$n)) "n" else "delta", alpha = 0.05, power = 0.8,
             n = p$n, delta = p$delta)
})
write.csv(do.call(rbind, res), "data/references/planning_t_power_r.csv", row.names = FALSE)
cat("wrote planning_t_power_r.csv\n")
