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
# mixed: three ordered items and three continuous (numeric) ones
mixed <- acsi5[, c("CUEX1", "CUSA1", "CUEX2", "CUSA2", "CUEX3", "CUSA3")]
fit <- lavCor(mixed, ordered = c("CUEX1", "CUEX2", "CUEX3"), output = "fit", estimator = "DWLS",
              se = "robust.sem")
wr(long_matrix(lavInspect(fit, "gamma")), "ordinal_mixed_gamma.csv")
wr(data.frame(name = names(lavInspect(fit, "wls.obs")), value = as.vector(lavInspect(fit, "wls.obs"))),
   "ordinal_mixed_wls_obs.csv")
poly(acsi5_missing[, 1:6], "pairwise", "acsi5_six_pairwise")
poly(acsi5, "listwise", "acsi5", gamma = FALSE)
poly(acsi5_missing, "pairwise", "acsi5_pairwise", gamma = FALSE)
poly(mobi, "listwise", "mobi", gamma = FALSE)

# ---------------------------------------------------------------------------
# 2. ordered-item SEM: sem(..., ordered = items, estimator = ...)
# ---------------------------------------------------------------------------
acsi5_model <- paste(readLines("data/ordinal/acsi5.lav"), collapse = "\n")   # make_acsi5.py's MODEL
mobi_model <- "
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty =~ CUSL1 + CUSL3
Quality ~ Expectation
Value ~ Expectation + Quality
Satisfaction ~ Expectation + Quality + Value
Loyalty ~ Satisfaction
"
writeLines(acsi5_model, file.path(out, "ordinal_acsi5.lav"))
writeLines(mobi_model, file.path(out, "ordinal_mobi.lav"))
ordered_fit <- function(model, data, tag, ordered = TRUE, ...) {
  fit <- sem(model, data = data, ordered = ordered, ...)
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"label" %in% names(p)) p$label <- ""
  wr(p[, c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")],
     sprintf("ordinal_%s_params.csv", tag))
  fm <- fitMeasures(fit)
  wr(data.frame(measure = names(fm), value = as.vector(fm)), sprintf("ordinal_%s_fit.csv", tag))
  r2 <- lavInspect(fit, "r2")
  wr(data.frame(variable = names(r2), r2 = as.vector(r2)), sprintf("ordinal_%s_r2.csv", tag))
}
ordered_fit(acsi5_model, acsi5, "acsi5_wlsmv", estimator = "WLSMV")
ordered_fit(acsi5_model, acsi5, "acsi5_dwls", estimator = "DWLS")
ordered_fit(acsi5_model, acsi5, "acsi5_uls", estimator = "ULS")
ordered_fit(acsi5_model, acsi5_missing, "acsi5_pairwise_wlsmv", estimator = "WLSMV", missing = "pairwise")
# mixed: the Satisfaction items continuous (numeric), every other item ordered
ordered_fit(acsi5_model, acsi5, "acsi5_mixed_wlsmv", estimator = "WLSMV",
            ordered = setdiff(names(acsi5), c("CUSA1", "CUSA2", "CUSA3")))
ordered_fit(mobi_model, mobi[, c("CUEX1", "CUEX2", "CUEX3", paste0("PERQ", 1:7), "PERV1", "PERV2",
                                 "CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL3")],
            "mobi_wlsmv", estimator = "WLSMV")

# ---------------------------------------------------------------------------
# 3. ordered-item invariance: cfa(..., ordered = TRUE, group = , group.equal = )
#    the Satisfaction and Loyalty items of acsi5.csv, groups "a" (odd rows)
#    and "b" (even rows); lavaan's order: thresholds, then loadings, then
#    intercepts
# ---------------------------------------------------------------------------
inv_model <- "
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty =~ CUSL1 + CUSL2 + CUSL3
"
writeLines(inv_model, file.path(out, "ordinal_invariance.lav"))
inv_data <- acsi5[, c("CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL2", "CUSL3")]
inv_data$half <- rep(c("a", "b"), length.out = nrow(inv_data))
steps <- list(configural = "", thresholds = "thresholds", metric = c("thresholds", "loadings"),
              scalar = c("thresholds", "loadings", "intercepts"))
inv_fits <- lapply(steps, function(ge) cfa(inv_model, data = inv_data, ordered = TRUE, group = "half",
                                           group.equal = ge, estimator = "WLSMV"))
for (s in names(steps)) {
  fit <- inv_fits[[s]]
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"label" %in% names(p)) p$label <- ""
  wr(p[, c("lhs", "op", "rhs", "group", "label", "est", "se", "std.all")],
     sprintf("ordinal_invariance_%s_params.csv", s))
  fm <- fitMeasures(fit)
  wr(data.frame(measure = names(fm), value = as.vector(fm)), sprintf("ordinal_invariance_%s_fit.csv", s))
}
lrt <- lavTestLRT(inv_fits$configural, inv_fits$thresholds, inv_fits$metric)
wr(data.frame(step = c("configural", "thresholds", "metric"), df = lrt$Df, chisq = lrt$Chisq,
              delta_chisq = lrt[["Chisq diff"]], delta_df = lrt[["Df diff"]], pvalue = lrt[["Pr(>Chisq)"]]),
   "ordinal_invariance_lrt.csv")

# ---------------------------------------------------------------------------
# 4. binary and three-category items (lavaan's 2 x 2 special cases): the
#    acsi5 answers recoded, binary = (answer >= 4), three = 1-2 / 3-4 / 5;
#    `b_sparse` (the binary CUEX1 with every "0" that answered 5 on CUEX2
#    turned to "1") has one empty cell against binary CUEX2
# ---------------------------------------------------------------------------
recoded <- data.frame(
  b1 = as.integer(acsi5$CUEX1 >= 4), b2 = as.integer(acsi5$CUEX2 >= 4), b3 = as.integer(acsi5$CUSA1 >= 4),
  t1 = cut(acsi5$PERQ1, c(0, 2, 4, 5), labels = FALSE), t2 = cut(acsi5$PERQ2, c(0, 2, 4, 5), labels = FALSE),
  t3 = cut(acsi5$CUSL1, c(0, 2, 4, 5), labels = FALSE))
recoded$b_sparse <- ifelse(recoded$b1 == 0 & acsi5$CUEX2 >= 4, 1L, recoded$b1)
write.csv(recoded, "data/ordinal/acsi5_recoded.csv", row.names = FALSE)
poly(recoded, "listwise", "recoded")
