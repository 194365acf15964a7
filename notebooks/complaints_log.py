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
#

# %% [markdown]
# # Complaint log
# The company's own complaint records: how many complaints arrive and whether
# that is rising, which categories make up most of them (the "vital few"), how
# fast they are resolved (tickets still open are taken into account), how often
# they are reopened, whether the mix of complaints is changing -- and, for
# customers who also answered the survey, how satisfaction and loyalty differ
# by how their complaint was handled.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display

import csmlib as csm
from csmlib import report
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
complaints_log_path: str = "../data/demo/complaints.csv"  # complaint (ticket) export, CSV or Excel
complaints_codebook_path: str = "../data/demo/complaints.yml"  # the log's codebook YAML
complaints_encoding: str = ""  # text encoding of the log ("" for UTF-8)
complaints_sheet: object = ""  # Excel sheet of the log ("" for the first sheet)
period: str = "M"  # period of the volume table: D, W, M, Q or Y
change_period: str = "Q"  # period of the test of change in the category mix
customer_id_column: str = ""  # survey column holding the customer ids of the log ("" for the id column of the instrument)
recovery_items: list = ["CUSA1", "CUSL1"]  # survey items compared by complaint handling
language: str = ""  # language of category and channel labels ("" for that of the codebook)

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value)
display(run.heading())
log = csm.complaints.read_log(complaints_log_path, complaints_codebook_path,
                              encoding=complaints_encoding or None,
                              sheet=None if complaints_sheet == "" else complaints_sheet)
whole = segment == "all"
lang = language or None
findings = report.Findings(title="Key figures")
if not whole:
    display(report.md("The complaint log's own tables are in the whole-sample report; this report "
                      "compares the respondents of *{segment}* by how their complaint was handled.",
                      segment=run.title))

# %% [markdown]
# ## Volume

# %%
if whole:
    vol = csm.complaints.volume(log, period)
    trend = csm.complaints.volume_trend(log, period).iloc[0]
    record("complaint_tickets", log.n)
    record_frame("complaint_volume", vol[["period", "count", "complete"]])
    record("complaint_trend", trend["change_per_period"])
    findings.add(f"{log.n} complaints in the log up to {log.as_of:%Y-%m-%d}.")
    if trend["periods"] >= 3:
        findings.add(
            f"Volume per period: {report.fmt_ci(100 * trend['change_per_period'], 100 * trend['ci_lower'], 100 * trend['ci_upper'])}% "
            f"change per period over {int(trend['periods'])} complete periods ({report.fmt_p(trend['pvalue'])}).")
    display(report.table(vol[["period", "count", "complete"]], 0))

# %% [markdown]
# ## What customers complain about (Pareto)
# Categories from the most frequent down; the highlighted bars are the "vital
# few" that together make up 80% of complaints.

# %%
if whole:
    par = csm.complaints.pareto(log, "category", lang=lang)
    record_frame("complaint_pareto", par)
    vital = par.loc[par["vital_few"], "label"].tolist()
    findings.add(f"{len(vital)} of {len(par)} categories make up 80% of complaints: {', '.join(vital)}.")
    display(report.table(par, 3))
    fig = pareto_chart(par)
    display(fig)
    plt.close(fig)
    if log.tickets["channel"].notna().any():
        ch = csm.complaints.pareto(log, "channel", lang=lang)
        record_frame("complaint_channels", ch)
        display(report.table(ch, 3))

# %% [markdown]
# ## Time to resolution
# Hours from opening to closing. Tickets still open count as "at least this
# long so far" (Kaplan-Meier), so the median and the 90th percentile are not
# flattered by leaving them out.

# %%
if whole:
    overall = csm.complaints.resolution(log).iloc[0]
    by_cat = csm.complaints.resolution(log, by="category")
    record("complaint_open", int(overall["open"]))
    record("complaint_median_hours", overall["median_hours"])
    record("complaint_p90_hours", overall["p90_hours"])
    record("complaint_within_sla", overall["within_sla_share"])
    record("complaint_reopen_rate", overall["reopen_rate"])
    record_frame("complaint_resolution", by_cat)
    findings.add(f"Half of complaints are resolved within {report.fmt_number(overall['median_hours'])} hours, "
                 f"90% within {report.fmt_number(overall['p90_hours'])} hours; "
                 f"{report.fmt_number(100 * overall['within_sla_share'])}% within their SLA.")
    findings.add(f"{int(overall['open'])} complaints are still open "
                 f"({int(overall['open_over_sla'])} past their SLA); "
                 f"{report.fmt_number(100 * overall['reopen_rate'])}% were reopened.")
    display(report.table(by_cat, 2))

# %% [markdown]
# ## Is the mix of complaints changing?

# %%
if whole:
    cells = csm.complaints.category_by_period(log, change_period)
    change = csm.complaints.change_test(log, change_period)
    record_frame("complaint_change", change)
    display(report.table(cells.pivot(index="category", columns="period", values="count"), 0))
    display(report.table(change, 3))
    row = change.iloc[0]
    if row["df"] == row["df"]:
        verdict = "changed significantly" if row["pvalue"] < 0.05 else "did not change significantly"
        findings.add(f"The mix of complaint categories {verdict} across {int(row['periods'])} periods "
                     f"(chi-square {report.fmt_p(row['pvalue'])}).")

# %% [markdown]
# ## Service recovery: satisfaction by complaint handling
# Respondents of this wave whose customer id appears in the log, by how their
# (worst) complaint was handled, beside respondents without a complaint.

# %%
linkable = log.tickets["customer"].notna().any()
items = [i for i in recovery_items if i in run.survey.data.columns]
if not run.suppressed and linkable and items:
    cid = customer_id_column or run.instrument.id_column
    rec = csm.complaints.recovery(log, run.survey, customer_id=cid, outcomes=items, min_base=min_base)
    test = csm.complaints.recovery_test(log, run.survey, customer_id=cid, outcomes=items, min_base=min_base)
    record_frame("recovery", rec)
    record_frame("recovery_test", test)
    display(report.table(rec, 2))
    display(report.table(test, 3))
    for r in test.itertuples():
        if r.late_minus_within == r.late_minus_within:
            findings.add(f"{r.outcome}: complainers resolved late score "
                         f"{report.fmt_ci(r.late_minus_within, r.late_ci_lower, r.late_ci_upper, digits=2)} "
                         f"points against those resolved within SLA ({report.fmt_p(r.late_pvalue)}).")
elif not linkable:
    display(report.md("The complaint log has no customer ids, so it cannot be linked to the survey."))

# %%
findings
