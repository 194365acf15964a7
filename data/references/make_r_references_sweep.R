# Reference values from lavaan for the differential sweep of the CB-SEM
# engine (models one step off the earlier tests, where csmlib returned a
# different number, or none, in silence).
#
# Run from the repository root:  Rscript data/references/make_r_references_sweep.R
# Needs R with lavaan (made with lavaan 0.6.14).  Data: the bundled
# Holzinger-Swineford and PoliticalDemocracy files and
# data/references/holzinger_mcar15_data.csv (written by make_r_references.R).
# Writes data/references/sweep_cases.csv, sweep_lavaan_params.csv,
# sweep_lavaan_fit.csv, sweep_lavaan_r2.csv and sweep_refused_lavaan.csv;
# the tests (tests/test_cbsem_sweep.py) read only those files.
suppressPackageStartupMessages(library(lavaan))

out <- "data/references"
wr <- function(x, name) {
  write.csv(x, file.path(out, name), row.names = FALSE, na = "")
  cat("wrote", name, "\n")
}
data <- list(
  holzinger = read.csv("data/holzinger_swineford1939/holzinger_swineford1939.csv"),
  political_democracy = read.csv("data/political_democracy/political_democracy.csv"),
  holzinger_mcar15 = read.csv(file.path(out, "holzinger_mcar15_data.csv"))
)
data$holzinger40 <- data$holzinger[1:40, ]   # the first 40 rows: a Heywood case
hs3 <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"
# case, dataset, model, missing, rescale.  rescale ("x4=1e4;x1=1e-3"): the
# columns csmlib multiplies before its fit; lavaan fits the data as they are
# (ML is scale-free: chi-square, fit indices and std.all do not change).
cases <- data.frame(rbind(
  # observed variables in the structural model: R2 of the observed outcomes,
  # and the indirect / total effects equal to the defined a*b and c + a*b
  c("observed_mediation", "political_democracy",
    "ind60 =~ x1 + x2 + x3\ny1 ~ a*ind60\ny5 ~ b*y1 + c*ind60\nab := a*b\ntot := c + a*b", "listwise", ""),
  c("observed_paths_only", "political_democracy",
    "y1 ~ a*x1 + x2\ny2 ~ b*y1 + x1\nab := a*b", "listwise", ""),
  # std.all of defined parameters (standardizedSolution applies the
  # expression to the labels' standardized values)
  c("defined_standardized", "holzinger",
    "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nd := a - b\nr := a/b\ne := exp(a)", "listwise", ""),
  # FIML with a covariate that has missing values: lavaan (fixed.x = TRUE)
  # drops those rows ("cases were deleted due to missing values in exogenous
  # variable(s)")
  c("fiml_missing_covariate", "holzinger_mcar15",
    "visual =~ x1 + x2 + x3\nvisual ~ x4 + ageyr", "ml", ""),
  # a start value on the marker: lavaan fixes the marker at it (0.5, not 1)
  c("start_on_marker", "holzinger", "visual =~ start(0.5)*x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
    "listwise", ""),
  # a residual covariance with a negative (Heywood) residual variance: x3 ~~ x3
  # < 0 on the first 40 rows; lavaan's std.all divides by sqrt(|product|)
  c("heywood_residual_covariance", "holzinger40",
    paste0(hs3, "\nx3 ~~ x9"), "listwise", ""),
  # items in other units: a marker divided by 1000, an item times 10000
  c("rescaled_items", "holzinger", hs3, "listwise", "x4=1e4;x1=1e-3")
), stringsAsFactors = FALSE)
names(cases) <- c("case", "dataset", "model", "missing", "rescale")
wr(cases, "sweep_cases.csv")

fit_cols <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df", "ntotal")
params <- list()
fits <- list()
r2s <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  fit <- suppressWarnings(sem(cs$model, data = data[[cs$dataset]], missing = cs$missing))
  stopifnot(lavInspect(fit, "converged"))
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"label" %in% names(p)) p$label <- ""
  p <- p[, c("lhs", "op", "rhs", "label", "est", "se", "std.all")]
  params[[i]] <- data.frame(case = cs$case, p)
  fm <- fitMeasures(fit, fit_cols)
  fits[[i]] <- data.frame(case = cs$case, measure = names(fm), value = unclass(fm))
  r2 <- lavInspect(fit, "r2")
  r2s[[i]] <- data.frame(case = cs$case, variable = names(r2), r2 = unname(r2))
}
wr(do.call(rbind, params), "sweep_lavaan_params.csv")
wr(do.call(rbind, fits), "sweep_lavaan_fit.csv")
wr(do.call(rbind, r2s), "sweep_lavaan_r2.csv")

