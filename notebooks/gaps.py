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
# Service-quality gaps (SERVQUAL): perception minus expectation with paired
# t-tests.  Every text shown is written in English and Chinese (run.md /
# run.text, csmlib.report.i18n).
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.run.notebook import open_run
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
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)
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
expectation_items: list = []  # expectation items, paired in order with perception_items
perception_items: list = []  # perception items
dimensions: dict = {}  # dimension name -> its perception items (e.g. the five SERVQUAL dimensions)

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language)
lang = run.language
record("n", run.n)
display(run.md({"en": "# Service-quality gaps (SERVQUAL)\n\nPerception minus expectation, per item and per "
                      "dimension, with paired t-tests: negative gaps are where service falls short of what "
                      "customers expected.",
                "zh": "# 服务质量差距（SERVQUAL）\n\n按题项与维度计算感知减期望，并做配对 t 检验："
                      "负差距表示服务未达到顾客的期望。"}))
display(run.heading())
configured = bool(expectation_items) and bool(perception_items)
if not run.suppressed and not configured:
    display(run.md({"en": "This study names no expectation and perception items (parameters `expectation_items`, "
                          "`perception_items`): no gaps to show.",
                    "zh": "本研究未指定期望与感知题项（参数 `expectation_items`、`perception_items`）："
                          "没有可显示的差距。"}))

# %%
if configured and not run.suppressed:
    gaps = csm.servqual.gaps(run.survey.data, expectation_items, perception_items,
                             dimensions or None, multiplicity=multiplicity)
    record_frame("gaps", gaps.rename(columns={"name": "item"}))
    level = "dimension" if dimensions else "item"
    fig = csm.plots.gap_chart(gaps.assign(name=gaps["name"].map(run.name)), level=level,
                              title=run.text({"en": "Perception minus expectation", "zh": "感知减期望"}),
                              base=run.n, wave=run.wave, language=lang)
    display(fig)
    plt.close(fig)
    short = gaps[(gaps["level"] == level) & (gaps["pvalue_adj"] < 0.05) & (gaps["gap"] < 0)]
    display(report.Findings(
        [run.text({"en": "{name}: gap {gap} (adjusted {p})", "zh": "{name}：差距 {gap}（校正后 {p}）"},
                  name=run.name(r.name), gap=f"{r.gap:.2f}", p=report.fmt_p(r.pvalue_adj))
         for r in short.itertuples()]
        or [run.text({"en": "No significant shortfall against expectations.", "zh": "没有显著低于期望的方面。"})],
        title=run.text({"en": "Significant shortfalls", "zh": "显著不足"})))
    display(run.table(gaps, 3))
