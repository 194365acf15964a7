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
# R-squared, direct, indirect and total effects, and the covariance-based
# model's fit.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import csmlib as csm
from csmlib import report
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
data_path: str = "../data/demo/wave1.csv"  # survey file of this wave
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
               study=study, wave=wave)
display(Markdown(run.heading(show_model=True)))
record("n", run.n)

# %%
if not run.suppressed:
    pls = csm.fit_pls(run.spec, run.survey, scheme=scheme, missing=pls_missing)
    boot = csm.bootstrap(pls, n_boot=n_boot, seed=seed)
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
# ## Covariance-based model and its fit
# Maximum likelihood as lavaan; when the instrument declares survey weights,
# weighted ML with robust (MLR) standard errors, and the fit judged by the
# robust CFI, TLI and RMSEA (lavaan's `sampling.weights`).

# %%
if not run.suppressed:
    cb = csm.fit_cbsem(run.spec, run.survey, missing=cbsem_missing, weights=run.survey.instrument.weight_column)
    fit = cb.fit_indices
    record_frame("fit", fit.rename_axis("index").reset_index(name="value"))
    display(Markdown(report.fit_finding(fit)))
    display(report.table(report.fit_assessment(fit), 3))
    display(report.table(cb.paths[["lhs", "rhs", "est", "se", "pvalue", "std_all"]], 3))
    notes = record_notes(cb, key="cbsem_estimation_notes")
    if notes:
        display(notes)
