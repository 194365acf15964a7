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
# The consultant's summary of this wave: key figures, findings, the index and
# its change, what drives loyalty, how segments compare, and how far the
# measurement and the model can be trusted.  Every number comes from the
# wave's recorded results, read through the declared keys
# (csmlib.report.keys): a result a run should have recorded and did not is
# listed at the end and fails this report's run.  Every text shown is written
# in English and Chinese (csmlib.report.i18n).
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import tracking
from csmlib.analysis.actions import action_status, candidate_actions, construct_measures, item_measures
from csmlib.report import i18n
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
actions: list = []  # the study file's improvement actions (given by csm run)
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)

# %%
set_results_path(results_path or None)
inst = csm.Instrument.from_yaml(instrument_path)
lang = i18n.report_language(language, inst)
names = report.display_names(inst, lang)
res = report.WaveResults(wave_results)
previous = read_results(previous_results_path) if previous_results_path else None
display(i18n.md(lang, {"en": "# {study}: {wave}", "zh": "# {study}：{wave}"}, study=study, wave=wave))
sections = [("summary", i18n.text(lang, {"en": "Key findings", "zh": "主要发现"})),
            ("trend", i18n.text(lang, {"en": "Index over time", "zh": "指数趋势"})),
            ("segments", i18n.text(lang, {"en": "Segments", "zh": "细分群体"})),
            ("drivers", i18n.text(lang, {"en": "Drivers of {target}", "zh": "{target}的驱动因素"},
                                  target=names.get(target, target))),
            ("actions", i18n.text(lang, {"en": "Improvement actions", "zh": "改进行动"})),
            ("method", i18n.text(lang, {"en": "How the numbers were estimated", "zh": "数据是如何估计的"})),
            ("missing", i18n.text(lang, {"en": "Results missing from the runs", "zh": "运行结果缺失"}))]
title = dict(sections)
findings = report.Findings()   # under the section heading "Key findings"

# %%
idx = res.value("index_drivers", "index")
n_base = res.value("data_quality", "n")
change = res.value("index_drivers", "change", default=None)
change_p = res.value("index_drivers", "change_pvalue", default=None)
if not math.isnan(idx):
    lo, hi = res.value("index_drivers", "index_ci_lower"), res.value("index_drivers", "index_ci_upper")
    se = res.value("index_drivers", "index_se")
    findings.add(report.index_finding(names.get(index_construct, index_construct), idx, lo, hi,
                                      diff=change, pvalue=change_p, language=lang))
    record("index", idx)
    record("index_ci_lower", lo)
    record("index_ci_upper", hi)
    record("index_se", se)
    trend, _ = read_recorded(previous, "study_report", "trend")
    trend = pd.DataFrame() if trend is None else trend
    trend = pd.concat([trend[trend.get("wave", pd.Series(dtype=str)) != wave] if len(trend) else trend,
                       pd.DataFrame([{"wave": wave, "index": idx, "se": se, "ci_lower": lo, "ci_upper": hi,
                                      "n": n_base}])],
                      ignore_index=True)
    record_frame("trend", trend)
else:
    findings.add(i18n.text(lang, {"en": "The satisfaction index was not estimated for this wave (see the run "
                                        "records).",
                                  "zh": "本期未估计满意度指数（见运行记录）。"}))
    trend = pd.DataFrame()

# %%
drivers = res.frame("index_drivers", "ipma")
if drivers is not None:
    findings.add(report.driver_findings(drivers, target, top=2, language=lang, names=names))
fit = res.frame("structural", "fit")
if fit is not None:
    findings.add(report.fit_finding(fit.set_index("index")["value"], language=lang))
rel = res.frame("measurement", "reliability")
if rel is not None:
    findings.add(report.reliability_finding(rel, language=lang, names=names))
nps = res.value("complaints_loyalty", "nps")
rate = res.value("complaints_loyalty", "complaint_rate")
if not math.isnan(nps):
    findings.add(i18n.text(lang, {"en": "Net Promoter Score {nps}; complaint rate {rate}%.",
                                  "zh": "净推荐值（NPS）{nps}；投诉率 {rate}%。"},
                           nps=report.fmt_number(nps), rate=report.fmt_number(100 * rate)))
