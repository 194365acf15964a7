"""The complaints_log notebook: it records what csm.complaints computes on
the demo study's complaint log, shows no personal data from the log, and is
run by ``csm run`` from the study file's ``complaints:`` block."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

import csmlib as csm
from csmlib.report.htmlexport import notebook_to_html
from csmlib.report.record import read_results, results_frame

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("complaints_nb")
    out, results = tmp / "complaints_log.ipynb", tmp / "complaints_log.results.json"
    pm.execute_notebook(str(ROOT / "notebooks" / "complaints_log.ipynb"), str(out), kernel_name="csm",
                        cwd=str(ROOT / "notebooks"), progress_bar=False,
                        parameters={"results_path": str(results), "data_path": str(DEMO / "wave2.csv"),
                                    "instrument_path": str(DEMO / "instrument.yml"), "wave": "2026Q2",
                                    "complaints_log_path": str(DEMO / "complaints.csv"),
                                    "complaints_codebook_path": str(DEMO / "complaints.yml")})
    return read_results(results), out, results


def test_records_what_the_library_computes(executed):
    values, _, _ = executed
    log = csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml")
    v = values["values"]
    assert v["complaint_tickets"] == log.n
    overall = csm.complaints.resolution(log).iloc[0]
    assert v["complaint_median_hours"] == pytest.approx(overall["median_hours"])
    assert v["complaint_within_sla"] == pytest.approx(overall["within_sla_share"])
    assert v["complaint_open"] == overall["open"]
    pd.testing.assert_frame_equal(results_frame(values, "complaint_pareto"), csm.complaints.pareto(log),
                                  check_dtype=False)
    survey = csm.read_survey(DEMO / "wave2.csv", csm.Instrument.from_yaml(DEMO / "instrument.yml"))
    rec = csm.complaints.recovery(log, survey, "respondent_id", ["CUSA1", "CUSL1"], min_base=30)
    got = results_frame(values, "recovery")
    pd.testing.assert_frame_equal(got[["outcome", "group", "n"]], rec[["outcome", "group", "n"]],
                                  check_dtype=False, check_categorical=False)
    test = results_frame(values, "recovery_test").set_index("outcome")
    assert test.loc["CUSL1", "late_minus_within"] < 0 and test.loc["CUSL1", "late_pvalue"] < 0.05


def test_no_personal_data_from_the_log_in_the_report_or_results(executed):
    _, out, results = executed
    raw = pd.read_csv(DEMO / "complaints.csv", dtype=str, keep_default_na=False)
    pii = set(raw["customer_name"])
    for text in raw["description"]:
        pii |= set(re.findall(r"\+44 20 7946 \d{4}|138\d{8}|\S+@example\.com|\d{17}[\dX]", text))
    assert len(pii) > 50
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    for where, text in (("html", html), ("results", results.read_text(encoding="utf-8"))):
        hits = [p for p in pii if p in text]
        assert not hits, (where, hits[:3])
    assert "open_run(" not in html


def test_the_report_reads_in_chinese(tmp_path):
    out = tmp_path / "zh.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "complaints_log.ipynb"), str(out), kernel_name="csm",
                        cwd=str(ROOT / "notebooks"), progress_bar=False,
                        parameters={"results_path": str(tmp_path / "zh.results.json"), "language": "zh",
                                    "data_path": str(DEMO / "wave1.csv"),
                                    "instrument_path": str(DEMO / "instrument.yml"),
                                    "complaints_log_path": str(DEMO / "complaints.csv"),
                                    "complaints_codebook_path": str(DEMO / "complaints.yml")})
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    for text in ("投诉记录", "帕累托", "处理时长", "服务补救", "账单", "主要结果", "中位处理时长"):
        assert text in html, text
    assert "Time to resolution" not in html and "Key figures" not in html
    # intervals in Chinese, and the trend as a change a month with its interval in percent
    assert "95% CI" not in html and "% 置信区间" in html
    # the recovery gap: lower or higher by so many points, the interval of the difference beside it
    assert re.search(r"投诉超时解决的客户比在SLA内解决的客户[低高]\d+\.\d\d分（差值的95% 置信区间 ", html)
    assert re.search(r"投诉量(平均每月(上升|下降)\d+\.\d%|基本持平)（95% 置信区间 -?\d+\.\d\u2013-?\d+\.\d%；p", html)


def test_without_a_window_the_report_says_it_describes_the_whole_log(executed):
    values, out, _ = executed
    log = csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml")
    assert values["values"]["complaint_from"] == ""
    assert values["values"]["complaint_as_of"] == f"{log.as_of:%Y-%m-%d}"
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    assert f"describes the whole complaint log up to {log.as_of:%Y-%m-%d}" in html
    assert "The survey has no answer dates (the instrument declares no date_column)" in html


def _second_quarter(tmp_path, data, instrument):
    """The notebook on 2026Q2 with its fieldwork window: (results, executed notebook)."""
    out, results = tmp_path / "q2.ipynb", tmp_path / "q2.results.json"
    pm.execute_notebook(str(ROOT / "notebooks" / "complaints_log.ipynb"), str(out), kernel_name="csm",
                        cwd=str(ROOT / "notebooks"), progress_bar=False,
                        parameters={"results_path": str(results), "data_path": str(data),
                                    "instrument_path": str(instrument), "wave": "2026Q2",
                                    "wave_start": "2026-04-01", "wave_end": "2026-06-30",
                                    "complaints_log_path": str(DEMO / "complaints.csv"),
                                    "complaints_codebook_path": str(DEMO / "complaints.yml")})
    return read_results(results), out

def test_a_wave_window_cuts_the_log_to_the_wave(tmp_path):
    """2026Q2's window: its tickets counted from the raw export, as the log stood
    on 30 June; the volume trend over January to June."""
    v, out = _second_quarter(tmp_path, DEMO / "wave2.csv", DEMO / "instrument.yml")
    raw = pd.read_csv(DEMO / "complaints.csv", dtype=str, keep_default_na=False)
    opened, closed = pd.to_datetime(raw["opened"]), pd.to_datetime(raw["closed"].replace("", None))
    inside = (opened >= "2026-04-01") & (opened < "2026-07-01")
    assert v["values"]["complaint_tickets"] == int(inside.sum()) > 0
    assert v["values"]["complaint_from"] == "2026-04-01" and v["values"]["complaint_as_of"] == "2026-06-30"
    open_then = inside & (closed.isna() | (closed >= "2026-07-01"))
    assert v["values"]["complaint_open"] == int(open_then.sum())
    pareto = results_frame(v, "complaint_pareto")
    assert dict(zip(pareto["category"], pareto["count"])) == raw.loc[inside, "category"].value_counts().to_dict()
    volume = results_frame(v, "complaint_volume")
    assert volume["period"].tolist() == [f"2026-0{m}" for m in range(1, 7)]
    before_july = opened < "2026-07-01"
    assert volume["count"].sum() == int(before_july.sum())
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    assert "fieldwork window, 2026-04-01 to 2026-06-30" in html


def test_with_answer_dates_only_earlier_complaints_count(tmp_path):
    """An instrument with a date_column: the recovery comparison counts only the
    complaints opened before each respondent answered, and says so."""
    import yaml

    inst = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    inst["date_column"] = "answered"
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    wave = pd.read_csv(DEMO / "wave2.csv", dtype=str, keep_default_na=False)
    wave["answered"] = ["2026-05-%02d 12:00" % (1 + i % 31) for i in range(len(wave))]
    wave.to_csv(tmp_path / "wave2.csv", index=False)
    v, out = _second_quarter(tmp_path, tmp_path / "wave2.csv", tmp_path / "instrument.yml")
    survey = csm.read_survey(tmp_path / "wave2.csv", csm.Instrument.from_yaml(tmp_path / "instrument.yml"))
    log = csm.complaints.between(csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml"),
                                 end="2026-06-30")
    dated = csm.complaints.recovery(log, survey, "respondent_id", ["CUSA1", "CUSL1"], min_base=30,
                                    survey_date="answered")
    undated = csm.complaints.recovery(log, survey, "respondent_id", ["CUSA1", "CUSL1"], min_base=30)
    got = results_frame(v, "recovery")
    pd.testing.assert_frame_equal(got[["outcome", "group", "n"]], dated[["outcome", "group", "n"]],
                                  check_dtype=False, check_categorical=False)
    assert got["n"].tolist() != undated["n"].tolist()   # the rule changed who counts as a complainer
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    assert "Only complaints opened before the respondent answered count" in html


def _window(tmp_path, start, end, name):
    """The notebook on wave2's answers with the fieldwork window start..end: (results, html)."""
    out, results = tmp_path / f"{name}.ipynb", tmp_path / f"{name}.results.json"
    pm.execute_notebook(str(ROOT / "notebooks" / "complaints_log.ipynb"), str(out), kernel_name="csm",
                        cwd=str(ROOT / "notebooks"), progress_bar=False,
                        parameters={"results_path": str(results), "data_path": str(DEMO / "wave2.csv"),
                                    "instrument_path": str(DEMO / "instrument.yml"), "wave": "W",
                                    "wave_start": start, "wave_end": end,
                                    "complaints_log_path": str(DEMO / "complaints.csv"),
                                    "complaints_codebook_path": str(DEMO / "complaints.yml")})
    return read_results(results)["values"], notebook_to_html(out.read_text(encoding="utf-8"))


