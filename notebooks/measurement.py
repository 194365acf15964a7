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
# # Measurement model
# Do the items measure their constructs reliably and distinctly?  Loadings,
# reliability (Cronbach's alpha, rho_A, rho_C), convergent validity (AVE) and
# discriminant validity (HTMT with bootstrap intervals, Fornell-Larcker),
# each judged against the usual thresholds; then where the covariance-based
# model misfits (modification indices, standardized residuals).

# %%
# %matplotlib inline
from IPython.display import display

import csmlib as csm
from csmlib.analysis.collinearity import vif_assessment
from csmlib import report
from csmlib.analysis.measurement import reliability_assessment
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
    display(report.md("PLS ({scheme} scheme): {message}. Bootstrap: {n_boot} resamples, seed {seed}, "
                      "{n_failed} failed, {n_flipped} sign-flipped.", scheme=scheme,
                      message=pls.message.rstrip("."), n_boot=boot.n_boot, seed=boot.seed,
                      n_failed=boot.n_failed, n_flipped=boot.n_sign_flipped))

# %% [markdown]
# ## Loadings
# Standardized loadings of 0.708 or more mean the construct explains at least
# half of the item's variance.

# %%
if not run.suppressed:
    loadings = pls.loadings[["lhs", "rhs", "est"]].rename(columns={"lhs": "construct", "rhs": "item", "est": "loading"})
    loadings["passed"] = loadings["loading"] >= 0.708
    record_frame("loadings", loadings)
    display(report.table(loadings, 3))

# %% [markdown]
# ## Reliability and convergent validity
# Thresholds: alpha, rho_A and rho_C at least 0.7, AVE at least 0.5.  ``alpha``
# is the raw Cronbach's alpha (item covariances); ``alpha_std`` the
# standardized alpha (item correlations) that seminr reports.  A single-item
# construct is reported as perfectly reliable (1), and a formative (mode B)
# construct with rho_A 1, as seminr does; internal consistency is no
# criterion for either.

# %%
if not run.suppressed:
    rel = reliability_assessment(pls)
    record_frame("reliability", rel.reset_index(names="construct"))
    display(report.table(rel, 3))

# %% [markdown]
# ## Collinearity of the items
# VIF of each item among the items of its construct: above 5 is critical
# collinearity (Hair et al. prefer below 3); it matters most for formative
# (mode B) blocks, whose weights are regression weights.

# %%
if not run.suppressed:
    outer_vif = vif_assessment(pls, "outer")
    record_frame("outer_vif", outer_vif)
    display(report.table(outer_vif, 3))

# %% [markdown]
# ## Discriminant validity
# HTMT below 0.85 (conservative) or 0.90 (liberal), with the upper bootstrap
# bound below 1; Fornell-Larcker: the square root of each AVE (diagonal)
# above the construct's correlations.

# %%
if not run.suppressed:
    htmt = boot.htmt
    record_frame("htmt", htmt)
    display(report.table(htmt, 3))
    display(report.table(csm.fornell_larcker(pls), 3))

# %% [markdown]
# ## Cross-loadings

# %%
if not run.suppressed:
    display(report.table(csm.cross_loadings(pls), 3))

# %% [markdown]
# ## Where the covariance-based model misfits
# The same model estimated by covariance-based ML (respondents with every
# answer; with the instrument's survey weights when it declares them, as
# lavaan's `sampling.weights`).  A modification index is the drop in
# chi-square to expect if a parameter the model leaves out (a cross-loading,
# a residual covariance, a path) were freed; a standardized residual is the
# gap between the sample and the model covariance of two items over its
# standard error.  Both are leads to review against theory: the model is
# never changed by them.

# %%
if not run.suppressed:
    cb = run.fit_cbsem(missing="listwise", weights=run.survey.instrument.weight_column)
    notes = record_notes(cb, key="cbsem_estimation_notes")
    if notes:
        display(notes)
    mi = csm.modification_indices(cb)
    zres = csm.residuals(cb, type="standardized")
    record_frame("modification_indices", mi.head(10))
    display(report.misfit_findings(mi, zres))
    display(report.table(mi.head(10), 3))
    pairs = zres[(zres["op"] == "~~") & (zres["lhs"] != zres["rhs"])]
    largest = pairs.loc[pairs["residual"].abs().sort_values(ascending=False).index].head(10)
    record_frame("standardized_residuals", largest)
    display(report.table(largest.drop(columns="op"), 2))