# a ~~ or ~ 1 statement on an observed covariate (fixed.x): lavaan warns and
# turns the covariates named into random ones, one by one, which fixes their
# covariances with the other covariates at 0 (a different model: a chi-square
# on 1 df where the model without the statement is saturated).  csmlib refuses.
refused <- data.frame(rbind(
  c("covariate_variance", "political_democracy", "y1 ~ x1 + x2\nx1 ~~ x1"),
  c("covariate_covariance_fixed", "political_democracy", "y1 ~ x1 + x2\nx1 ~~ 0*x2"),
  c("covariate_mean", "political_democracy", "y1 ~ x1 + x2\nx1 ~ 1")
), stringsAsFactors = FALSE)
names(refused) <- c("case", "dataset", "model")
refused$lavaan_warning <- ""
refused$lavaan_chisq <- NA
refused$lavaan_df <- NA
for (i in seq_len(nrow(refused))) {
  msg <- character(0)
  fit <- withCallingHandlers(sem(refused$model[i], data = data[[refused$dataset[i]]]),
                             warning = function(w) {
                               msg <<- c(msg, conditionMessage(w))
                               invokeRestart("muffleWarning")
                             })
  refused$lavaan_warning[i] <- gsub("\\s+", " ", paste(msg, collapse = " | "))
  refused$lavaan_chisq[i] <- fitMeasures(fit, "chisq")
  refused$lavaan_df[i] <- fitMeasures(fit, "df")
}
wr(refused, "sweep_refused_lavaan.csv")

# models lavaan refuses with an error: its message, for the record (csmlib
# refuses them too)
errors <- data.frame(rbind(
  # a construct named like a column of the data (x1 is in the data, unused)
  c("construct_named_like_a_column", "holzinger", "x1 =~ x2 + x3 + x4")
), stringsAsFactors = FALSE)
names(errors) <- c("case", "dataset", "model")
errors$lavaan_error <- sapply(seq_len(nrow(errors)), function(i) {
  msg <- tryCatch({
    sem(errors$model[i], data = data[[errors$dataset[i]]])
    ""
  }, error = function(e) conditionMessage(e))
  gsub("\\s+", " ", msg)
})
stopifnot(all(errors$lavaan_error != ""))
wr(errors, "sweep_errors_lavaan.csv")

# a just-identified model of ordered items (df 0): lavaan's scaled test has
# no scaling factor (NA) and a scaled chi-square of 0
hs_ord <- data$holzinger[, paste0("x", 1:3)]
for (v in names(hs_ord)) hs_ord[[v]] <- as.integer(cut(hs_ord[[v]], quantile(hs_ord[[v]], 0:4 / 4),
                                                        include.lowest = TRUE))
wr(hs_ord, "sweep_ordinal3_data.csv")
fit <- sem("visual =~ x1 + x2 + x3", data = hs_ord, ordered = TRUE, estimator = "WLSMV")
fm <- fitMeasures(fit, c("chisq", "df", "chisq.scaled", "chisq.scaling.factor", "pvalue.scaled"))
wr(data.frame(measure = names(fm), value = unclass(fm)), "sweep_wlsmv_just_identified_fit.csv")

# se = "robust.huber.white": lavaan's default information is then "observed";
# csmlib's robust=True is the sandwich on the expected information (lavaan
# information = "expected"), and says so in options["se"].  Both SE columns.
hw_model <- hs3
hw_obs <- sem(hw_model, data = data$holzinger, se = "robust.huber.white")
stopifnot(lavInspect(hw_obs, "options")$information[1] == "observed")
hw_exp <- sem(hw_model, data = data$holzinger, se = "robust.huber.white", information = "expected")
hw <- parameterEstimates(hw_obs)[, c("lhs", "op", "rhs", "est")]
hw$se_observed_default <- parameterEstimates(hw_obs)$se
hw$se_expected <- parameterEstimates(hw_exp)$se
wr(hw, "sweep_huber_white_lavaan.csv")

