# Information criteria of PLS path models (seminr 2.3.1) for csmlib.analysis.compare.
#
# Run from the repository root with seminr 2.3.1 in a library R finds, e.g.
#   R_LIBS_USER=/path/to/rlib Rscript data/references/make_seminr_it_criteria.R
# seminr is not a Debian package: it was installed from its sources
# (github.com/sem-in-r/seminr, tag 2.3.1's DESCRIPTION) into a private library with
# `R CMD INSTALL`, its plotting Imports (DiagrammeR, DiagrammeRsvg, webp, used only by
# its plot functions) left out of DESCRIPTION because Debian does not package them.
# Nothing of seminr is in this repository.
#
# Writes seminr_it_criteria.csv: per model and endogenous construct
#   aic, bic         seminr's summary(model)$it_criteria (AIC_func / BIC_func on the
#                    construct scores: k = antecedents + 1, SSE = (1 - R^2) var(score) (n - 1))
#   r2, n, k         the R^2 of the construct (seminr's rSquared), respondents, antecedents + 1
#   aicc, hq, gm     Sharma et al. (2019, Table B1), computed HERE in R from seminr's numbers
#                    (not by seminr, which has no such function): AICc = n log(SSE/n) +
#                    n (n + k) / (n - k - 2); HQ = n log(SSE/n) + 2 k log(log n);
#                    GM = SSE / MSE + k log n with MSE = 1 - R^2 of the construct in the
#                    saturated structural model (every construct earlier in the causal order
#                    predicts it, as cSEM's calculateModelSelectionCriteria), estimated by seminr
#   r2_saturated     that R^2
# Data handling as the seminr workbook (seminr_corp_rep.R): missing_value = -99,
# mean replacement, path weighting.
suppressMessages(library(seminr))
cat("seminr", as.character(packageVersion("seminr")), "on", R.version.string, "\n")
corp <- read.csv("data/corp_rep_data/corp_rep_data.csv")
fit <- function(mm, sm) suppressMessages(
  estimate_pls(data = corp, measurement_model = mm, structural_model = sm,
               missing = mean_replacement, missing_value = "-99"))

# The models are the lavaan-syntax files the tests read (data/references/compare_pls_*.lav),
# turned into seminr's syntax here: "X <~ a + b" a mode B composite, "X =~ a + b" a mode A
# composite (seminr's default; PLS estimates a composite either way), "Y ~ a + b" paths into Y.
read_lav <- function(name) {
  lines <- trimws(readLines(file.path("data/references", paste0("compare_pls_", name, ".lav"))))
  lines <- lines[nchar(lines) > 0 & !startsWith(lines, "#")]
  parts <- regmatches(lines, regexec("^(\\S+)\\s*(<~|=~|~)\\s*(.+)$", lines))
  rhs <- function(p) trimws(strsplit(p[4], "+", fixed = TRUE)[[1]])
  blocks <- Filter(function(p) p[3] != "~", parts)
  mm <- do.call(constructs, lapply(blocks, function(p)
    if (p[3] == "<~") composite(p[2], rhs(p), weights = mode_B) else composite(p[2], rhs(p))))
  sm <- do.call(relationships, lapply(Filter(function(p) p[3] == "~", parts), function(p)
    paths(from = rhs(p), to = p[2])))
  list(mm = mm, sm = sm, order = vapply(blocks, `[`, "", 2))   # the files list constructs in causal order
}
models <- lapply(c(mediation = "mediation", no_direct = "no_direct", simple = "simple"), read_lav)
saturated <- function(order) do.call(relationships, lapply(seq_along(order)[-1], function(j)
  paths(from = order[seq_len(j - 1)], to = order[j])))
rows <- list()
for (nm in names(models)) {
  md <- models[[nm]]
  m <- fit(md$mm, md$sm)
  itc <- summary(m)$it_criteria
  sat <- fit(md$mm, saturated(md$order))
  n <- nrow(m$construct_scores)
  for (cn in colnames(itc)) {
    k <- sum(m$smMatrix[, "target"] == cn) + 1
    r2 <- m$rSquared["Rsq", cn]
    sse <- (1 - r2) * stats::var(m$construct_scores[, cn]) * (n - 1)
    stopifnot(abs((2 * k + n * log(sse / n)) - itc["AIC", cn]) < 1e-8)   # seminr's own numbers
    r2_sat <- sat$rSquared["Rsq", cn]
    rows[[length(rows) + 1]] <- data.frame(
      model = nm, construct = cn, n = n, k = k, r2 = r2,
      aic = itc["AIC", cn], bic = itc["BIC", cn],
      aicc = n * log(sse / n) + n * (n + k) / (n - k - 2),
      hq = n * log(sse / n) + 2 * k * log(log(n)),
      gm = sse / (1 - r2_sat) + k * log(n), r2_saturated = r2_sat)
  }
}
res <- do.call(rbind, rows)
write.csv(res, "data/references/seminr_it_criteria.csv", row.names = FALSE)
cat("wrote data/references/seminr_it_criteria.csv:", nrow(res), "rows\n")
print(res, digits = 10)