def test_a_window_the_log_does_not_reach_is_not_reported_as_without_complaints(tmp_path):
    """The demo log ends on 2026-09-27.  A window after it: the report said 'No complaint
    was opened in this window' and recorded 0 tickets (unknown, not none).  A window the
    log ends inside: the count is of the days the log covers, and the report says so.
    A window before the log: the recovery section said nothing at all."""
    log = csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml")
    assert f"{log.as_of:%Y-%m-%d}" == "2026-09-27"
    v, html = _window(tmp_path, "2026-10-01", "2026-12-31", "after")
    assert "complaint_tickets" not in v and "complaint_open" not in v
    assert "No complaint was opened in this window" not in html and "0 complaints opened" not in html
    assert "The complaint log ends on 2026-09-27, before wave W's fieldwork window starts (2026-10-01)" in html
    v, html = _window(tmp_path, "2026-09-01", "2026-09-30", "inside")
    opened = pd.to_datetime(pd.read_csv(DEMO / "complaints.csv", dtype=str)["opened"])
    assert v["complaint_tickets"] == int((opened >= "2026-09-01").sum()) > 0
    assert v["complaint_as_of"] == "2026-09-27"
    assert "complaints opened from 2026-09-01 to 2026-09-27, the log's last day" in html
    v, html = _window(tmp_path, "2025-01-01", "2025-03-31", "before")
    assert v["complaint_tickets"] == 0 and "No complaint was opened in this window" in html
    assert "No complaint in the log was opened by 2025-03-31: there is no complaint handling to compare" in html


