# Reference values from lavaan for the adversarial review of the CB-SEM
# engine's changes of the differential sweep (branch revB): the cases where
# the review found csmlib wrong.
#
# Run from the repository root:  Rscript data/references/make_r_references_revB.R
# Needs R with lavaan (made with lavaan 0.6.14).  Data: the bundled
# Holzinger-Swineford and PoliticalDemocracy files and
# data/references/holzinger_mcar15_data.csv (written by make_r_references.R).
# Writes data/references/revB_cases.csv, revB_lavaan_params.csv,
# revB_lavaan_fit.csv, revB_lavaan_r2.csv and revB_just_identified_robust_lavaan.csv; the tests (tests/test_cbsem_revB.py) read only those.
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
data$holzinger_rows_81_105 <- data$holzinger[81:105, ]   # 25 rows: a negative residual variance of speed
hs3 <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"
pd_model <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"
# case, dataset, model, missing, estimator, rescale.  rescale ("y2=1e3;x1=-1"):
# the columns csmlib multiplies before its fit; lavaan fits the data as they
# are.  ML is equivariant under a change of units: chi-square, fit indices,
# std.all and the z values (est / se) of the free parameters do not change.
# (lavaan itself does not fit the rescaled data: it warns that the variances
# differ by more than 1000 and, on pd_negative_marker_1e3, stops at another
# point, chi-square 106.9 for 38.1.)
cases <- data.frame(rbind(
  # an item in other units (a spend in currency beside a 1-10 scale): csmlib
  # took the information matrix for singular (its condition number is not
  # scale-free) and reported no standard errors, "the model is not identified"
  c("pd_item_1e3", "political_democracy", pd_model, "listwise", "ML", "y2=1e3"),
  c("pd_item_1e4_mlr", "political_democracy", pd_model, "listwise", "MLR", "y2=1e4"),
  c("pd_negative_marker_1e3", "political_democracy", pd_model, "listwise", "ML", "x1=-1;y1=-1e3"),
  c("hs_fiml_item_1e4", "holzinger_mcar15", hs3, "ml", "ML", "x5=1e4"),
  c("hs_item_1e5_negative_marker", "holzinger", hs3, "listwise", "ML", "x1=-1;x2=1e5"),
  # items in units 1e-6 to 1e8 apart: the convergence tests (a step below
  # 1e-10 * max(1, |theta|), a gradient element below 1e-3) and the
  # difference steps of the observed information and of the delta method
  # (1e-6 * max(1, |theta|)) were absolute for parameters below 1, so a
  # residual variance of 1e-12 never "converged" (the estimates were right
  # and reported as not trustworthy) and FIML's observed information of an
  # item divided by 1000 had wrong and NaN standard errors
  c("hs_items_1e-6_to_1e8", "holzinger", hs3, "listwise", "ML", "x1=1e-6;x5=1e6;x9=1e8"),
  c("hs_fiml_items_1e3", "holzinger_mcar15", hs3, "ml", "ML", "x2=1e3;x8=1e-3"),
  c("hs_fiml_markers_1e6", "holzinger_mcar15", hs3, "ml", "ML", "x1=1e6;x4=1e-6;x7=1e-4"),
  c("hs_defined_item_1e-6", "holzinger",
    "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nr := a/b\nab := a*b", "listwise", "ML", "x3=1e-6"),
  c("pd_mediation_item_1e-5", "political_democracy",
    "ind60 =~ x1 + x2 + x3\ny1 ~ a*ind60\ny5 ~ b*y1 + c*ind60\nab := a*b\ntot := c + a*b", "listwise", "ML",
    "y1=1e-5"),
  c("hs_metric_markers_1e6", "holzinger", hs3, "listwise", "ML", "x1=1e6;x4=1e-6;x7=1e-4"),
  # an indicator that is also the outcome of a structural ~ (a covariate's
  # direct effect on an item, as in a MIMIC test of differential item
  # functioning; an item regressed on another construct): its R-squared was
  # missing from r2 and the regression from effects (csmlib kept only the
  # ~ among constructs and observed variables that are no indicators)
  c("mimic_direct_effect", "holzinger", "visual =~ x1 + x2 + x3\nvisual ~ ageyr\nx3 ~ ageyr", "listwise",
    "ML", ""),
  c("indicator_outcome", "political_democracy",
    "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ny1 ~ ind60\ndem60 ~ ind60", "listwise", "ML", ""),
  # a negative residual variance of an endogenous construct (rows 81-105):
  # lavaan's R-squared is NA there, csmlib reported 5.47
  c("heywood_r2", "holzinger_rows_81_105",
    paste0(hs3, "\nspeed ~ b*visual\ntextual ~ visual\nvisual ~~ v*visual\nr := b*b*v"), "listwise", "ML", "")
), stringsAsFactors = FALSE)
names(cases) <- c("case", "dataset", "model", "missing", "estimator", "rescale")
# two groups (school) with the loadings held equal, for the last case only
cases$group <- ifelse(cases$case == "hs_metric_markers_1e6", "school", "")
cases$group_equal <- ifelse(cases$case == "hs_metric_markers_1e6", "loadings", "")

