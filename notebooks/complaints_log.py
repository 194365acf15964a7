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
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.report import i18n
from csmlib.report.plots import pareto_chart
from csmlib.report.record import record, record_frame
from csmlib.run.notebook import open_run

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
min_base: int = 30  # bases below this are suppressed, not estimated (also each recovery group)
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
complaints_log_path: str = "../data/demo/complaints.csv"  # complaint (ticket) export, CSV or Excel
complaints_codebook_path: str = "../data/demo/complaints.yml"  # the log's codebook YAML
complaints_encoding: str = ""  # text encoding of the log ("" for UTF-8)
complaints_sheet: object = ""  # Excel sheet of the log ("" for the first sheet)
period: str = "M"  # period of the volume table: D, W, M, Q or Y
change_period: str = "Q"  # period of the test of change in the category mix
customer_id_column: str = ""  # survey column holding the customer ids of the log ("" for the id column of the instrument)
recovery_items: list = ["CUSA1", "CUSL1"]  # survey items compared by complaint handling
wave_start: str = ""  # first day of the wave's fieldwork window, YYYY-MM-DD ("" for none: the whole log)
wave_end: str = ""  # last day of the window ("" for none)

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language)
lang = run.language
display(i18n.md(lang, {
    "en": "# Complaint log\n\nThe company's own complaint records: how many complaints arrive and "
          "whether that is rising, which categories make up most of them (the \"vital few\"), how fast "
          "they are resolved (tickets still open taken into account), how often they are reopened, "
          "whether the mix of complaints is changing -- and, for customers who also answered the "
          "survey, how satisfaction and loyalty differ by how their complaint was handled.",
    "zh": "# 投诉记录\n\n公司自己的投诉记录：收到多少投诉、是否在增加，哪些类别占了大多数（“关键少数”），"
          "处理得有多快（仍未关闭的工单也计算在内），多少投诉被重新打开，投诉的构成是否在变化；"
          "对同时参加了调查的客户，比较投诉处理方式不同的客户在满意度和忠诚度上的差别。"}))
display(run.heading())
export = csm.complaints.read_log(complaints_log_path, complaints_codebook_path,
                                 encoding=complaints_encoding or None,
                                 sheet=None if complaints_sheet == "" else complaints_sheet)
# the wave's fieldwork window: its tickets (Pareto, resolution) as the log stood at the window's end;
# the volume trend and the change of the mix over the window and the periods before it
if bool(wave_start) != bool(wave_end):
    raise csm.CsmError("wave_start and wave_end give the fieldwork window together", values=[wave_start, wave_end],
                       hint="give both days (YYYY-MM-DD), or neither for the whole log")
history = csm.complaints.between(export, end=wave_end or None)
log = csm.complaints.between(history, wave_start or None, wave_end or None)
whole = segment == "all"
# the log's last day against the window (days as YYYY-MM-DD text, checked by between): a log that ends
# before the window starts knows nothing of its complaints (none is not zero); one that ends inside it
# covers the window up to its last day
last_day = f"{export.as_of:%Y-%m-%d}"
reached = not wave_start or last_day >= wave_start
cut_short = bool(wave_end) and reached and last_day < wave_end
if whole:
    record("complaint_from", wave_start if wave_end else "")
    record("complaint_as_of", f"{log.as_of:%Y-%m-%d}")
    if reached:
        record("complaint_tickets", log.n)
if not reached:
    display(i18n.md(lang, {
        "en": "The complaint log ends on {as_of}, before wave {wave}'s fieldwork window starts ({start}): it "
              "holds none of the window's complaints, so the log's tables are left out (export the log again "
              "after {end}).",
        "zh": "投诉记录截至 {as_of}，早于第 {wave} 期调查执行期间的开始日期（{start}）：其中没有该期间的投诉，"
              "因此不列出投诉记录的表格（请在 {end} 之后重新导出投诉记录）。"},
        as_of=last_day, wave=wave, start=wave_start, end=wave_end))
elif wave_end:
    display(i18n.md(lang, {
        "en": "This report describes the complaints opened in wave {wave}'s fieldwork window, {start} to "
              "{end}, as the log stood at {as_of}; the volume trend and the change of the mix also take in "
              "the periods before it.",
        "zh": "本报告描述在第 {wave} 期调查执行期间（{start} 至 {end}）受理的投诉，按截至 {as_of} 的记录状态统计；"
              "投诉量趋势和投诉构成的变化还包括此前的各期间。"},
        wave=wave, start=wave_start, end=wave_end, as_of=f"{log.as_of:%Y-%m-%d}"))
