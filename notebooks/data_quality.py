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
# Data quality: who answered, what was dropped and why, how the items are
# distributed, and the problems worth a look before any model is fitted.
# Every text shown is written in English and Chinese (run.md / run.text,
# csmlib.report.i18n); the report's language is the `language` parameter.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import quality
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
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language)
lang = run.language
record("n", run.n)
display(run.md({"en": "# Data quality\n\nWho answered, what was dropped and why, how the items are "
                      "distributed, and the problems worth a look before any model is fitted.",
                "zh": "# 数据质量\n\n谁参与了作答、哪些数据被剔除及原因、各题项的分布，以及在拟合任何模型之前"
                      "值得关注的问题。"}))
display(run.md({"en": "## {title}\n\n**{n} respondents** in this base.",
                "zh": "## {title}\n\n本样本共 **{n} 位受访者**。"}, title=run.title, n=run.n))

# %%
display(run.md({"en": "## Responses read and kept", "zh": "## 读取与保留的回答"}))
responses = quality.response_summary(run.survey)
record_frame("responses", responses)
display(run.table(responses))
load_notes = run.survey.provenance.load_notes
display(report.Findings(list(load_notes), title=run.text({"en": "Notes from reading the file",
                                                          "zh": "读取文件时的说明"})) if load_notes
        else run.md({"en": "Reading the file gave no warnings.", "zh": "读取文件时没有出现警告。"}))

# %%
display(run.md({"en": "## Items", "zh": "## 题项"}))
desc = csm.item_descriptives(run.survey)
record_frame("items", desc.reset_index(names="item")[["item", "n", "mean", "sd", "share_missing", "top_box", "bottom_box"]])
display(run.table(desc, 3))

# %%
if run.suppressed:
    display(report.md("{text}", text=report.suppressed_finding(run.title, run.n, run.min_base, language=lang)))
else:
    for construct, items in run.instrument.construct_items.items():
        limits = run.survey.scale_limits.loc[items]
        if len(items) > 1 and limits["min"].nunique() == 1 and limits["max"].nunique() == 1:
            fig = csm.plots.likert_bars(run.survey.items[items], scale_limits=limits,
                                        labels=run.names, title=run.instrument.construct_label(construct, lang),
                                        base=run.n, wave=run.wave, language=lang)
            display(fig)
            plt.close(fig)

# %%
display(run.md({"en": "## Straight-lining and flagged problems", "zh": "## 直线作答与标记的问题"}))
straight = quality.straightlining(run.survey)
record_frame("straightlining", straight)
flags = quality.flag_problems(desc, straight)
record("n_flags", len(flags))
display(run.table(straight, 3))
display(run.md({"en": "No problems flagged.", "zh": "未发现问题。"}) if flags.empty
        else run.md({"en": "**{n} problem(s) flagged:**", "zh": "**共标记 {n} 个问题：**"}, n=len(flags)))
if not flags.empty:
    display(run.table(flags, 3))
