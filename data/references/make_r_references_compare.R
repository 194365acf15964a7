# Reference model comparisons from lavaan (lavTestLRT) for csmlib.analysis.compare.
#
# Run from the repository root:  Rscript data/references/make_r_references_compare.R
# Needs R with lavaan (Debian: r-cran-lavaan).  Writes compare_lavaan_lrt.csv: for
# every case (a set of nested models fitted to the same data under one estimator)
# one row per model in lavTestLRT's order (ascending df) with the model's fit
# measures and lavTestLRT's difference test against the previous row
# (lavaan's default method: the plain chi-square difference under ML, the
# Satorra-Bentler (2001) scaled difference under MLM and MLR).
suppressPackageStartupMessages(library(lavaan))
cat(sprintf("R %s, lavaan %s\n", getRversion(), packageVersion("lavaan")))
out <- "data/references"

hs <- read.csv("data/holzinger_swineford1939/holzinger_swineford1939.csv")
pd <- read.csv("data/political_democracy/political_democracy.csv")
hsm <- read.csv("data/references/holzinger_missing_data.csv")

# the models: data/references/compare_*.lav (the tests read the same files)
lav <- function(name) paste(readLines(file.path(out, paste0("compare_", name, ".lav"))), collapse = "\n")
hs_free <- lav("hs_free")          # three-factor CFA
hs_equal <- lav("hs_equal")        # textual's three loadings equal (a label)
hs_equal_orth <- lav("hs_equal_orth")   # and visual ~~ 0*speed
pd_model <- lav("pd_full")         # Bollen's political democracy model
pd_fixed <- lav("pd_fixed")        # the same with dem65 ~ 0*ind60

cases <- list(
  # three nested CFAs: free, equal loadings, equal loadings and one covariance fixed
  hs_labels = list(models = list(free = hs_free, equal = hs_equal, equal_orth = hs_equal_orth),
                   fit = function(m, est) cfa(m, data = hs, estimator = est)),
  # a structural model and the same model with a fixed (zero) path
  pd_fixed_path = list(models = list(full = pd_model, fixed = pd_fixed),
                       fit = function(m, est) sem(m, data = pd, estimator = est)),
  # two groups (school): loadings free vs loadings equal across groups
  hs_groups = list(models = list(configural = hs_free, metric = hs_free),
                   fit = function(m, est, name) cfa(m, data = hs, group = "school", estimator = est,
                                                    group.equal = if (name == "metric") "loadings" else "")),
  # incomplete data by FIML (lavaan missing = "ml"), free vs equal loadings
  hs_fiml = list(models = list(free = hs_free, equal = hs_equal),
                 fit = function(m, est) cfa(m, data = hsm, estimator = est, missing = "ml"))
)
estimators <- c("ML", "MLM", "MLR")
fm_names <- c("chisq", "df", "pvalue", "aic", "bic", "cfi", "tli", "rmsea", "srmr", "npar", "ntotal")
rows <- list()
for (case in names(cases)) {
  cs <- cases[[case]]
  for (est in estimators) {
    if (case == "hs_fiml" && est == "MLM") next   # MLM needs complete data
    fits <- lapply(names(cs$models), function(nm) {
      f <- if ("name" %in% names(formals(cs$fit))) cs$fit(cs$models[[nm]], est, nm) else cs$fit(cs$models[[nm]], est)
      stopifnot(lavInspect(f, "converged"))
      f
    })
    names(fits) <- names(cs$models)
    lrt <- do.call(lavTestLRT, c(unname(fits), list(model.names = names(fits))))
    for (i in seq_len(nrow(lrt))) {
      nm <- rownames(lrt)[i]
      fm <- fitMeasures(fits[[nm]], fm_names)
      scaled <- est != "ML"
      sf <- if (scaled) fitMeasures(fits[[nm]], "chisq.scaling.factor") else NA
      cs_ <- if (scaled) fitMeasures(fits[[nm]], "chisq.scaled") else NA
      rows[[length(rows) + 1]] <- data.frame(
        case = case, estimator = est, order = i, model = nm,
        df = lrt$Df[i], aic = lrt$AIC[i], bic = lrt$BIC[i], chisq = lrt$Chisq[i],
        chisq_diff = lrt[["Chisq diff"]][i], df_diff = lrt[["Df diff"]][i],
        pvalue = lrt[["Pr(>Chisq)"]][i],
        rmsea_diff = if ("RMSEA" %in% names(lrt)) lrt$RMSEA[i] else NA,
        chisq_pvalue = unname(fm["pvalue"]), cfi = unname(fm["cfi"]), tli = unname(fm["tli"]),
        rmsea = unname(fm["rmsea"]), srmr = unname(fm["srmr"]), npar = unname(fm["npar"]),
        n = unname(fm["ntotal"]), chisq_scaled = unname(cs_), scaling_factor = unname(sf))
    }
  }
}
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "compare_lavaan_lrt.csv"), row.names = FALSE, na = "")
cat("wrote compare_lavaan_lrt.csv:", nrow(res), "rows\n")

# ---------------------------------------------------------------------------
# The nesting check: semTools 0.5.6's net() (Bentler & Satorra 2010) verdict for
# pairs (restricted, general), and the chi-square of the general model fitted to
# the restricted model's implied moments (lavaan update() with sample.cov, as
# semTools' x.within.y, but with sample.cov.rescale = FALSE so the moments are
# exactly the implied ones) -> compare_semtools_net.csv
suppressPackageStartupMessages(library(semTools))
cat(sprintf("semTools %s\n", packageVersion("semTools")))
hs_a <- paste(hs_free, "visual ~~ 0*speed", "x7 ~~ x8", sep = "\n")   # df 24
hs_b <- paste(hs_free, "textual ~~ 0*speed", sep = "\n")             # df 25, not inside hs_a
fits <- list(
  hs_free = cfa(hs_free, data = hs), hs_equal = cfa(hs_equal, data = hs),
  hs_equal_orth = cfa(hs_equal_orth, data = hs), hs_a = cfa(hs_a, data = hs), hs_b = cfa(hs_b, data = hs),
  pd_full = sem(pd_model, data = pd), pd_fixed = sem(pd_fixed, data = pd),
  hs_configural = cfa(hs_free, data = hs, group = "school"),
  hs_metric = cfa(hs_free, data = hs, group = "school", group.equal = "loadings"))
pairs <- list(c("hs_equal", "hs_free"), c("hs_equal_orth", "hs_equal"), c("hs_b", "hs_a"),
              c("pd_fixed", "pd_full"), c("hs_metric", "hs_configural"))
net_rows <- lapply(pairs, function(p) {
  x <- fits[[p[1]]]; y <- fits[[p[2]]]
  verdict <- semTools:::x.within.y(x, y)
  Sigma <- lavInspect(x, "cov.ov")
  newfit <- suppressWarnings(lavaan::update(y, data = NULL, sample.cov = Sigma, sample.nobs = lavInspect(x, "nobs"),
                                            sample.cov.rescale = FALSE, se = "none", test = "standard"))
  stopifnot(lavInspect(newfit, "converged"))
  data.frame(restricted = p[1], general = p[2], chisq = fitMeasures(newfit, "chisq")[[1]],
             nested_semtools = unname(verdict))
})
net <- do.call(rbind, net_rows)
write.csv(net, file.path(out, "compare_semtools_net.csv"), row.names = FALSE, na = "")
cat("wrote compare_semtools_net.csv:", nrow(net), "rows\n")
print(net)
