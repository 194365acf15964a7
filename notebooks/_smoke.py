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
#     display_name: Python (csm)
#     language: python
#     name: csm
# ---

# %% [markdown]
# # Smoke test notebook
#
# A tiny notebook used only by the study-runner tests: it reads the wave's
# data, computes the mean of `x` in the segment, records it, and can be told
# to fail (a `fail` column in the data), to kill its own kernel (a `die`
# column), or to take its time (`sleep`).

# %% tags=["parameters"]
study: str = "smoke"  # study name
wave: str = "w1"  # wave label
previous_wave: str = ""  # previous wave label, empty for the first wave
segment: str = "all"  # all, or the segment label
segment_column: str = ""  # segment column, empty when the study has no segments
segment_value: object = None  # the segment's value in the data
data_path: str = ""  # the wave's data file
instrument_path: str = ""  # the instrument YAML
model: str = ""  # csm.models name or lavaan text
results_path: str = ""  # where recorded results go, empty for memory only
previous_results_path: str = ""  # the previous wave's results of this run
wave_results: dict = {}  # report runs: segment/notebook -> results file
min_base: int = 0  # smallest segment base that is estimated
seed: int = 1  # random seed
n_boot: int = 0  # bootstrap resamples (a study's usual parameter; the smoke notebook does not resample)
sleep: float = 0.0  # seconds to wait before recording (tests)

# %%
import json
import os
import sys
import time

import pandas as pd
from IPython.display import display

from csmlib import report

from csmlib.report.keys import declare
from csmlib.report.record import record, record_frame, set_results_path
from csmlib.run.study import segment_mask

set_results_path(results_path)
# a study's own notebook declares the keys it records (csmlib.report.keys)
for key, kind, meaning, when in (
        ("n", "integer", "rows in the segment", ""),
        ("mean_x", "number", "mean of x", ""),
        ("sum_x", "number", "sum of x", ""),
        ("seed", "integer", "the seed parameter", ""),
        ("change_mean_x", "number", "mean of x minus the previous wave's", "with a previous wave"),
        ("by_y", "table", "mean of x by y", ""),
        ("sources", "integer", "results files given to a report run", "in a report run")):
    declare(key, kind, meaning, notebook="_smoke", when=when)

# %%
df = pd.read_csv(data_path)
if "fail" in df.columns:  # a data file can ask for a failure (tests)
    raise ValueError(f"smoke failure requested by the data of wave {wave}")
if "die" in df.columns:  # ... or for the kernel to die
    os._exit(1)
time.sleep(sleep)
if segment_column:
    df = df[segment_mask(df[segment_column], segment)]
n = int(len(df))
mean_x = float(df["x"].mean())
sum_x = float(df["x"].sum())
print("secret-stderr-marker", file=sys.stderr)
record("n", n)
record("mean_x", mean_x)
record("sum_x", sum_x)
record("seed", seed)
if previous_results_path:
    with open(previous_results_path, encoding="utf-8") as fh:
        prev = json.load(fh)["values"]
    record("change_mean_x", mean_x - prev["mean_x"])
record_frame("by_y", df.groupby("y", as_index=False)["x"].mean().rename(columns={"x": "mean_x"}))
if wave_results:
    record("sources", len(wave_results))

# %%
display(report.html("<p class='smoke-result'>Mean of x in {segment}: {mean_x:.6f} (n = {n})</p>",
                    segment=segment, mean_x=mean_x, n=n))