fit_cols <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr", "baseline.chisq", "baseline.df", "ntotal",
              "chisq.scaled", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea.scaled", "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")
params <- list()
fits <- list()
r2s <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  fit <- sem(cs$model, data = data[[cs$dataset]], missing = cs$missing, estimator = cs$estimator,
             group = if (cs$group == "") NULL else cs$group,
             group.equal = if (cs$group_equal == "") "" else strsplit(cs$group_equal, ",")[[1]])
  stopifnot(lavInspect(fit, "converged"))
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"label" %in% names(p)) p$label <- ""
  if (!"group" %in% names(p)) p$group <- 1L
  p$group[p$op == ":="] <- 0L
  params[[i]] <- data.frame(case = cs$case, p[, c("lhs", "op", "rhs", "group", "label", "est", "se", "z",
                                                  "std.all")])
  fm <- fitMeasures(fit)
  fm <- fm[intersect(fit_cols, names(fm))]
  fits[[i]] <- data.frame(case = cs$case, measure = names(fm), value = unclass(fm))
  r2 <- lavInspect(fit, "r2")
  if (!is.list(r2)) r2 <- list(r2)
  r2s[[i]] <- do.call(rbind, lapply(seq_along(r2), function(g)
    data.frame(case = cs$case, group = g, variable = names(r2[[g]]), r2 = unname(r2[[g]]))))
}
wr(cases, "revB_cases.csv")
wr(do.call(rbind, params), "revB_lavaan_params.csv")
wr(do.call(rbind, fits), "revB_lavaan_fit.csv")
wr(do.call(rbind, r2s), "revB_lavaan_r2.csv")

# a just-identified model (df 0) under MLM / MLR, complete data, FIML and two
# groups: lavaan has no scaled RMSEA (NA; csmlib reported 0) and, with FIML,
# a robust CFI and TLI of 1 (csmlib NaN); every other measure as the sweep's
# sweep_just_identified_robust_lavaan.csv
ji_measures <- c("chisq", "df", "chisq.scaled", "cfi", "cfi.scaled", "cfi.robust", "tli", "tli.scaled",
                 "tli.robust", "rmsea", "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
                 "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")
ji_cases <- list(c("MLR", "listwise", ""), c("MLM", "listwise", ""), c("MLR", "ml", ""), c("MLR", "listwise", "school"))
ji <- list()
for (a in ji_cases) {
  fit <- suppressWarnings(sem("visual =~ x1 + x2 + x3",
                              data = if (a[2] == "ml") data$holzinger_mcar15 else data$holzinger,
                              estimator = a[1], missing = a[2], group = if (a[3] == "") NULL else a[3]))
  fm <- fitMeasures(fit, ji_measures)
  ji[[length(ji) + 1]] <- data.frame(estimator = a[1], missing = a[2], group = a[3], measure = names(fm),
                                     value = unclass(fm))
}
wr(do.call(rbind, ji), "revB_just_identified_robust_lavaan.csv")

# modification indices of a MIMIC model with two covariates of fixed.x: no
# regression of one covariate on the other (csmlib listed ageyr ~ sex and
# sex ~ ageyr, with indices of 0: a covariate of fixed.x is no outcome)
mimic2 <- sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex", data = data$holzinger)
wr(modindices(mimic2)[, c("lhs", "op", "rhs", "mi", "epc")], "revB_mimic2_modindices_lavaan.csv")
