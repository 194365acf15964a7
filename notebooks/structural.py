# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: csm
#     language: python
#     name: csm
# ---

# %% [markdown]
# # Structural model
# How expectations, quality and value drive satisfaction, and satisfaction
# drives complaints and loyalty: path estimates with bootstrap intervals,
# R-squared, direct, indirect and total effects, mediation, collinearity and
# effect sizes, out-of-sample prediction, and the covariance-based model's fit.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib.analysis.collinearity import vif_assessment
from csmlib import CsmError, report
from csmlib.run.notebook import open_run, record_notes
from csmlib.report.record import record, record_frame

# %% tags=["parameters"]
# Parameters (csm run injects these; the defaults run the bundled demo study's first wave)
study: str = "demo-acsi"  # study name, shown in titles
wave: str = "2026Q1"  # wave label
previous_wave: str = ""  # label of the previous wave ("" for the first)
segment: str = "all"  # "all" or a segment label
segment_column: str = ""  # column holding the segments ("" for none)
segment_value: object = None  # the segment's value in the data (None for "all")
fit_cache: str = ""  # folder of the wave x segment's shared fits ("": this notebook fits its own)
data_path: str = "../data/demo/wave1.csv"  # survey file of this wave
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)
instrument_path: str = "../data/demo/instrument.yml"  # instrument (codebook) YAML
model: str = "acsi"  # a csm.models name or lavaan model text
results_path: str = ""  # where recorded results go ("" keeps them in memory)
previous_results_path: str = ""  # the previous wave's recorded results ("" for none)
min_base: int = 30  # bases below this are suppressed, not estimated
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
cbsem_missing: str = "fiml"  # CB-SEM with missing answers: "fiml" (every respondent) or "listwise"

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, fit_cache=fit_cache)
display(run.heading(show_model=True))
record("n", run.n)

# %%
if not run.suppressed:
    # weighted PLS (paths, index, IPMA) when the instrument declares a weight column
    pls = run.fit_pls(scheme=scheme, missing=pls_missing,
                      weights=run.survey.instrument.weight_column)
    boot = run.bootstrap(pls, n_boot=n_boot, seed=seed)
    notes = record_notes(pls, boot)
    if notes:
        display(notes)
    fig = csm.plots.path_diagram(boot)
    display(fig)
    plt.close(fig)

# %% [markdown]
# ## Paths (PLS, bootstrap percentile intervals)

# %%
if not run.suppressed:
    paths = boot.paths
    record_frame("paths", paths[["lhs", "rhs", "est", "se", "ci_lower", "ci_upper", "pvalue"]])
    display(report.table(paths, 3))
    r2 = pls.r2.rename_axis("construct").reset_index(name="r2")
    record_frame("r2", r2)
    display(report.table(r2, 3))
    record("srmr", pls.fit_indices.get("srmr"))

# %% [markdown]
# ## Direct, indirect and total effects

# %%
if not run.suppressed:
    display(report.table(boot.effects, 3))

# %% [markdown]
# ## Mediation
# The satisfaction chain is a mediation model: quality works on satisfaction
# directly and through value, satisfaction on loyalty directly and through
# complaints.  Every specific indirect effect (one per chain of paths) with its
# bootstrap interval, then, for every pair with a direct path and a chain, the
# type of mediation (Zhao, Lynch & Chen 2010; significant = the 95% percentile
# interval excludes 0).

# %%
if not run.suppressed:
    specific = boot.specific_effects
    record_frame("specific_effects", specific)
    display(report.table(specific, 3))
    direct = set(zip(pls.paths["rhs"], pls.paths["lhs"]))
    pairs = [p for p in dict.fromkeys(zip(specific["from"], specific["to"])) if p in direct]
    mediations = [csm.mediation(boot, x=x, y=y) for x, y in pairs]
    for med in mediations:
        display(report.md("{finding}", finding=report.mediation_finding(med)))
    if mediations:
        med_all = pd.concat(mediations, ignore_index=True)
        record_frame("mediation", med_all)
        display(report.table(med_all, 3))

# %% [markdown]
# ## Collinearity and effect sizes
# VIF of each antecedent among the antecedents of the same construct (critical
# above 5; Hair et al. prefer below 3) and Cohen's f² of every path (0.02
# small, 0.15 medium, 0.35 large; by re-estimating the model without the
# path, as seminr, and from the full model's scores, as SmartPLS 3).

# %%
if not run.suppressed:
    inner_vif = vif_assessment(pls, "inner")
    record_frame("inner_vif", inner_vif)
    display(report.table(inner_vif, 3))
    f2 = csm.f_squared(pls)
    record_frame("f_squared", f2)
    display(report.table(f2, 3))

# %% [markdown]
# ## Prediction
# Out-of-sample predictive power (PLSpredict, Shmueli et al. 2019): every item
# of an endogenous construct predicted in 10-fold cross-validation repeated 10
# times.  Q²predict above 0 means the model predicts better than the item mean;
# PLS errors (RMSE) below the linear-model benchmark's for all, most, few or
# none of the items mean high, medium, low or no predictive power.  CVPAT
# (Liengaard et al. 2021) tests the average losses against the
# indicator-average (IA) and linear-model (LM) benchmarks.

# %%
if not run.suppressed:
    try:
        prediction = csm.predict_pls(run.spec, run.survey, folds=10, repeats=10, seed=seed, missing=pls_missing)
        prediction["pls_below_lm"] = prediction["pls_rmse"] < prediction["lm_rmse"]
        record_frame("prediction", prediction)
        display(report.table(prediction, 3))
        cv = csm.cvpat(run.spec, run.survey, folds=10, repeats=10, seed=seed, missing=pls_missing)
        record_frame("cvpat", cv)
        display(report.table(cv, 3))
    except CsmError as exc:
        display(report.md("Prediction not assessed: {error}", error=str(exc)))

# %% [markdown]
# ## Covariance-based model and its fit
# Maximum likelihood as lavaan; when the instrument declares survey weights,
# weighted ML with robust (MLR) standard errors, and the fit judged by the
# robust CFI, TLI and RMSEA (lavaan's `sampling.weights`).

# %%
if not run.suppressed:
    cb = run.fit_cbsem(missing=cbsem_missing, weights=run.survey.instrument.weight_column)
    fit = cb.fit_indices
    record_frame("fit", fit.rename_axis("index").reset_index(name="value"))
    display(report.md("{text}", text=report.fit_finding(fit)))
    display(report.table(report.fit_assessment(fit), 3))
    display(report.table(cb.paths[["lhs", "rhs", "est", "se", "pvalue", "std_all"]], 3))
    notes = record_notes(cb, key="cbsem_estimation_notes")
    if notes:
        display(notes)