else:
    display(i18n.md(lang, {
        "en": "This report describes the whole complaint log up to {as_of}: the study file gives wave {wave} "
              "no fieldwork window (start and end).",
        "zh": "本报告描述截至 {as_of} 的全部投诉记录：研究文件没有为第 {wave} 期设定调查执行期间（start 和 end）。"},
        wave=wave, as_of=f"{log.as_of:%Y-%m-%d}"))
findings = report.Findings(title=i18n.text(lang, {"en": "Key figures", "zh": "主要结果"}))
# the tables name complaints "complaints" (not a base n) and the recovery groups "handling";
# every column and fixed word is labelled by the catalogue (csmlib.report.i18n)
AS_COMPLAINTS = {"count": "complaints", "n": "complaints"}


def show(frame, digits):
    """A table in the report's language (values escaped by report.table)."""
    display(run.table(frame, digits))


if not whole:
    display(i18n.md(lang, {
        "en": "The complaint log's own tables are in the whole-sample report; this report compares the "
              "respondents of *{segment}* by how their complaint was handled.",
        "zh": "投诉记录本身的表格见全样本报告；本报告比较 *{segment}* 的受访者在投诉处理方式上的差别。"},
        segment=run.title))

# %%
if whole and cut_short:
    findings.add(i18n.text(lang, {"en": "{n} complaints opened from {start} to {as_of}, the log's last day (wave "
                                        "{wave}'s window runs to {end}).",
                                  "zh": "{start}至{as_of}（投诉记录的最后一天；第{wave}期的执行期间至{end}）共受理投诉{n}条。"},
                           n=log.n, start=wave_start, as_of=last_day, end=wave_end, wave=wave))
elif whole and wave_end and reached:
    findings.add(i18n.text(lang, {"en": "{n} complaints opened from {start} to {end} (wave {wave}).",
                                  "zh": "{start}至{end}（第{wave}期）共受理投诉{n}条。"},
                           n=log.n, start=wave_start, end=wave_end, wave=wave))
elif whole and not wave_end:
    findings.add(i18n.text(lang, {"en": "{n} complaints in the whole log up to {date}.",
                                  "zh": "截至{date}，全部记录中共有投诉{n}条。"},
                           n=log.n, date=f"{log.as_of:%Y-%m-%d}"))
if whole and reached and log.n == 0:
    display(i18n.md(lang, {"en": "No complaint was opened in this window: the log's tables are left out.",
                           "zh": "该期间内没有受理任何投诉：不列出投诉记录的表格。"}))
whole = whole and log.n > 0   # the log's own tables: on the whole sample, with tickets to describe

