# Reference estimates from lavaan for csmlib's ordinal estimation (issue 18):
# polychoric correlations, thresholds and their asymptotic covariance
# (NACOV), and WLSMV fits of ordered-item models.
#
# Run from the repository root:  Rscript data/references/make_r_references_ordinal.R
# Needs R with lavaan (Debian: r-cran-lavaan).  The tests read only the CSV
# files this writes (data/references/ordinal_*.csv); R is not needed to run
# them.  Data: data/ordinal/acsi5.csv and acsi5_missing.csv (made by
# data/ordinal/make_acsi5.py) and data/mobi/mobi.csv (10-point answers,
# treated as ordered).
suppressPackageStartupMessages(library(lavaan))

out <- "data/references"
wr <- function(x, name) {
  write.csv(x, file.path(out, name), row.names = FALSE, na = "")
  cat("wrote", name, "\n")
}
long_matrix <- function(M) {
  data.frame(row = rep(rownames(M), times = ncol(M)), col = rep(colnames(M), each = nrow(M)),
             value = as.vector(M))
}
thresholds <- function(th) {
  nm <- strsplit(names(th), "|", fixed = TRUE)
  data.frame(item = sapply(nm, `[`, 1), threshold = sapply(nm, `[`, 2), est = as.vector(th))
}

acsi5 <- read.csv("data/ordinal/acsi5.csv")
acsi5_missing <- read.csv("data/ordinal/acsi5_missing.csv")
mobi <- read.csv("data/mobi/mobi.csv")

# ---------------------------------------------------------------------------
# 1. polychoric correlations and thresholds: lavCor(..., ordered = ...)
# ---------------------------------------------------------------------------
poly <- function(data, missing, tag, gamma = TRUE) {
  items <- names(data)
  wr(long_matrix(lavCor(data, ordered = items, missing = missing, output = "cor")),
     sprintf("ordinal_%s_polychoric.csv", tag))
  wr(thresholds(lavCor(data, ordered = items, missing = missing, output = "th")),
     sprintf("ordinal_%s_thresholds.csv", tag))
  if (gamma) {
    fit <- lavCor(data, ordered = items, missing = missing, output = "fit",
                  estimator = "DWLS", se = "robust.sem")
    wr(long_matrix(lavInspect(fit, "gamma")), sprintf("ordinal_%s_gamma.csv", tag))
    wr(data.frame(name = rownames(lavInspect(fit, "wls.v")), wls_v = diag(lavInspect(fit, "wls.v"))),
       sprintf("ordinal_%s_wlsv.csv", tag))
  }
}
poly(acsi5[, 1:6], "listwise", "acsi5_six")
poly(acsi5_missing[, 1:6], "pairwise", "acsi5_six_pairwise")
poly(acsi5, "listwise", "acsi5", gamma = FALSE)
poly(acsi5_missing, "pairwise", "acsi5_pairwise", gamma = FALSE)
poly(mobi, "listwise", "mobi", gamma = FALSE)
