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

# %%
# Satisfaction index and drivers: the 0-100 indices with bootstrap intervals,
# the change since the last wave with its test, and the importance-performance
# map.  Every text shown is written in English and Chinese (run.md / run.text,
# csmlib.report.i18n).
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import tracking
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
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
target: str = "Loyalty"  # the outcome the drivers are ranked for
index_construct: str = "Satisfaction"  # the headline index

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language,
               fit_cache=fit_cache)
lang = run.language
record("n", run.n)
display(run.md({"en": "# Satisfaction index and drivers\n\nThe 0-100 indices (ACSI method: unstandardized "
                      "outer weights and the instrument's scale limits) with bootstrap intervals, the change "
                      "since the last wave with a test of the difference, and the importance-performance map "
                      "of what to improve first.",
                "zh": "# 满意度指数与驱动因素\n\n0-100 指数（ACSI 方法：非标准化外部权重与问卷量表的理论上下限）"
                      "及其自助法置信区间、与上一期相比的变化及其差异检验，以及指出优先改进方向的重要性-绩效矩阵。"}))
display(run.heading(show_model=True))

# %%
if not run.suppressed:
    # weighted PLS (paths, index, IPMA) when the instrument declares a weight column
    pls = run.fit_pls(scheme=scheme, missing=pls_missing,
                      weights=run.survey.instrument.weight_column)
    boot = run.bootstrap(pls, n_boot=n_boot, seed=seed)
    notes = record_notes(pls, boot, language=lang)
    if notes:
        display(notes)
    indices = boot.index
    record_frame("indices", indices)
    head = indices.set_index("construct").loc[index_construct]
    record("index", head["index"])
    record("index_se", head["se"])
    record("index_ci_lower", head["ci_lower"])
    record("index_ci_upper", head["ci_upper"])
    record("seed", boot.seed)
    record("n_boot", boot.n_boot)
    record("n_failed", boot.n_failed)

# %%
if not run.suppressed:
    prev, prev_se = run.previous_value("index"), run.previous_value("index_se")
    change = (tracking.compare_estimates(prev, prev_se, head["index"], head["se"])
              if prev is not None and prev == prev and prev_se == prev_se else None)
    if change is not None:
        record("change", change["diff"])
        record("change_pvalue", change["pvalue"])
    display(report.md("{text}", text=report.index_finding(
        run.name(index_construct), head["index"], head["ci_lower"], head["ci_upper"],
        diff=None if change is None else change["diff"],
        pvalue=None if change is None else change["pvalue"], language=lang)))
    display(run.table(indices, 2))

# %%
display(run.md({"en": "## Importance-performance map", "zh": "## 重要性-绩效矩阵"}))
if not run.suppressed:
    drivers = csm.ipma(pls, target=target)
    record_frame("ipma", drivers)
    fig = csm.plots.ipma_map(drivers, title=run.text({"en": "Drivers of {target}", "zh": "{target}的驱动因素"},
                                                     target=run.name(target)),
                             names=run.names, base=run.n, wave=run.wave, language=lang)
    display(fig)
    plt.close(fig)
    display(report.Findings(report.driver_findings(drivers, target, language=lang, names=run.names),
                            title=run.text({"en": "Improve first", "zh": "优先改进"})))
    display(run.table(drivers, 3))

# %%
display(run.md({"en": "## Items behind the drivers", "zh": "## 驱动因素背后的题项"}))
if not run.suppressed:
    display(run.table(csm.ipma(pls, target=target, level="items"), 3))
