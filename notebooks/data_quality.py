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
# # Data quality
# Who answered, what was dropped and why, how the items are distributed, and
# the problems worth a look before any model is fitted.

# %%
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
record("n", run.n)
display(report.md("## {title}\n\n**{n} respondents** in this base.", title=run.title, n=run.n))

# %% [markdown]
# ## Responses read and kept

# %%
responses = quality.response_summary(run.survey)
record_frame("responses", responses)
display(report.table(responses))
load_notes = run.survey.provenance.load_notes
display(report.Findings(list(load_notes), title="Notes from reading the file") if load_notes
        else report.md("Reading the file gave no warnings."))

# %% [markdown]
# ## Items

# %%
desc = csm.item_descriptives(run.survey)
record_frame("items", desc.reset_index(names="item")[["item", "n", "mean", "sd", "share_missing", "top_box", "bottom_box"]])
report.table(desc, 3)

# %%
if run.suppressed:
    display(report.md("{text}", text=report.suppressed_finding(run.title, run.n, run.min_base)))
else:
    for construct, items in run.instrument.construct_items.items():
        limits = run.survey.scale_limits.loc[items]
        if len(items) > 1 and limits["min"].nunique() == 1 and limits["max"].nunique() == 1:
            fig = csm.plots.likert_bars(run.survey.items[items], scale_limits=limits,
                                        title=run.instrument.construct_label(construct))
            display(fig)
            plt.close(fig)

# %% [markdown]
# ## Straight-lining and flagged problems

# %%
straight = quality.straightlining(run.survey)
record_frame("straightlining", straight)
flags = quality.flag_problems(desc, straight)
record("n_flags", len(flags))
display(report.table(straight, 3))
display(report.md("No problems flagged.") if flags.empty
        else report.md("**{n} problem(s) flagged:**", n=len(flags)))
report.table(flags, 3) if not flags.empty else None
