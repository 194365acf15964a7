# Reference estimates from R (lavaan, semTools, psych, boot) for csmlib's tests.
#
# Run from the repository root:  Rscript data/references/make_r_references.R
# Needs R with lavaan, semTools, psych and boot (Debian: apt-get install
# r-base-core r-cran-lavaan r-cran-semtools r-cran-psych r-cran-boot).  The tests only read the CSV
# files this writes; R is not needed to run them.  Every fit uses lavaan's
# defaults unless the line says otherwise.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(psych)
  library(boot)
})

out <- "data/references"
wr <- function(x, name) {
  write.csv(x, file.path(out, name), row.names = FALSE, na = "")
  cat("wrote", name, "\n")
}
versions <- function() {
  sprintf("R %s, lavaan %s, semTools %s, psych %s, boot %s", getRversion(),
          packageVersion("lavaan"), packageVersion("semTools"), packageVersion("psych"),
          packageVersion("boot"))
}
fit_cols <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df")
params <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"label" %in% names(p)) p$label <- ""
  p[, c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")]
}

# ---------------------------------------------------------------------------
# 1. Measurement invariance ladders (cfa with group.equal) and lavTestLRT
# ---------------------------------------------------------------------------
ladder <- function(model, data, group) {
  fits <- list(
    configural = cfa(model, data = data, group = group),
    metric = cfa(model, data = data, group = group, group.equal = "loadings"),
    scalar = cfa(model, data = data, group = group, group.equal = c("loadings", "intercepts"))
  )
  rows <- lapply(names(fits), function(s) {
    fm <- fitMeasures(fits[[s]], c("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                    "rmsea.ci.lower", "rmsea.ci.upper"))
    data.frame(step = s, t(unclass(fm)), check.names = FALSE)
  })
  tab <- do.call(rbind, rows)
  lrt <- lavTestLRT(fits$configural, fits$metric, fits$scalar)
  tab$delta_chisq <- c(NA, lrt[["Chisq diff"]][2:3])
  tab$delta_df <- c(NA, lrt[["Df diff"]][2:3])
  tab$delta_pvalue <- c(NA, lrt[["Pr(>Chisq)"]][2:3])
  tab
}

hs <- read.csv("data/holzinger_swineford1939/holzinger_swineford1939.csv")
hs_model <- "visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9"
wr(ladder(hs_model, hs, "school"), "holzinger_invariance_lavaan.csv")
# partial scalar invariance: the intercepts of x3 and x7 free (the tutorial's example)
fm <- fitMeasures(cfa(hs_model, data = hs, group = "school",
                      group.equal = c("loadings", "intercepts"),
                      group.partial = c("x3 ~ 1", "x7 ~ 1")), c("chisq", "df", "cfi", "rmsea"))
wr(data.frame(measure = names(fm), value = unclass(fm)), "holzinger_partial_lavaan.csv")

sat <- read.csv("data/satisfaction/satisfaction.csv")
sat_cfa <- "IMAG =~ imag1 + imag2 + imag3 + imag4 + imag5
            EXPE =~ expe1 + expe2 + expe3 + expe4 + expe5
            QUAL =~ qual1 + qual2 + qual3 + qual4 + qual5
            VAL =~ val1 + val2 + val3 + val4
            SAT =~ sat1 + sat2 + sat3 + sat4
            LOY =~ loy1 + loy2 + loy3 + loy4"
wr(ladder(sat_cfa, sat, "gender"), "satisfaction_invariance_lavaan.csv")

# ---------------------------------------------------------------------------
# 2. The plspm satisfaction model as a CB-SEM, with every indirect and total
#    effect as a defined parameter (delta-method SEs), model-based and robust
# ---------------------------------------------------------------------------
sat_sem <- paste(readLines("data/references/satisfaction_sem.lav"), collapse = "\n")
f_sem <- sem(sat_sem, data = sat)
p <- params(f_sem)
p$se_robust <- parameterEstimates(
  sem(sat_sem, data = sat, se = "robust.huber.white", information = "expected"))$se
wr(p, "satisfaction_sem_lavaan_params.csv")
fm <- fitMeasures(f_sem, fit_cols)
wr(data.frame(measure = names(fm), value = unclass(fm)), "satisfaction_sem_lavaan_fit.csv")

# robust (Huber-White, expected information) SEs of the political democracy model
pd <- read.csv("data/political_democracy/political_democracy.csv")
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
rob <- parameterEstimates(sem(pd_model, data = pd, se = "robust.huber.white",
                              information = "expected"))
rob <- rob[rob$op != "~1", c("lhs", "op", "rhs", "est", "se")]
wr(rob, "political_democracy_robust_lavaan.csv")

# The ACSI model of the demo study (csm.models.acsi()) on the demo's first
# wave as csm.read_survey cleans it (missing codes -> NA; written out by the
# tests' author, see the README), listwise and FIML.  Complaints is the single
# item CUSCO: its residual variance is fixed to 0.
demo <- read.csv("data/references/demo_wave1_acsi_items.csv")
acsi_model <- "Expectation =~ CUEX1 + CUEX2 + CUEX3
               Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
               Value =~ PERV1 + PERV2
               Satisfaction =~ CUSA1 + CUSA2 + CUSA3
               Complaints =~ CUSCO
               Loyalty =~ CUSL1 + CUSL2 + CUSL3
               CUSCO ~~ 0*CUSCO
               Quality ~ Expectation
               Value ~ Expectation + Quality
               Satisfaction ~ Expectation + Quality + Value
               Complaints ~ Satisfaction
               Loyalty ~ Satisfaction + Complaints"
for (m in c("listwise", "ml")) {
  f <- sem(acsi_model, data = demo, missing = m)
  p <- params(f)
  wr(p[p$op != "~1", ], sprintf("demo_acsi_%s_lavaan_params.csv", m))
  fm <- fitMeasures(f, fit_cols)
  wr(data.frame(measure = names(fm), value = unclass(fm)), sprintf("demo_acsi_%s_lavaan_fit.csv", m))
}

# ---------------------------------------------------------------------------
# 3. Full-information ML: Holzinger-Swineford with values deleted by a fixed,
#    documented rule (written out, so the tests read the same data)
# ---------------------------------------------------------------------------
hsm <- hs[, c("id", paste0("x", 1:9))]
hsm$x1[hsm$id %% 7 == 0] <- NA
hsm$x5[hsm$id %% 5 == 0] <- NA
hsm$x9[hsm$id %% 11 == 0 | hsm$x4 > 4] <- NA   # depends on an observed item: MAR
hsm$x2[hsm$id %% 13 == 0] <- NA
wr(hsm, "holzinger_missing_data.csv")
f_fiml <- cfa(hs_model, data = hsm, missing = "ml")
p <- params(f_fiml)
p$se_expected <- parameterEstimates(cfa(hs_model, data = hsm, missing = "ml",
                                        information = "expected"))$se
wr(p, "holzinger_fiml_lavaan_params.csv")
fm <- fitMeasures(f_fiml, fit_cols)
wr(data.frame(measure = names(fm), value = unclass(fm)), "holzinger_fiml_lavaan_fit.csv")

# FIML on complete data (political democracy): a mean structure, observed
# information, and means among the SRMR residuals
f_pdm <- sem(pd_model, data = pd, missing = "ml")
p <- params(f_pdm)
wr(p[p$op != "~1", ], "political_democracy_fiml_lavaan_params.csv")
fm <- fitMeasures(f_pdm, fit_cols)
wr(data.frame(measure = names(fm), value = unclass(fm)), "political_democracy_fiml_lavaan_fit.csv")

# ---------------------------------------------------------------------------
# 4. Measurement quality on the satisfaction items: Cronbach's alpha (psych),
#    HTMT (semTools; htmt2 = FALSE: arithmetic means of the absolute item
#    correlations, Henseler et al. 2015; htmt2 = TRUE: geometric means, HTMT2)
# ---------------------------------------------------------------------------
blocks <- list(IMAG = paste0("imag", 1:5), EXPE = paste0("expe", 1:5),
               QUAL = paste0("qual", 1:5), VAL = paste0("val", 1:4),
               SAT = paste0("sat", 1:4), LOY = paste0("loy", 1:4))
alpha_tab <- data.frame(construct = names(blocks), alpha = sapply(blocks, function(b)
  psych::alpha(sat[, b], warnings = FALSE)$total$raw_alpha),
  alpha_std = sapply(blocks, function(b) psych::alpha(sat[, b], warnings = FALSE)$total$std.alpha))
wr(alpha_tab, "satisfaction_alpha_psych.csv")
long <- function(h, method) {
  idx <- which(lower.tri(h), arr.ind = TRUE)
  data.frame(method = method, construct = rownames(h)[idx[, 1]],
             other = colnames(h)[idx[, 2]], htmt = unclass(h)[idx])
}
wr(rbind(long(htmt(sat_cfa, data = sat, htmt2 = FALSE), "arithmetic"),
         long(htmt(sat_cfa, data = sat, htmt2 = TRUE), "geometric")),
   "satisfaction_htmt_semtools.csv")

# ---------------------------------------------------------------------------
# 5. Bootstrap intervals (boot 1.3): percentile and BCa of a skewed statistic
#    (the variance of the satisfaction item sat1), with the draws and the
#    jackknife written out so the tests compute their intervals from the same
#    numbers.  BCa's acceleration from the jackknife influence values.
# ---------------------------------------------------------------------------
set.seed(20261123)
x <- sat$sat1
b <- boot(x, function(d, i) var(d[i]), R = 4000)
jack <- sapply(seq_along(x), function(i) var(x[-i]))
L <- (length(x) - 1) * (mean(jack) - jack)
ci <- boot.ci(b, conf = c(0.90, 0.95), type = c("perc", "bca"), L = L)
wr(data.frame(draw = as.vector(b$t)), "boot_sat1_variance_draws.csv")
wr(data.frame(jackknife = jack), "boot_sat1_variance_jackknife.csv")
wr(data.frame(t0 = b$t0, level = ci$bca[, 1],
              perc_lower = ci$percent[, 4], perc_upper = ci$percent[, 5],
              bca_lower = ci$bca[, 4], bca_upper = ci$bca[, 5]),
   "boot_sat1_variance_intervals.csv")

cat(versions(), "\n")

# ===========================================================================
# 6. The CB-SEM engine (issue 12, part A): one parameter table read as
#    lavaan reads it.  Self-contained: its own helpers (prefix eng_), its own
#    data; writes engine_cases.csv (the cases: dataset, model, options; the
#    tests read the cases from it), engine_cases_lavaan_params.csv,
#    engine_cases_lavaan_fit.csv, engine_refused_lavaan.csv and
#    holzinger_mcar15_data.csv.  Every fit uses lavaan's defaults (sem()).
# ===========================================================================
eng_out <- "data/references"
eng_wr <- function(x, name) {
  write.csv(x, file.path(eng_out, name), row.names = FALSE, na = "")
  cat("wrote", name, "\n")
}
eng_hs <- read.csv("data/holzinger_swineford1939/holzinger_swineford1939.csv")
eng_pd <- read.csv("data/political_democracy/political_democracy.csv")
eng_sat <- read.csv("data/satisfaction/satisfaction.csv")
# Holzinger-Swineford items with 15% of the answers deleted completely at
# random (seeded), written out so that the tests read the same data
set.seed(20261130)
eng_hsm <- eng_hs[, c("id", "school", "ageyr", "sex", paste0("x", 1:9))]
for (v in paste0("x", 1:9)) eng_hsm[[v]][runif(nrow(eng_hsm)) < 0.15] <- NA
eng_wr(eng_hsm, "holzinger_mcar15_data.csv")
eng_data <- list(holzinger = eng_hs, political_democracy = eng_pd, satisfaction = eng_sat,
                 holzinger_mcar15 = eng_hsm)
eng_hs3 <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"
eng_blocks <- list(Image = "imag", Expectation = "expe", Quality = "qual", Value = "val",
                   Satisfaction = "sat", Loyalty = "loy")
eng_sat_cfa <- paste(sapply(names(eng_blocks), function(f) {
  items <- grep(paste0("^", eng_blocks[[f]], "[0-9]$"), names(eng_sat), value = TRUE)
  paste(f, "=~", paste(items, collapse = " + "))
}), collapse = "\n")
# case, dataset, model, group, group_equal and group_partial (";"-separated), missing
eng_cases <- data.frame(rbind(
  c("fixed_second_loading", "holzinger",
    "visual =~ x1 + 0.5*x2 + x3\ntextual =~ x4 + x5 + x6", "", "", "", "listwise"),
  c("labels_and_zero_covariance", "holzinger",
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + a*x5 + a*x6\nspeed =~ x7 + x8 + x9\nvisual ~~ 0*speed",
    "", "", "", "listwise"),
  c("mimic_fixed_x", "holzinger",
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\ntextual ~ ageyr",
    "", "", "", "listwise"),
  c("observed_regressions", "political_democracy",
    "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60\ny5 ~ y1 + x1\ny6 ~ dem60",
    "", "", "", "listwise"),
  c("second_order", "holzinger", paste0(eng_hs3, "\ng =~ visual + textual + speed"),
    "", "", "", "listwise"),
  c("chained_defined", "political_democracy",
    "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem65 =~ y5 + y6 + y7 + y8\ndem60 ~ a*ind60\ndem65 ~ c*ind60 + b*dem60\nind := a*b\ntotal := c + ind\nshare := ind/total",
    "", "", "", "listwise"),
  c("equality_constraint", "holzinger",
    "visual =~ x1 + l2*x2 + l3*x3\ntextual =~ x4 + x5 + x6\nl2 == l3", "", "", "", "listwise"),
  c("group_labels", "holzinger",
    "visual =~ x1 + c(v2a, v2b)*x2 + c(v3, v3)*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + c(0.8, NA)*x8 + x9",
    "school", "", "", "listwise"),
  c("strict", "holzinger", eng_hs3, "school", "loadings;intercepts;residuals", "", "listwise"),
  c("regressions_lv_variances", "holzinger", paste0(eng_hs3, "\nspeed ~ visual + textual"),
    "school", "loadings;regressions;lv.variances", "", "listwise"),
  c("partial_strict", "holzinger", eng_hs3, "school", "loadings;intercepts;residuals",
    "x3 ~ 1;x3 ~~ x3;visual =~ x2", "listwise"),
  c("satisfaction_strict", "satisfaction", eng_sat_cfa, "gender", "loadings;intercepts;residuals",
    "", "listwise"),
  c("fiml_zero_factor_covariances", "holzinger_mcar15",
    paste0(eng_hs3, "\nvisual ~~ 0*textual\nvisual ~~ 0*speed\ntextual ~~ 0*speed"), "", "", "", "ml"),
  c("fiml_multigroup_metric", "holzinger_mcar15", eng_hs3, "school", "loadings", "", "ml"),
  c("fiml_mimic_fixed_x", "holzinger_mcar15",
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex", "", "", "", "ml")
), stringsAsFactors = FALSE)
names(eng_cases) <- c("case", "dataset", "model", "group", "group_equal", "group_partial", "missing")
eng_wr(eng_cases, "engine_cases.csv")
eng_split <- function(x) if (is.na(x) || x == "") character(0) else strsplit(x, ";")[[1]]
eng_fit_cols <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
                  "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df")
eng_params <- list()
eng_fits <- list()
for (i in seq_len(nrow(eng_cases))) {
  cs <- eng_cases[i, ]
  args <- list(model = cs$model, data = eng_data[[cs$dataset]], missing = cs$missing)
  if (cs$group != "") {
    args$group <- cs$group
    if (cs$group_equal != "") args$group.equal <- eng_split(cs$group_equal)
    if (cs$group_partial != "") args$group.partial <- eng_split(cs$group_partial)
  }
  fit <- do.call("sem", args)
  stopifnot(lavInspect(fit, "converged"))
  p <- parameterEstimates(fit, standardized = TRUE)
  if (!"group" %in% names(p)) p$group <- 1L
  if (!"label" %in% names(p)) p$label <- ""
  p <- p[, c("lhs", "op", "rhs", "group", "label", "est", "se", "std.all")]
  p$group[p$op %in% c(":=", "==")] <- 0L
  eng_params[[i]] <- data.frame(case = cs$case, p)
  fm <- fitMeasures(fit, eng_fit_cols)
  eng_fits[[i]] <- data.frame(case = cs$case, measure = names(fm), value = unclass(fm))
}
eng_wr(do.call(rbind, eng_params), "engine_cases_lavaan_params.csv")
eng_wr(do.call(rbind, eng_fits), "engine_cases_lavaan_fit.csv")
# models lavaan refuses: the error message, for the record
eng_refused <- data.frame(rbind(
  c("c_wrong_length", "holzinger", "visual =~ x1 + c(a, b, c)*x2 + x3", "school"),
  c("unknown_variable", "holzinger", "visual =~ x1 + x2 + nosuchitem", "")
), stringsAsFactors = FALSE)
names(eng_refused) <- c("case", "dataset", "model", "group")
eng_refused$lavaan_error <- sapply(seq_len(nrow(eng_refused)), function(i) {
  cs <- eng_refused[i, ]
  args <- list(model = cs$model, data = eng_data[[cs$dataset]])
  if (cs$group != "") args$group <- cs$group
  msg <- tryCatch({ do.call("sem", args); "" }, error = function(e) conditionMessage(e))
  stopifnot(msg != "")
  gsub("\\s+", " ", msg)
})
eng_wr(eng_refused, "engine_refused_lavaan.csv")
cat(sprintf("engine section: R %s, lavaan %s\n", getRversion(), packageVersion("lavaan")))
# a model lavaan fits with warnings: two factors sharing indicators on pure
# noise (engine_unidentified_data.csv: 60 rows of numpy's
# default_rng(1).normal, written by csmlib's test author); df = -1
eng_noise <- read.csv(file.path(eng_out, "engine_unidentified_data.csv"))
eng_warn <- character(0)
eng_nfit <- withCallingHandlers(sem("F =~ a + b + c + d\nG =~ a + b", data = eng_noise),
  warning = function(w) {
    eng_warn <<- c(eng_warn, gsub("\\s+", " ", conditionMessage(w)))
    invokeRestart("muffleWarning")
  })
eng_wr(data.frame(converged = lavInspect(eng_nfit, "converged"),
                  logl = unclass(fitMeasures(eng_nfit, "logl")),
                  df = unclass(fitMeasures(eng_nfit, "df")),
                  warnings = paste(eng_warn, collapse = " | ")),
       "engine_warned_lavaan.csv")

# ===========================================================================
# 7. Robust estimators, survey weights and diagnostics (issue 12, part B).
#    Uses the data and model texts of sections 1-3 (hs, pd, demo and their
#    models) and writes files named robust_*.
#    MLM: Satorra-Bentler (expected information, robust.sem SEs);
#    MLR: Huber-White SEs from the observed information and the
#    Yuan-Bentler (Mplus variant) scaled test, complete data and
#    missing = "ml"; sampling.weights: lavaan's weighted ML, which lavaan
#    runs with MLR's robust SEs and scaled test.
# ===========================================================================
suppressPackageStartupMessages(library(lavaan))
rob_out <- "data/references"
rob_wr <- function(x, name) {
  write.csv(x, file.path(rob_out, name), row.names = FALSE, na = "")
  cat("wrote", name, "\n")
}
rob_fit_names <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
                   "chisq.scaling.factor", "baseline.chisq", "baseline.df",
                   "baseline.chisq.scaled", "baseline.df.scaled",
                   "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled",
                   "tli.scaled", "cfi.robust", "tli.robust", "rmsea", "rmsea.ci.lower",
                   "rmsea.ci.upper", "rmsea.scaled", "rmsea.ci.lower.scaled",
                   "rmsea.ci.upper.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
                   "rmsea.ci.upper.robust", "srmr", "logl", "aic", "bic")
# the data and models of sections 1-3 (one copy of each model text)
rob_hs <- hs
rob_hs_model <- hs_model
rob_pd <- pd
rob_pd_model <- pd_model
rob_demo <- demo
rob_acsi_model <- acsi_model
rob_hsm <- read.csv("data/references/holzinger_missing_data.csv")
# survey weights made by a fixed rule (Pasteur pupils weigh twice as much,
# times 1, 1.25, ..., 2 by id modulo 5), written out so the tests read them
rob_hsw <- rob_hs[, c("id", "school", paste0("x", 1:9))]
rob_hsw$w <- ifelse(rob_hsw$school == "Pasteur", 1.5, 0.75) * (1 + (rob_hsw$id %% 5) / 4)
rob_wr(rob_hsw, "robust_holzinger_weighted_data.csv")

rob_cases <- list(
  hs_mlm = function() cfa(rob_hs_model, data = rob_hs, estimator = "MLM"),
  hs_mlr = function() cfa(rob_hs_model, data = rob_hs, estimator = "MLR"),
  hs_weighted = function() cfa(rob_hs_model, data = rob_hsw, sampling.weights = "w"),
  pd_mlm = function() sem(rob_pd_model, data = rob_pd, estimator = "MLM"),
  pd_mlr = function() sem(rob_pd_model, data = rob_pd, estimator = "MLR"),
  demo_mlr = function() sem(rob_acsi_model, data = rob_demo, estimator = "MLR"),
  demo_mlr_fiml = function() sem(rob_acsi_model, data = rob_demo, estimator = "MLR", missing = "ml"),
  hs_mlr_fiml = function() cfa(rob_hs_model, data = rob_hsm, estimator = "MLR", missing = "ml"),
  # the weights of robust_holzinger_weighted_data.csv on the incomplete data (same rows, same order)
  hs_weighted_fiml = function() cfa(rob_hs_model, data = cbind(rob_hsm, w = rob_hsw$w),
                                    sampling.weights = "w", missing = "ml"),
  # the same, listwise: the weights of the 143 complete rows rescaled to sum to 143
  hs_weighted_listwise = function() cfa(rob_hs_model, data = cbind(rob_hsm, w = rob_hsw$w),
                                        sampling.weights = "w", missing = "listwise")
)
# fit every case; its estimates (the columns select() keeps) and fit measures
rob_run <- function(cases, select, params_file, fit_file) {
  fitted <- list()
  params <- list()
  fits <- list()
  for (case in names(cases)) {
    f <- cases[[case]]()
    stopifnot(lavInspect(f, "converged"))
    fitted[[case]] <- f
    params[[case]] <- data.frame(case = case, select(parameterEstimates(f)))
    fm <- fitMeasures(f, rob_fit_names)
    fits[[case]] <- data.frame(case = case, measure = names(fm), value = unclass(fm))
  }
  rob_wr(do.call(rbind, params), params_file)
  rob_wr(do.call(rbind, fits), fit_file)
  fitted
}
rob_fitted <- rob_run(rob_cases, function(p) p[p$op != "~1", c("lhs", "op", "rhs", "est", "se")],
                      "robust_lavaan_params.csv", "robust_lavaan_fit.csv")

# modification indices (modindices() defaults: expected information, every
# candidate lavaan considers) and residuals of ML fits and of one MLR fit
rob_ml <- list(
  hs_ml = cfa(rob_hs_model, data = rob_hs),
  pd_ml = sem(rob_pd_model, data = rob_pd),
  demo_ml = sem(rob_acsi_model, data = rob_demo),
  hs_mlr = rob_fitted$hs_mlr,
  hs_weighted = rob_fitted$hs_weighted,
  hs_fiml = cfa(rob_hs_model, data = rob_hsm, missing = "ml"),
  hs_mlr_fiml = rob_fitted$hs_mlr_fiml
)
rob_mi <- list()
rob_res <- list()
for (case in names(rob_ml)) {
  f <- rob_ml[[case]]
  mi <- modindices(f)
  rob_mi[[case]] <- data.frame(case = case, mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")])
  for (type in c("raw", "cor.bollen", "cor.bentler", "standardized")) {
    r <- residuals(f, type = type)
    m <- r$cov
    idx <- which(lower.tri(m, diag = TRUE), arr.ind = TRUE)
    rob_res[[paste(case, type)]] <- data.frame(case = case, type = type,
      lhs = colnames(m)[idx[, 2]], op = "~~", rhs = rownames(m)[idx[, 1]], residual = m[idx])
    if (!is.null(r$mean)) {  # a mean structure (FIML): the mean residuals too
      rob_res[[paste(case, type, "mean")]] <- data.frame(case = case, type = type,
        lhs = names(r$mean), op = "~1", rhs = "", residual = unname(r$mean))
    }
  }
}
rob_wr(do.call(rbind, rob_mi), "robust_lavaan_modindices.csv")
rob_wr(do.call(rbind, rob_res), "robust_lavaan_residuals.csv")
# multi-group robust fits: the three-factor CFA by school, MLM and MLR,
# free and with equal loadings, and MLR with FIML (lavaan sums the
# per-group pieces: Gamma, Delta and the h1 informations of each group,
# weighted by its share n_g / N of the cases)
rob_hsm15 <- read.csv(file.path(rob_out, "holzinger_mcar15_data.csv"))
rob_group_cases <- list(
  hs_mlm_school = function() cfa(rob_hs_model, data = rob_hs, group = "school", estimator = "MLM"),
  hs_mlr_school_metric = function() cfa(rob_hs_model, data = rob_hs, group = "school",
                                        group.equal = "loadings", estimator = "MLR"),
  # FIML on section 6's Holzinger-Swineford with 15% of the answers missing
  hs_mlr_fiml_school = function() cfa(rob_hs_model, data = rob_hsm15, group = "school",
                                      missing = "ml", estimator = "MLR"),
  # survey weights (robust_holzinger_weighted_data.csv), rescaled over all
  # groups (lavaan's default sampling.weights.normalization = "total")
  hs_weighted_school = function() cfa(rob_hs_model, data = rob_hsw, group = "school",
                                      sampling.weights = "w")
)
rob_gfitted <- rob_run(rob_group_cases,
                       function(p) p[p$op != "==", c("lhs", "op", "rhs", "group", "est", "se")],
                       "robust_group_lavaan_params.csv", "robust_group_lavaan_fit.csv")
# lavaan's EM estimates of the unrestricted moments of the multi-group FIML
# fit (its stopping point, for the test that evaluates csmlib there)
rob_h1 <- lavTech(rob_gfitted$hs_mlr_fiml_school, "h1", add.labels = TRUE)
rob_wr(do.call(rbind, lapply(seq_along(rob_h1), function(g) {
  S <- rob_h1[[g]]$cov
  idx <- which(lower.tri(S, diag = TRUE), arr.ind = TRUE)
  rbind(data.frame(group = g, op = "~1", lhs = names(rob_h1[[g]]$mean), rhs = "",
                   value = unname(rob_h1[[g]]$mean)),
        data.frame(group = g, op = "~~", lhs = colnames(S)[idx[, 2]], rhs = rownames(S)[idx[, 1]],
                   value = S[idx]))
})), "robust_group_lavaan_h1.csv")
# modification indices and residuals of multi-group fits (per group, as lavaan)
rob_gdiag <- list(hs_ml_school_metric = cfa(rob_hs_model, data = rob_hs, group = "school",
                                            group.equal = "loadings"),
                  hs_mlr_school_metric = rob_gfitted$hs_mlr_school_metric)
rob_gmi <- list()
rob_gres <- list()
for (case in names(rob_gdiag)) {
  f <- rob_gdiag[[case]]
  mi <- modindices(f)
  rob_gmi[[case]] <- data.frame(case = case,
                                mi[, c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all")])
  for (type in c("raw", "cor.bollen", "cor.bentler", "standardized")) {
    r <- residuals(f, type = type)
    for (g in seq_along(r)) {   # one element per group, in lavaan's group order
      m <- r[[g]]$cov
      idx <- which(lower.tri(m, diag = TRUE), arr.ind = TRUE)
      rob_gres[[paste(case, type, g)]] <- data.frame(case = case, type = type, group = g,
        lhs = colnames(m)[idx[, 2]], op = "~~", rhs = rownames(m)[idx[, 1]], residual = m[idx])
      rob_gres[[paste(case, type, g, "mean")]] <- data.frame(case = case, type = type, group = g,
        lhs = names(r[[g]]$mean), op = "~1", rhs = "", residual = unname(r[[g]]$mean))
    }
  }
}
rob_wr(do.call(rbind, rob_gmi), "robust_group_lavaan_modindices.csv")
rob_wr(do.call(rbind, rob_gres), "robust_group_lavaan_residuals.csv")
cat("robust section:", sprintf("R %s, lavaan %s", getRversion(), packageVersion("lavaan")), "\n")