n_flags = res.value("data_quality", "n_flags")
if not math.isnan(n_flags) and n_flags:
    findings.add(i18n.text(lang, {"en": "{n} data-quality problem(s) were flagged; see the data-quality report.",
                                  "zh": "共标记了 {n} 个数据质量问题；详见数据质量报告。"}, n=int(n_flags)))
if res.missing:
    findings.add(i18n.text(lang, {"en": "Some results are missing from the runs: see the end of this report.",
                                  "zh": "部分运行结果缺失：见本报告末尾。"}))

# %%
# improvement actions (the study file's actions:): each one's status this wave, with the
# change test; and actions proposed from the improve-first list (owner blank)
status = proposed = None
if actions and segment == "all":
    indices = res.frame("index_drivers", "indices")
    this_wave = [] if indices is None else [construct_measures(indices, wave=wave)]
    item_targets = sorted({a["target"] for a in actions if a["target"] in inst.item_names})
    if item_targets:
        survey = csm.read_survey(data_path, inst, encoding=data_encoding or None,
                                 sheet=data_sheet if data_sheet != "" else None)
        this_wave.append(item_measures(survey.data, item_targets, wave=wave, min_base=min_base))
    earlier, _ = read_recorded(previous, "study_report", "action_measures")
    earlier = pd.DataFrame() if earlier is None else earlier[earlier["wave"].astype(str) != wave]
    measures = pd.concat([earlier, *this_wave], ignore_index=True)
    if len(measures) == 0:
        measures = pd.DataFrame(columns=["wave", "target", "est", "se", "kind"])
    record_frame("action_measures", measures)
    status = action_status(actions, measures, wave=wave)
    record_frame("action_status", status)
    for word in ("met", "not met"):
        hits = status[status["status"] == word]
        if len(hits):
            findings.add(i18n.text(lang, {"en": "{n} improvement action(s) {word} their target: {names}.",
                                          "zh": "{n} 项改进行动{word}目标：{names}。"},
                                   n=len(hits), word=i18n.value_label(word, lang),
                                   names=", ".join(map(str, hits["action"]))))
if drivers is not None and segment == "all":
    proposed = candidate_actions(drivers, wave=wave, due_wave="")
    record_frame("candidate_actions", proposed)

# %%
# key figures at the top: the index with its change, NPS, complaint rate, base
cards = []
if not math.isnan(idx):
    note = report.fmt_interval(lo, hi, language=lang)
    if change is not None and not math.isnan(change):
        note += i18n.text(lang, "clause_sep") + report.change_phrase(change, change_p, language=lang)
    cards.append({"label": i18n.text(lang, {"en": "{construct} index", "zh": "{construct}指数"},
                                     construct=names.get(index_construct, index_construct)),
                  "value": report.fmt_number(idx), "note": note})
for key, frame_key, scale, label in (
        ("nps", "nps_detail", 1, i18n.text(lang, {"en": "Net Promoter Score", "zh": "净推荐值（NPS）"})),
        ("complaint_rate", "complaint_rate_detail", 100, i18n.text(lang, {"en": "Complaint rate", "zh": "投诉率"}))):
    value = res.value("complaints_loyalty", key)
    if math.isnan(value):
        continue
    detail = res.frame("complaints_loyalty", frame_key)
    note = "" if detail is None else report.fmt_interval(scale * detail["ci_lower"].iloc[0],
                                                         scale * detail["ci_upper"].iloc[0], language=lang)
    cards.append({"label": label,
                  "value": report.fmt_number(scale * value) + ("%" if scale == 100 else ""), "note": note})
if not math.isnan(n_base):
    cards.append({"label": i18n.text(lang, {"en": "Base", "zh": "样本量"}), "value": f"{int(n_base):,}",
                  "note": i18n.text(lang, {"en": "respondents, wave {wave}", "zh": "位受访者，调查期 {wave}"},
                                    wave=wave)})
display(report.key_figures(cards))
display(report.contents(sections, title=i18n.text(lang, {"en": "Contents", "zh": "目录"})))
display(report.section("summary", title["summary"]))
display(findings)