# %%
if whole:
    display(i18n.md(lang, {"en": "## Volume", "zh": "## 投诉量"}))
    vol = csm.complaints.volume(history, period)
    trend = csm.complaints.volume_trend(history, period).iloc[0]
    record_frame("complaint_volume", vol[["period", "count", "complete"]])
    record("complaint_trend", trend["change_per_period"])
    if trend["periods"] >= 3:
        unit = {"en": {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"},
                "zh": {"D": "日", "W": "周", "M": "月", "Q": "季度", "Y": "年"}}[lang].get(period[:1].upper(), period)
        pct = 100 * trend["change_per_period"]
        interval = report.fmt_interval(100 * trend["ci_lower"], 100 * trend["ci_upper"], language=lang)
        said = dict(change=report.fmt_number(abs(pct)), unit=unit, interval=interval + "%" if interval else "",
                    k=int(trend["periods"]), p=report.fmt_p(trend["pvalue"]))
        if round(pct, 1) == 0:
            findings.add(i18n.text(lang, {
                "en": "Complaint volume is flat over {k} complete periods ({interval} a {unit}; {p}).",
                "zh": "在{k}个完整期间内，投诉量基本持平（每{unit}变化的{interval}；{p}）。"}, **said))
        elif pct > 0:
            findings.add(i18n.text(lang, {
                "en": "Complaint volume rises by {change}% a {unit} over {k} complete periods ({interval}; {p}).",
                "zh": "在{k}个完整期间内，投诉量平均每{unit}上升{change}%（{interval}；{p}）。"}, **said))
        else:
            findings.add(i18n.text(lang, {
                "en": "Complaint volume falls by {change}% a {unit} over {k} complete periods ({interval}; {p}).",
                "zh": "在{k}个完整期间内，投诉量平均每{unit}下降{change}%（{interval}；{p}）。"}, **said))
    show(vol[["period", "count", "complete"]].rename(columns=AS_COMPLAINTS), 0)

# %%
if whole:
    display(i18n.md(lang, {
        "en": "## What customers complain about (Pareto)\n\nCategories from the most frequent down; the "
              "highlighted bars are the \"vital few\" that together make up 80% of complaints.",
        "zh": "## 客户投诉什么（帕累托分析）\n\n类别按投诉数从多到少排列；突出显示的是合计占投诉80%的“关键少数”。"}))
    par = csm.complaints.pareto(log, "category", lang=lang)
    record_frame("complaint_pareto", par)
    vital = par.loc[par["vital_few"], "label"].tolist()
    findings.add(i18n.text(lang, {
        "en": "{k} of {m} categories make up 80% of complaints: {names}.",
        "zh": "{m}个类别中有{k}个合计占投诉的80%：{names}。"},
        k=len(vital), m=len(par), names=(", " if lang == "en" else "、").join(vital)))
    show(par.rename(columns=AS_COMPLAINTS), 3)
    fig = pareto_chart(par)
    fig.axes[0].set_ylabel(i18n.text(lang, {"en": "Complaints", "zh": "投诉数"}))
    fig.axes[1].set_ylabel(i18n.text(lang, {"en": "Cumulative share (%)", "zh": "累计占比（%）"}))
    display(fig)
    plt.close(fig)
    if log.tickets["channel"].notna().any():
        ch = csm.complaints.pareto(log, "channel", lang=lang)
        record_frame("complaint_channels", ch)
        show(ch.rename(columns=AS_COMPLAINTS), 3)

# %%
if whole:
    display(i18n.md(lang, {
        "en": "## Time to resolution\n\nHours from opening to closing. Tickets still open count as "
              "\"at least this long so far\" (Kaplan-Meier), so the median and the 90th percentile are "
              "not flattered by leaving them out.",
        "zh": "## 处理时长\n\n从受理到关闭的小时数。仍未关闭的工单按“至少已经这么久”计入（Kaplan-Meier 估计），"
              "因此中位数和第90百分位数不会因为略去这些工单而显得更好。"}))
    overall = csm.complaints.resolution(log).iloc[0]
    by_cat = csm.complaints.resolution(log, by="category")
    record("complaint_open", int(overall["open"]))
    record("complaint_median_hours", overall["median_hours"])
    record("complaint_p90_hours", overall["p90_hours"])
    record("complaint_within_sla", overall["within_sla_share"])
    record("complaint_reopen_rate", overall["reopen_rate"])
    record_frame("complaint_resolution", by_cat)
    findings.add(i18n.text(lang, {
        "en": "Half of complaints are resolved within {median} hours, 90% within {p90} hours; "
              "{sla}% within their SLA.",
        "zh": "一半的投诉在{median}小时内解决，90%在{p90}小时内解决；{sla}%在SLA时限内解决。"},
        median=report.fmt_number(overall["median_hours"]), p90=report.fmt_number(overall["p90_hours"]),
        sla=report.fmt_number(100 * overall["within_sla_share"])))
    findings.add(i18n.text(lang, {
        "en": "{open} complaints are still open ({late} past their SLA); {reopen}% were reopened.",
        "zh": "仍有{open}条投诉未关闭（其中{late}条已超过SLA）；{reopen}%的投诉被重新打开。"},
        open=int(overall["open"]), late=int(overall["open_over_sla"]),
        reopen=report.fmt_number(100 * overall["reopen_rate"])))
    show(by_cat.rename(columns=AS_COMPLAINTS), 2)

# %%
if whole:
    display(i18n.md(lang, {"en": "## Is the mix of complaints changing?", "zh": "## 投诉构成是否在变化？"}))
    cells = csm.complaints.category_by_period(history, change_period)
    change = csm.complaints.change_test(history, change_period)
    record_frame("complaint_change", change)
    show(cells.pivot(index="category", columns="period", values="count"), 0)
    show(change, 3)
    row = change.iloc[0]
    if row["df"] == row["df"]:
        if row["pvalue"] < 0.05:
            sentence = i18n.text(lang, {
                "en": "The mix of complaint categories changed significantly across {k} periods (chi-square {p}).",
                "zh": "在{k}个期间内，投诉类别的构成发生了显著变化（卡方检验 {p}）。"},
                k=int(row["periods"]), p=report.fmt_p(row["pvalue"]))
        else:
            sentence = i18n.text(lang, {
                "en": "The mix of complaint categories did not change significantly across {k} periods "
                      "(chi-square {p}).",
                "zh": "在{k}个期间内，投诉类别的构成没有显著变化（卡方检验 {p}）。"},
                k=int(row["periods"]), p=report.fmt_p(row["pvalue"]))
        findings.add(sentence)

# %%
display(i18n.md(lang, {
    "en": "## Service recovery: satisfaction by complaint handling\n\nRespondents of this wave whose "
          "customer id appears in the log, by how their (worst) complaint was handled, beside "
          "respondents without a complaint.",
    "zh": "## 服务补救：不同投诉处理方式下的满意度\n\n本期受访者中客户编号出现在投诉记录里的人，按其（最差的）"
          "投诉处理结果分组，并与未投诉的受访者比较。"}))
linkable = export.tickets["customer"].notna().any()
items = [i for i in recovery_items if i in run.survey.data.columns]
if not run.suppressed and linkable and items and history.n > 0:
    cid = customer_id_column or run.instrument.id_column
    # every ticket up to the window's end (a complaint of an earlier period can shape this wave's answers);
    # with the instrument's answer dates, only those opened before each respondent answered, as they stood then
    answered = run.instrument.date_column
    undated = bool(answered) and run.survey.data[answered].isna().all()   # declared, but empty in this file
    answered = None if undated else answered
    rec = csm.complaints.recovery(history, run.survey, customer_id=cid, outcomes=items, min_base=min_base,
                                  survey_date=answered)
    test = csm.complaints.recovery_test(history, run.survey, customer_id=cid, outcomes=items, min_base=min_base,
                                        survey_date=answered)
    if answered:
        display(i18n.md(lang, {
            "en": "Only complaints opened before the respondent answered count, each as it stood then (a "
                  "complaint resolved later was unresolved when they answered); respondents without an answer "
                  "date are left out.",
            "zh": "只计入受访者作答之前受理的投诉，并按作答时的处理状态归类（作答之后才解决的投诉视为作答时未解决）；"
                  "没有作答日期的受访者不纳入比较。"}))
    elif undated:
        display(i18n.md(lang, {
            "en": "The answer dates (column {column}) are empty in this wave's file, so every complaint in the log "
                  "up to {as_of} counts -- also complaints opened after the respondent answered, which cannot "
                  "have shaped the answer.",
            "zh": "本期数据文件中的作答日期（{column} 列）全部为空，因此截至 {as_of} 的所有投诉都计入——包括受访者作答之后"
                  "才受理、不可能影响其回答的投诉。"},
            column=run.instrument.date_column, as_of=f"{history.as_of:%Y-%m-%d}"))
    else:
        display(i18n.md(lang, {
            "en": "The survey has no answer dates (the instrument declares no date_column), so every complaint in "
                  "the log up to {as_of} counts -- also complaints opened after the respondent answered, which "
                  "cannot have shaped the answer.",
            "zh": "调查数据没有作答日期（问卷未设定 date_column），因此截至 {as_of} 的所有投诉都计入——包括受访者作答之后"
                  "才受理、不可能影响其回答的投诉。"}, as_of=f"{history.as_of:%Y-%m-%d}"))
    record_frame("recovery", rec)
    record_frame("recovery_test", test)
    show(rec.rename(columns={"group": "handling"}), 2)
    show(test, 3)
    for r in test.itertuples():
        if r.late_minus_within != r.late_minus_within:
            continue
        gap = dict(item=run.name(r.outcome), diff=report.fmt_number(abs(r.late_minus_within), 2),
                   interval=report.fmt_interval(r.late_ci_lower, r.late_ci_upper, digits=2, language=lang),
                   p=report.fmt_p(r.late_pvalue))
        if r.late_minus_within < 0:
            findings.add(i18n.text(lang, {
                "en": "{item}: complainers whose complaint was resolved late score {diff} points lower than those "
                      "resolved within SLA ({interval} for the difference; {p}).",
                "zh": "{item}：投诉超时解决的客户比在SLA内解决的客户低{diff}分（差值的{interval}；{p}）。"}, **gap))
        else:
            findings.add(i18n.text(lang, {
                "en": "{item}: complainers whose complaint was resolved late score {diff} points higher than those "
                      "resolved within SLA ({interval} for the difference; {p}).",
                "zh": "{item}：投诉超时解决的客户比在SLA内解决的客户高{diff}分（差值的{interval}；{p}）。"}, **gap))
elif not linkable:
    display(i18n.md(lang, {"en": "The complaint log has no customer ids, so it cannot be linked to the survey.",
                           "zh": "投诉记录中没有客户编号，无法与调查数据关联。"}))
elif history.n == 0 and not run.suppressed:
    display(i18n.md(lang, {"en": "No complaint in the log was opened by {end}: there is no complaint handling "
                                 "to compare.",
                           "zh": "截至 {end}，投诉记录中没有任何投诉：没有可比较的投诉处理。"},
                    end=f"{history.as_of:%Y-%m-%d}"))
elif not items and not run.suppressed:
    display(i18n.md(lang, {"en": "None of the items to compare ({items}) is in the survey.",
                           "zh": "调查数据中没有要比较的题目（{items}）。"}, items=", ".join(map(str, recovery_items))))

# %%
display(findings)
