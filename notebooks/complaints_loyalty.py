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
# Complaints and loyalty: complaint rate, NPS, top-2 box and the loyalty of
# complainers vs the rest, each with its interval.  Every text shown is
# written in English and Chinese (run.md / run.text, csmlib.report.i18n).
# %matplotlib inline
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis.index import ipma_scores
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
multiplicity: str = "holm"  # adjustment of segment/item test families: holm, fdr_bh or none
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
recommend_item: str = "recommend"  # 0-10 likelihood to recommend ("" to skip NPS)
complained_item: str = "complained"  # 0/1 complained in the period ("" to skip)
csat_item: str = "CUSA1"  # satisfaction item for the top-2 box ("" to skip)
loyalty_construct: str = "Loyalty"  # construct compared between complainers and the rest

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language,
               fit_cache=fit_cache)
lang = run.language
display(run.md({"en": "# Complaints and loyalty\n\nHow many customers complained, how likely customers "
                      "are to recommend us (NPS), the satisfied share (top-2 box), and how loyalty differs "
                      "between those who complained and those who did not -- each with its interval.",
                "zh": "# 投诉与忠诚度\n\n有多少顾客投诉过、顾客向他人推荐我们的可能性（净推荐值 NPS）、"
                      "满意者占比（前两项占比），以及投诉者与未投诉者的忠诚度差异——均附置信区间。"}))
display(run.heading())
record("n", run.n)
data = run.survey.data
limits = run.survey.scale_limits
weights = run.survey.weights  # survey weights when the instrument declares them, else None
if weights is not None:
    display(run.md({"en": "Shares and scores below are weighted by *{weights}*; the effective base is "
                          "Kish's effective sample size.",
                    "zh": "以下占比与得分按 *{weights}* 加权；有效样本量为 Kish 有效样本量。"},
                   weights=weights.name))
findings = report.Findings(title=run.text({"en": "Key figures", "zh": "关键指标"}))

# %%
if not run.suppressed and recommend_item:
    n_p_s = csm.metrics.nps(data[recommend_item], scale=tuple(limits.loc[recommend_item]),
                            weights=weights)
    record_frame("nps_detail", n_p_s)
    row = n_p_s.iloc[0]
    record("nps", row["nps"])
    findings.add(run.text({"en": "Net Promoter Score {value}.", "zh": "净推荐值（NPS）{value}。"},
                          value=report.fmt_ci(row["nps"], row["ci_lower"], row["ci_upper"], language=lang)))
    display(run.table(n_p_s, 3))

# %%
if not run.suppressed and csat_item:
    tb = csm.metrics.top_box(data[csat_item], scale=tuple(limits.loc[csat_item]), boxes=2,
                             weights=weights, name=csat_item)
    record_frame("top_box", tb)
    row = tb.iloc[0]
    record("top2_box", row["top_box"])
    findings.add(run.text({"en": "Top-2 box on {item}: {value}%.", "zh": "“{item}”前两项占比：{value}%。"},
                          item=run.name(csat_item),
                          value=report.fmt_ci(100 * row["top_box"], 100 * row["ci_lower"], 100 * row["ci_upper"],
                                              language=lang)))
    display(run.table(tb, 3))

# %%
if not run.suppressed and complained_item:
    cr = csm.metrics.complaint_rate(data[complained_item], weights=weights, name=complained_item)
    record_frame("complaint_rate_detail", cr)
    row = cr.iloc[0]
    record("complaint_rate", row["rate"])
    findings.add(run.text({"en": "Complaint rate {value}%.", "zh": "投诉率 {value}%。"},
                          value=report.fmt_ci(100 * row["rate"], 100 * row["ci_lower"], 100 * row["ci_upper"],
                                              language=lang)))
    display(run.table(cr, 3))

# %%
display(run.md({"en": "## Loyalty (0-100) of complainers and the rest", "zh": "## 投诉者与其他顾客的忠诚度（0-100）"}))
if not run.suppressed and complained_item and run.spec is not None \
        and loyalty_construct in run.spec.construct_names:
    # weighted PLS (paths, index, IPMA) when the instrument declares a weight column
    pls = run.fit_pls(scheme=scheme, missing=pls_missing,
                      weights=run.survey.instrument.weight_column)
    notes = record_notes(pls, language=lang)
    if notes:
        display(notes)
    scores, _, _ = ipma_scores(pls)
    groups = data.loc[scores.index, complained_item].map({0: "did not complain", 1: "complained"})
    by = csm.metrics.loyalty_by_complaint_handling(scores[loyalty_construct], groups,
                                                   order=["did not complain", "complained"],
                                                   multiplicity=multiplicity)
    record_frame("loyalty_by_complaint", by)
    display(run.table(by, 3))

# %%
display(findings)