# %%
display(report.section("trend", title["trend"]))
if len(trend) > 0:
    fig = csm.plots.index_trend(trend, title=i18n.text(lang, {"en": "{construct} index", "zh": "{construct}指数"},
                                                       construct=names.get(index_construct, index_construct)),
                                language=lang)
    display(fig)
    plt.close(fig)
    display(report.table(tracking.trend_table(trend.rename(columns={"index": "est"})), 2,
                         language=lang, instrument=inst))

# %%
display(report.section("segments", title["segments"]))
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
    display(report.table(league, 2, language=lang, instrument=inst))
else:
    display(i18n.md(lang, {"en": "No segment results for this wave.", "zh": "本期没有细分群体结果。"}))

# %%
display(report.section("drivers", title["drivers"]))
if drivers is not None:
    fig = csm.plots.ipma_map(drivers, title=title["drivers"], names=names,
                             base=None if math.isnan(n_base) else int(n_base), wave=wave, language=lang)
    display(fig)
    plt.close(fig)

# %%
display(report.section("actions", title["actions"]))

def action_table(frame):
    """The actions' figures without the interval columns (labels, targets and statuses by report.table)."""
    return frame.drop(columns=[c for c in ("se", "ci_lower", "ci_upper", "reason") if c in frame.columns])


if status is not None:
    display(report.table(action_table(status), 2, language=lang, instrument=inst))
    for owner, rows in status.groupby("owner", sort=False):
        display(i18n.md(lang, {"en": "### {owner}", "zh": "### {owner}"}, owner=owner))
        for row in rows.to_dict("records"):
            display(i18n.md(lang, {
                "en": "*{name}*: {target} from {baseline} ({baseline_wave}) to {value} ({measured_wave}), "
                      "target {target_value} by {due_wave}: **{status}**.",
                "zh": "*{name}*：{target} 由 {baseline}（{baseline_wave}）变为 {value}（{measured_wave}），"
                      "目标为 {due_wave} 前达到 {target_value}：**{status}**。"},
                name=row["action"], target=names.get(row["target"], row["target"]),
                baseline_wave=row["baseline_wave"],
                measured_wave=row["measured_wave"], due_wave=row["due_wave"],
                baseline=report.fmt_number(row["baseline"], 2), value=report.fmt_number(row["value"], 2),
                target_value=report.fmt_number(row["target_value"], 2),
                status=i18n.value_label(row["status"], lang)))
        display(report.table(action_table(rows.drop(columns=["owner"])), 2, language=lang, instrument=inst))
else:
    display(i18n.md(lang, {"en": "The study file lists no improvement actions (actions:), or this is a segment's report.",
                           "zh": "研究文件中没有列出改进行动（actions:），或本报告为分群报告。"}))
if proposed is not None:
    display(i18n.md(lang, {"en": "### Proposed actions (improve first; owner and due wave to decide)",
                           "zh": "### 建议的改进行动（优先改进；负责部门和截止期待定）"}))
    display(report.table(action_table(proposed.assign(action=[
        i18n.text(lang, {"en": "Raise {target}", "zh": "提升{target}"}, target=names.get(t, t))
        for t in proposed["target"]])), 1, language=lang, instrument=inst))

# %%
display(report.section("method", title["method"]))
display(i18n.md(lang, {"en": "Who the estimates of the whole-sample sections rest on (missing answers replaced, "
                             "respondents left out) and anything the estimation reported.",
                       "zh": "全样本各部分的估计所依据的受访者（缺失回答的替代、被排除的受访者），"
                             "以及估计过程中报告的任何情况。"}))
notes = res.estimation_notes(language=lang)
record("estimation_notes", notes.items)
display(notes if notes else i18n.md(lang, {"en": "Nothing to report: every model was estimated on complete "
                                                 "answers without trouble.",
                                           "zh": "没有需要说明的情况：所有模型均基于完整回答顺利估计。"}))

# %%
display(report.section("missing", title["missing"]))
# every result above was read through the declared keys; one that a run
# should have recorded and did not is listed here, and fails this report's run
if res.missing:
    display(res.missing_note(language=lang))
else:
    display(i18n.md(lang, {"en": "None: every run recorded the results this report reads.",
                           "zh": "无：每次运行都记录了本报告读取的结果。"}))
res.check()