def test_an_answer_date_column_left_empty_counts_every_complaint_and_says_so(tmp_path):
    """The instrument declares date_column, but the wave's file has no dates in it: the
    report still compares (every complaint counts) and says why, rather than failing."""
    import yaml

    inst = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    inst["date_column"] = "answered"
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    wave = pd.read_csv(DEMO / "wave2.csv", dtype=str, keep_default_na=False).assign(answered="")
    wave.to_csv(tmp_path / "wave2.csv", index=False)
    v, out = _second_quarter(tmp_path, tmp_path / "wave2.csv", tmp_path / "instrument.yml")
    survey = csm.read_survey(tmp_path / "wave2.csv", csm.Instrument.from_yaml(tmp_path / "instrument.yml"))
    log = csm.complaints.between(csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml"),
                                 end="2026-06-30")
    undated = csm.complaints.recovery(log, survey, "respondent_id", ["CUSA1", "CUSL1"], min_base=30)
    pd.testing.assert_frame_equal(results_frame(v, "recovery")[["outcome", "group", "n"]],
                                  undated[["outcome", "group", "n"]], check_dtype=False, check_categorical=False)
    html = notebook_to_html(out.read_text(encoding="utf-8"))
    assert "The answer dates (column answered) are empty in this wave's file" in html