# a just-identified model under MLM and MLR (df 0): lavaan reports the
# chi-square unscaled as chisq.scaled, CFI / TLI (scaled) 1 and the robust
# RMSEA and its interval 0 (csmlib gave NaN)
ji <- list()
for (est in c("MLM", "MLR")) {
  fit <- sem("visual =~ x1 + x2 + x3", data = data$holzinger, estimator = est)
  fm <- fitMeasures(fit, c("chisq", "df", "chisq.scaled", "cfi.scaled", "tli.scaled", "rmsea.robust",
                           "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"))
  ji[[est]] <- data.frame(estimator = est, measure = names(fm), value = unclass(fm))
}
wr(do.call(rbind, ji), "sweep_just_identified_robust_lavaan.csv")

# group.partial naming no parameter (a typo: x99 is no item): lavaan ignores
# it and fits the full metric model; csmlib refuses the entry
typo <- sem(hs3, data = data$holzinger, group = "school", group.equal = "loadings",
            group.partial = "visual =~ x99")
metric <- sem(hs3, data = data$holzinger, group = "school", group.equal = "loadings")
wr(data.frame(model = c("partial_typo", "metric"),
              chisq = c(fitMeasures(typo, "chisq"), fitMeasures(metric, "chisq")),
              df = c(fitMeasures(typo, "df"), fitMeasures(metric, "df"))),
   "sweep_partial_typo_lavaan.csv")

# modification indices of residual covariances between an indicator and an
# observed outcome (x1 ~~ y1 beside y1 ~ ind60): lavaan's modindices() leaves
# them out (y1 is a dummy latent in its LISREL matrices), its score test
# lavTestScore(fit, add = ...) gives them; csmlib lists them with these values
mi_model <- "ind60 =~ x1 + x2 + x3\ny1 ~ ind60\ny5 ~ y1 + ind60"
mi_fit <- sem(mi_model, data = data$political_democracy)
mi_add <- c("x1 ~~ y1", "x2 ~~ y5", "x3 ~~ y1")
mi_score <- sapply(mi_add, function(a) lavTestScore(mi_fit, add = a)$test$X2)
wr(data.frame(model = "observed_outcomes", add = mi_add, score_x2 = unname(mi_score)), "sweep_score_tests_lavaan.csv")
# and modindices() of a MIMIC model with a covariate of fixed.x: no candidate
# covariance involves the covariate (csmlib listed x1 ~~ ageyr, ..., which its
# own syntax now refuses)
mimic <- sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr", data = data$holzinger)
wr(modindices(mimic)[, c("lhs", "op", "rhs", "mi", "epc")], "sweep_mimic_modindices_lavaan.csv")

# standardized residuals of models with covariates of fixed.x (lavaan's
# h1 information has the covariates' rows and columns 0): the MIMIC model
# by ML on the complete data and by FIML on the data with 15% missing
sr_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex"
sr <- list(ml = sem(sr_model, data = data$holzinger),
           fiml = sem(sr_model, data = data$holzinger_mcar15, missing = "ml"))
sr_rows <- list()
for (case in names(sr)) {
  R <- residuals(sr[[case]], type = "standardized")$cov
  idx <- which(lower.tri(R, diag = TRUE), arr.ind = TRUE)
  sr_rows[[case]] <- data.frame(case = case, lhs = colnames(R)[idx[, 2]], rhs = rownames(R)[idx[, 1]],
                                residual = R[idx])
}
wr(do.call(rbind, sr_rows), "sweep_fixed_x_std_residuals_lavaan.csv")

# MLR on a model that is not identified (two two-item constructs, one with
# correlated residuals): lavaan warns that the vcov is not positive definite;
# csmlib reported sandwich SEs without a word
unid <- "visual =~ x1 + x2\ntextual =~ x4 + x5\ntextual ~ visual\nx1 ~~ x2"
unid_msg <- character(0)
invisible(withCallingHandlers(sem(unid, data = data$holzinger, estimator = "MLR"),
                    warning = function(w) {
                      unid_msg <<- c(unid_msg, conditionMessage(w))
                      invokeRestart("muffleWarning")
                    }))
wr(data.frame(model = unid, estimator = "MLR", lavaan_warning = gsub("\\s+", " ", paste(unid_msg, collapse = " | "))),
   "sweep_unidentified_mlr_lavaan.csv")
