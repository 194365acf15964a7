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
# # Customer satisfaction report
# The consultant's summary of this wave: the satisfaction index and its
# change, what drives loyalty and what to improve first, how segments
# compare, and how far the measurement and the model can be trusted.  Every
# number comes from the wave's recorded results, read through the declared
# keys (`csmlib.report.keys`): a result a run should have recorded and did
# not is listed at the end and fails this report's run.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import tracking
from csmlib.report.keys import read_recorded
from csmlib.report.record import read_results, record, record_frame, set_results_path

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
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
multiplicity: str = "holm"  # adjustment of segment/item test families: holm, fdr_bh or none
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
wave_results: dict = {}  # "<segment>/<notebook>" -> results file of this wave (given by csm run)
index_construct: str = "Satisfaction"  # the headline index
target: str = "Loyalty"  # the outcome the drivers are ranked for

# %%
set_results_path(results_path or None)
res = report.WaveResults(wave_results)
previous = read_results(previous_results_path) if previous_results_path else None
display(report.md("# {study}: {wave}", study=study, wave=wave))
findings = report.Findings(title="Key findings")

# %%
idx = res.value("index_drivers", "index")
if not math.isnan(idx):
    lo, hi = res.value("index_drivers", "index_ci_lower"), res.value("index_drivers", "index_ci_upper")
    se = res.value("index_drivers", "index_se")
    findings.add(report.index_finding(index_construct, idx, lo, hi,
                                      diff=res.value("index_drivers", "change", default=None),
                                      pvalue=res.value("index_drivers", "change_pvalue", default=None)))
    record("index", idx)
    record("index_ci_lower", lo)
    record("index_ci_upper", hi)
    record("index_se", se)
    trend, _ = read_recorded(previous, "study_report", "trend")
    trend = pd.DataFrame() if trend is None else trend
    trend = pd.concat([trend[trend.get("wave", pd.Series(dtype=str)) != wave] if len(trend) else trend,
                       pd.DataFrame([{"wave": wave, "index": idx, "se": se, "ci_lower": lo, "ci_upper": hi}])],
                      ignore_index=True)
    record_frame("trend", trend)
else:
    findings.add("The satisfaction index was not estimated for this wave (see the run records).")
    trend = pd.DataFrame()

# %%
drivers = res.frame("index_drivers", "ipma")
if drivers is not None:
    findings.add(report.driver_findings(drivers, target, top=2))
fit = res.frame("structural", "fit")
if fit is not None:
    findings.add(report.fit_finding(fit.set_index("index")["value"]))
rel = res.frame("measurement", "reliability")
if rel is not None:
    findings.add(report.reliability_finding(rel))
nps = res.value("complaints_loyalty", "nps")
if not math.isnan(nps):
    findings.add(f"Net Promoter Score {report.fmt_number(nps)}; complaint rate "
                 f"{report.fmt_number(100 * res.value('complaints_loyalty', 'complaint_rate'))}%.")
n_flags = res.value("data_quality", "n_flags")
if not math.isnan(n_flags) and n_flags:
    findings.add(f"{int(n_flags)} data-quality problem(s) were flagged; see the data-quality report.")
if res.missing:
    findings.add("Some results are missing from the runs: see the end of this report.")
findings

# %% [markdown]
# ## Index over time

# %%
if len(trend) > 0:
    fig = csm.plots.index_trend(trend, title=f"{index_construct} index")
    display(fig)
    plt.close(fig)
    display(report.table(tracking.trend_table(trend.rename(columns={"index": "est"})), 2))

# %% [markdown]
# ## Segments

# %%
rows = []
for seg in res.segments("index_drivers"):
    rows.append({"segment": seg, "est": res.value("index_drivers", "index", segment=seg),
                 "se": res.value("index_drivers", "index_se", segment=seg),
                 "n": res.value("index_drivers", "n", segment=seg)})
if rows and not math.isnan(idx):
    league = tracking.league_table(pd.DataFrame(rows), reference=idx, reference_se=se,
                                    multiplicity=multiplicity)
    league = tracking.apply_min_base(league, min_base=min_base)
    record_frame("segments", league)
    display(report.table(league, 2))
else:
    display(report.md("No segment results for this wave."))

# %% [markdown]
# ## Drivers of loyalty

# %%
if drivers is not None:
    fig = csm.plots.ipma_map(drivers, title=f"Drivers of {target}")
    display(fig)
    plt.close(fig)

# %% [markdown]
# ## How the numbers were estimated
#
# Who the estimates of the whole-sample sections rest on (missing answers
# replaced, respondents left out) and anything the estimation reported.

# %%
notes = res.estimation_notes()
record("estimation_notes", notes.items)
notes if notes else report.md("Nothing to report: every model was estimated on complete answers without trouble.")

# %% [markdown]
# ## Results missing from the runs

# %%
# every result above was read through the declared keys; one that a run
# should have recorded and did not is listed here, and fails this report's run
if res.missing:
    display(res.missing_note())
else:
    display(report.md("None: every run recorded the results this report reads."))
res.check()
