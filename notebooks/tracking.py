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
# Tracking: this wave's indices and paths, the change since the last wave, the
# trend and the segments.  Every text shown is written in English and Chinese
# (run.md / run.text, csmlib.report.i18n).
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
previous_results_path: str = ""  # the previous wave's results of this notebook ("" for none)
min_base: int = 30  # bases below this are suppressed, not estimated
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
multiplicity: str = "holm"  # adjustment of segment/item test families: holm, fdr_bh or none
seed: int = 20260101  # bootstrap and permutation seed
n_boot: int = 2000  # bootstrap resamples
n_perm: int = 1000  # permutations for the segment comparison
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
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
display(run.md({"en": "# Tracking: what changed since the last wave, and where\n\nThe satisfaction indices and "
                      "the driver paths of this wave with bootstrap intervals, the change since the previous "
                      "wave with a test of each difference, the trend over all waves so far, and how the "
                      "segments compare (league table, and for two segments the invariance check and the test "
                      "of their path differences).",
                "zh": "# 跟踪：与上一期相比有何变化、变化在哪里\n\n本期的满意度指数与驱动路径及其自助法置信区间、"
                      "与上一期相比的变化及每项差异的检验、迄今各期的趋势，以及各细分群体的比较（排名表；"
                      "若只有两个细分群体，还包括不变性检验与路径差异检验）。"}))
display(run.heading(show_model=True))

# %%
display(run.md({"en": "## This wave: indices and driver paths with 95% bootstrap intervals",
                "zh": "## 本期：指数与驱动路径（95% 自助法置信区间）"}))
if not run.suppressed:
    # weighted PLS (paths, index, IPMA) when the instrument declares a weight column
    pls = run.fit_pls(scheme=scheme, missing=pls_missing,
                      weights=run.survey.instrument.weight_column)
    boot = run.bootstrap(pls, n_boot=n_boot, seed=seed, statistics=["estimates", "index"])
    notes = record_notes(pls, boot, language=lang)
    if notes:
        display(notes)
    this_wave = tracking.wave_estimates(boot, wave=wave, n=run.n)
    record_frame("estimates", this_wave)
    head = this_wave[(this_wave["kind"] == "index") & (this_wave["construct"] == index_construct)].iloc[0]
    record("index", head["est"])
    record("index_se", head["se"])
    record("index_ci_lower", head["ci_lower"])
    record("index_ci_upper", head["ci_upper"])
    record("seed", boot.seed)
    record("n_boot", boot.n_boot)
    record("n_failed", boot.n_failed)
    display(run.table(this_wave, 3))

# %%
display(run.md({"en": "## Change since the previous wave", "zh": "## 与上一期相比的变化"}))
if not run.suppressed:
    trend = tracking.append_wave(run.previous_frame("trend"), this_wave)
    record_frame("trend", trend)
    changes = tracking.trend_table(trend, min_base=min_base)
    now = changes[changes["wave"] == str(wave)].reset_index(drop=True)
    record_frame("changes", now)
    row = now[(now["kind"] == "index") & (now["construct"] == index_construct)].iloc[0]
    if row["diff"] == row["diff"]:
        record("change", row["diff"])
        record("change_pvalue", row["diff_pvalue"])
    display(report.md("{text}", text=report.index_finding(
        run.name(index_construct), head["est"], head["ci_lower"], head["ci_upper"],
        diff=None if row["diff"] != row["diff"] else row["diff"],
        pvalue=None if row["diff"] != row["diff"] else row["diff_pvalue"], language=lang)))
    display(run.table(now, 3))

# %%
display(run.md({"en": "## Trend over the waves", "zh": "## 各期趋势"}))
if not run.suppressed:
    idx_trend = trend[trend["kind"] == "index"].rename(columns={"est": "index"})
    fig = csm.plots.index_trend(idx_trend.assign(construct=idx_trend["construct"].map(run.name)),
                                group="construct", title=run.text({"en": "Indices by wave", "zh": "各期指数"}),
                                language=lang)
    display(fig)
    plt.close(fig)
    display(run.table(changes[changes["kind"] == "index"], 2))
    display(run.table(changes[changes["kind"] == "path"], 3))

# %%
display(run.md({"en": "## Segments\n\nEach segment's index with its bootstrap interval, ranked, and tested "
                      "against the total.  Segments below the minimum base are suppressed.",
                "zh": "## 细分群体\n\n各细分群体的指数及其自助法置信区间，按高低排序，并与总体进行检验。"
                      "样本量低于最低要求的细分群体不予报告。"}))
segments = None
if not run.suppressed and segment == "all" and segment_column:
    segments = tracking.segment_estimates(run.spec, run.survey, segment_column,
                                          construct=index_construct, n_boot=n_boot, seed=seed,
                                          scheme=scheme, min_base=min_base, missing=pls_missing,
                                          weights=run.survey.instrument.weight_column)
    league = tracking.league_table(segments, reference=head["est"], reference_se=head["se"],
                                   min_base=min_base, multiplicity=multiplicity)
    record_frame("segments", league)
    display(run.table(league, 2))
else:
    display(run.md({"en": "No segment comparison for this run.", "zh": "本次运行不做细分群体比较。"}))

# %%
display(run.md({"en": "## Two segments: invariance of the composites (MICOM) and path differences",
                "zh": "## 两个细分群体：合成变量的不变性（MICOM）与路径差异"}))
if segments is not None and len(segments) == 2 and not segments["suppressed"].any():
    mic = csm.micom(run.spec, run.survey, segment_column, n_perm=n_perm, seed=seed, scheme=scheme,
                    min_base=min_base, missing=pls_missing)
    record_frame("micom", mic.summary.merge(mic.compositional[["construct", "c", "c_quantile"]]))
    record("micom_seed", mic.seed)
    display(run.md({"en": "Groups **{a}** (a) and **{b}** (b), {n_perm} permutations.",
                    "zh": "组别 **{a}**（a）与 **{b}**（b），{n_perm} 次置换。"},
                   a=mic.groups[0], b=mic.groups[1], n_perm=mic.n_perm))
    display(run.table(mic.summary))
    perm = csm.permutation_test(run.spec, run.survey, segment_column, n_perm=n_perm, seed=seed,
                                scheme=scheme, min_base=min_base, missing=pls_missing)
    record_frame("path_differences", perm.paths)
    display(run.table(perm.paths, 3))
elif segments is not None:
    display(run.md({"en": "The composite invariance check compares exactly two estimated segments.",
                    "zh": "合成变量不变性检验只比较恰好两个已估计的细分群体。"}))
