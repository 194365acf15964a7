"""The deliverables of a study run -- the scorecard (CSV and workbook), each
wave's deck and the summary's split value columns -- through the real
collector on recorded results written as a run writes them; the tests open
the workbook (openpyxl) and the deck (python-pptx) and check their numbers
against the recorded results."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose

from csmlib.run.batch import collect_summary, plan_runs
from csmlib.run.study import load_study

INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
              "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")
W1 = "id,region,x\n1,North,1\n2,North,2\n3,North,3\n4,=cmd,5\n5,=cmd,4\n6,=cmd,6\n"
W2 = "id,region,x\n1,North,2\n2,North,2\n3,North,7\n4,=cmd,5\n5,=cmd,3\n"

#: recorded index per (wave, segment): index, se, change, change_pvalue
INDEX = {("w1", "all"): (70.0, 0.5, None, None), ("w1", "North"): (68.0, 0.9, None, None),
         ("w1", "=cmd"): (72.0, 0.8, None, None),
         ("w2", "all"): (73.5, 0.5, 3.5, 0.0004), ("w2", "North"): (71.0, 0.9, 3.0, 0.02)}


def _frame(df: pd.DataFrame) -> dict:
    return {"columns": list(df.columns), "data": df.to_numpy().tolist()}


def _results(wave: str, segment: str, notebook: str) -> dict:
    if notebook == "index_drivers":
        idx, se, change, p = INDEX[(wave, segment)]
        values = {"n": 3, "index": idx, "index_se": se, "index_ci_lower": idx - 1.96 * se,
                  "index_ci_upper": idx + 1.96 * se}
        if change is not None:
            values.update(change=change, change_pvalue=p)
        ipma = pd.DataFrame({"construct": ["S", "=evil"], "importance": [0.5, 0.2],
                             "performance": [70.0, 60.0], "priority": [15.0, 8.0], "rank": [1, 2],
                             "quadrant": ["keep up", "concentrate here"]})
        return {"schema": 1, "values": values, "frames": {"ipma": _frame(ipma)}}
    if notebook == "complaints_loyalty":
        k = 1 if wave == "w1" else 2
        nps = pd.DataFrame({"nps": [10.0 * k], "ci_lower": [-5.0 + k], "ci_upper": [25.0 + k]})
        tb = pd.DataFrame({"top_box": [0.3 + k / 100], "ci_lower": [0.2], "ci_upper": [0.4]})
        cr = pd.DataFrame({"rate": [0.1 * k], "ci_lower": [0.05], "ci_upper": [0.2 + k / 10]})
        return {"schema": 1, "values": {"n": 3, "nps": 10.0 * k, "top2_box": 0.3 + k / 100,
                                        "complaint_rate": 0.1 * k},
                "frames": {"nps_detail": _frame(nps), "top_box": _frame(tb),
                           "complaint_rate_detail": _frame(cr)}}
    trend = pd.DataFrame({"wave": ["w1", "w2"], "index": [70.0, 73.5], "se": [0.5, 0.5],
                          "ci_lower": [69.0, 72.5], "ci_upper": [71.0, 74.5]})
    seg = pd.DataFrame({"segment": ["North"], "est": [71.0], "se": [0.9], "n": [3], "rank": [1],
                        "diff": [-2.5], "pvalue": [0.02], "pvalue_adj": [0.02], "verdict": ["below"]})
    idx, se = INDEX[(wave, "all")][:2]
    return {"schema": 1, "values": {"index": idx, "index_ci_lower": idx - 1.96 * se,
                                    "index_ci_upper": idx + 1.96 * se, "ok": True,
                                    "estimation_notes": ["PLS: 3 missing answer(s) replaced"]},
            "frames": {"trend": _frame(trend), "segments": _frame(seg)}}


@pytest.fixture
def collected(tmp_path: Path):
    return _collect(tmp_path)


def _collect(tmp_path: Path, **study_keys) -> Path:
    (tmp_path / "w1.csv").write_text(W1)
    (tmp_path / "w2.csv").write_text(W2)
    (tmp_path / "instrument.yml").write_text(INSTRUMENT)
    doc = {"name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
           "waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}],
           "segments": {"column": "region"},
           "notebooks": ["index_drivers", "complaints_loyalty", "study_report"],
           "min_base": 3, "output": str(tmp_path / "runs"), **study_keys}
    (tmp_path / "study.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    study = load_study(tmp_path / "study.yml")
    for run in plan_runs(study):
        run.out_dir.mkdir(parents=True, exist_ok=True)
        if run.suppressed:
            run.record_path.write_text(json.dumps({"status": "suppressed"}))
            continue
        run.results_path.write_text(json.dumps(_results(run.wave, run.segment, run.notebook)))
        run.record_path.write_text(json.dumps({"status": "success"}))
    collect_summary(study)
    return study.run_dir


def test_scorecard_csv_has_one_row_per_wave_and_segment_with_the_recorded_numbers(collected):
    card = pd.read_csv(collected / "scorecard.csv", keep_default_na=False, na_values=[""])
    assert list(zip(card["wave"], card["segment"])) == [
        ("w1", "all"), ("w1", "'=cmd"), ("w1", "North"),   # text from data neutralised
        ("w2", "all"), ("w2", "'=cmd"), ("w2", "North")]
    card = card.set_index(["wave", "segment"])
    assert card.loc[("w2", "'=cmd"), "suppressed"] and card.loc[("w2", "'=cmd"), "base"] == 2
    assert np.isnan(card.loc[("w2", "'=cmd"), "index"])
    for (wave, seg), (idx, se, change, p) in INDEX.items():
        row = card.loc[(wave, seg.replace("=", "'="))]
        assert row["base"] == (3 if seg != "all" else {"w1": 6, "w2": 5}[wave]) and not row["suppressed"]
        assert_allclose([row["index"], row["index_ci_lower"], row["index_ci_upper"]],
                        [idx, idx - 1.96 * se, idx + 1.96 * se])
        if change is None:
            assert np.isnan(row["change"]) and pd.isna(row["change_flag"])
        else:
            assert row["change"] == change and row["change_pvalue"] == p
    # the whole sample is a family of one; North's change is adjusted over the
    # wave's tested segments (one here: the other is suppressed)
    assert card.loc[("w2", "all"), "change_pvalue_adj"] == 0.0004
    assert card.loc[("w2", "all"), "change_flag"] == "up"
    assert card.loc[("w2", "North"), "change_flag"] == "up"
    w2 = card.loc[("w2", "North")]
    assert_allclose([w2["nps"], w2["nps_ci_lower"], w2["nps_ci_upper"]], [20.0, -3.0, 27.0])
    assert_allclose([w2["top2_box"], w2["complaint_rate"], w2["complaint_rate_ci_upper"]], [0.32, 0.2, 0.4])


def test_scorecard_flags_on_the_adjusted_p():
    from csmlib.report.scorecard import scorecard

    def entry(seg, change, p):
        return {"wave": "b", "segment": seg, "notebook": "index_drivers", "status": "success", "n": 100,
                "values": {"index": 70.0, "change": change, "change_pvalue": p}, "frames": {}}

    entries = [entry("all", 1.0, 0.03), entry("A", 2.0, 0.03), entry("B", -2.0, 0.02),
               entry("C", 0.5, 0.6)]
    holm = scorecard(entries, waves=["a", "b"]).set_index("segment")
    assert holm.loc["all", "change_flag"] == "up"                    # a family of one
    assert_allclose(holm.loc[["A", "B", "C"], "change_pvalue_adj"], [0.06, 0.06, 0.6])
    assert (holm.loc[["A", "B", "C"], "change_flag"] == "no change").all()
    raw = scorecard(entries, waves=["a", "b"], multiplicity="none").set_index("segment")
    assert list(raw.loc[["A", "B", "C"], "change_flag"]) == ["up", "down", "no change"]


def test_workbook_sheets_formats_and_numbers_match_the_recorded_results(collected):
    import openpyxl

    wb = openpyxl.load_workbook(collected / "scorecard.xlsx")
    assert wb.sheetnames == ["Scorecard", "Index trend", "Segments", "Drivers"]
    ws = wb["Scorecard"]
    head = [c.value for c in ws[1]]
    assert head[:5] == ["Wave", "Segment", "Base (n)", "Suppressed", "Index (0-100)"]
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref
    rows = {(r[0], r[1]): dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[("w2", "all")]["Index (0-100)"] == 73.5
    assert rows[("w2", "North")]["NPS"] == 20.0
    assert rows[("w1", "'=cmd")]["Index (0-100)"] == 72.0      # no formula from data
    assert rows[("w2", "'=cmd")]["Suppressed"] is True and rows[("w2", "'=cmd")]["Index (0-100)"] is None
    col = {h: i + 1 for i, h in enumerate(head)}
    r_up = 2 + list(rows).index(("w2", "all"))
    r_first = 2
    assert ws.cell(r_up, col["Index (0-100)"]).number_format == "0.0"
    assert ws.cell(r_up, col["Top-2 box"]).number_format == "0.0%"
    assert ws.cell(r_up, col["p (change)"]).number_format == "0.000"
    assert ws.cell(r_up, col["Change since last wave"]).fill.fgColor.rgb.endswith("C6EFCE")
    assert ws.cell(r_first, col["Change since last wave"]).fill.fill_type is None
    for sheet in wb:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v.startswith("=") for v in row)
    drivers = list(wb["Drivers"].iter_rows(values_only=True))
    assert drivers[0][:3] == ("Driver", "Importance (total effect)", "Performance (0-100)")
    assert drivers[1][:3] == ("S", 0.5, 70.0) and drivers[2][0] == "'=evil"
    trend = list(wb["Index trend"].iter_rows(values_only=True))
    assert [r[1] for r in trend[1:]] == [70.0, 73.5]
    assert list(wb["Segments"].iter_rows(values_only=True))[1][0] == "North"


def test_summary_keeps_numbers_and_texts_in_separate_columns(collected):
    summary = pd.read_csv(collected / "summary.csv")
    assert list(summary.columns) == ["study", "wave", "segment", "notebook", "key",
                                     "value_number", "value_text"]
    assert summary["value_number"].dtype == float
    rep = summary[(summary["notebook"] == "study_report") & (summary["wave"] == "w2")].set_index("key")
    assert rep.loc["index", "value_number"] == 73.5 and pd.isna(rep.loc["index", "value_text"])
    assert rep.loc["ok", "value_text"] == "True" and pd.isna(rep.loc["ok", "value_number"])


def _slides(path: Path) -> list[dict]:
    from pptx import Presentation

    out = []
    for slide in Presentation(str(path)).slides:
        shapes = list(slide.shapes)
        out.append({
            "title": slide.shapes.title.text,
            "text": " ".join(sh.text_frame.text for sh in shapes
                             if sh.has_text_frame and sh != slide.shapes.title),
            "tables": [[[c.text for c in r.cells] for r in sh.table.rows] for sh in shapes if sh.has_table],
            "pictures": [sh for sh in shapes if sh.shape_type == 13],
        })
    return out


def test_deck_per_wave_with_native_tables_and_charts_from_the_recorded_results(collected):
    from csmlib.report.deck import CHART_DPI

    assert (collected / "w1" / "report.pptx").is_file()
    slides = _slides(collected / "w2" / "report.pptx")
    assert [s["title"] for s in slides] == [
        "smoke: customer satisfaction, w2", "Key findings", "Index over time", "Segments",
        "Drivers of Loyalty", "Improvement priorities", "How the numbers were estimated"]
    assert "Base: 5 respondents" in slides[0]["text"]
    key = slides[1]["text"]
    assert "Satisfaction index 73.5 (95% CI 72.5\u201374.5), up 3.5 points" in key
    assert "Net Promoter Score 20.0" in key and "Complaint rate 20.0" in key
    assert "Improve first: S: importance 0.50" in key
    assert "North below" in key   # the recorded league table's verdict
    # index trend: a chart image at slide resolution beside the native table of the recorded trend
    (trend,) = slides[2]["tables"]
    assert trend[0] == ["Wave", "Index", "95% interval", "Change", "p (change)"]
    assert [r[:3] for r in trend[1:]] == [["w1", "70.0", "69.0\u201371.0"], ["w2", "73.5", "72.5\u201374.5"]]
    assert trend[2][3] == "+3.5"
    (pic,) = slides[2]["pictures"]
    px_w, _ = pic.image.size
    assert px_w == pytest.approx(pic.width / 914400 * CHART_DPI, abs=2)   # EMU per inch
    # segments: the recorded league table, raw and adjusted p
    (league,) = slides[3]["tables"]
    assert league[0][:4] == ["Rank", "Segment", "Base (n)", "Index"]
    assert league[1] == ["1", "North", "3", "71.0", "-2.5", "0.020", "0.020", "below"]
    assert len(slides[3]["pictures"]) == 1 and len(slides[4]["pictures"]) == 1
    for k in (2, 3, 4):   # every chart says its source (the image its base and wave)
        assert "Source: the recorded results of the study smoke, wave w2" in slides[k]["text"]
    (prio,) = slides[5]["tables"]
    assert prio[1][:4] == ["1", "S", "0.50", "70.0"] and prio[2][1] == "=evil"
    method = slides[6]["text"]
    assert "Holm" in method and "bases below 3 are suppressed" in method
    assert "Note: PLS: 3 missing answer(s) replaced" in method


def test_segment_chart_draws_the_league_table_with_normal_intervals():
    from scipy import stats

    from csmlib.report import plots

    league = pd.DataFrame({"segment": ["A", "B", "C"], "est": [75.0, 71.0, np.nan],
                           "se": [1.0, 2.0, np.nan], "verdict": ["above", "not different", ""]})
    fig = plots.segment_chart(league, reference=72.0, base=600, wave="2026Q3")
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "600" in texts and "2026Q3" in texts   # the chart states its base and wave
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B"]   # C suppressed
    (bars,) = [c for c in ax.containers if hasattr(c, "lines")]
    segs = bars.lines[2][0].get_segments()
    z = stats.norm.ppf(0.975)
    assert_allclose([s[:, 0] for s in segs], [[75 - z, 75 + z], [71 - 2 * z, 71 + 2 * z]])
    assert any(len(line.get_xdata()) and line.get_xdata()[0] == 72.0 for line in ax.get_lines())
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_share_changes_are_tested_against_the_segments_previous_wave(collected):
    from csmlib.analysis.metrics import compare_shares

    card = pd.read_csv(collected / "scorecard.csv").set_index(["wave", "segment"])
    # recorded: w1 complaint rate 0.1, w2 0.2; top-2 box 0.31 and 0.32; no n_eff recorded here
    assert np.isnan(card.loc[("w2", "North"), "complaint_rate_change"])
    from csmlib.report.scorecard import scorecard

    def entry(wave, seg, rate, n_eff):
        frame = {"columns": ["rate", "ci_lower", "ci_upper", "n_eff"], "data": [[rate, 0.0, 1.0, n_eff]]}
        return {"wave": wave, "segment": seg, "notebook": "complaints_loyalty", "status": "success",
                "n": 300, "values": {}, "frames": {"complaint_rate_detail": frame}}

    entries = [entry("a", "all", 0.20, 600.0), entry("a", "N", 0.20, 300.0), entry("a", "S", 0.2, 300.0),
               entry("b", "all", 0.26, 590.0), entry("b", "N", 0.29, 280.0), entry("b", "S", 0.2, 290.0)]
    out = scorecard(entries, waves=["a", "b"]).set_index(["wave", "segment"])
    ref = compare_shares(0.20, 300.0, 0.29, 280.0)
    assert_allclose(out.loc[("b", "N"), ["complaint_rate_change", "complaint_rate_change_pvalue"]].to_numpy(float),
                    [ref["diff"], ref["pvalue"]])
    p_s = compare_shares(0.2, 300.0, 0.2, 290.0)["pvalue"]
    from statsmodels.stats.multitest import multipletests
    assert_allclose(out.loc[[("b", "N"), ("b", "S")], "complaint_rate_change_pvalue_adj"],
                    multipletests([ref["pvalue"], p_s], method="holm")[1])
    assert out.loc[("b", "all"), "complaint_rate_change_flag"] == "up"
    assert out.loc[("a", "all"), "complaint_rate_change_flag"] == ""


def test_workbook_colours_a_rising_complaint_rate_red(tmp_path):
    import openpyxl

    from csmlib.report.scorecard import SCORECARD_COLUMNS, scorecard_workbook

    card = pd.DataFrame([{c: np.nan for c in SCORECARD_COLUMNS}])
    card = card.assign(wave="b", segment="all", change=2.0, change_flag="up", complaint_rate_change=0.05,
                       complaint_rate_change_flag="up", top2_box_change_flag="", change_pvalue_adj=0.01)
    ws = openpyxl.load_workbook(__import__("io").BytesIO(scorecard_workbook(card, {})))["Scorecard"]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("Change since last wave") + 1).fill.fgColor.rgb.endswith("C6EFCE")
    assert ws.cell(2, head.index("Complaint rate change") + 1).fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(2, head.index("p (complaint rate change)") + 1).number_format == "0.000"


@pytest.mark.notebooks
def test_demo_study_deliverables_equal_the_recorded_results(tmp_path):
    """A real run (two waves of the demo study, both regions, the notebooks the
    deliverables read): the workbook and the last wave's deck show the numbers
    the runs recorded (summary.json)."""
    import shutil

    import openpyxl

    from csmlib.run.batch import run_study

    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    for k in (1, 2):   # 160 respondents a wave, 80 per region
        raw = pd.read_csv(demo / f"wave{k}.csv")
        raw.groupby("region").head(80).to_csv(tmp_path / f"wave{k}.csv", index=False)
    shutil.copy(demo / "instrument.yml", tmp_path / "instrument.yml")
    doc = {"name": "mini", "instrument": "instrument.yml", "model": "acsi",
           "waves": [{"name": "2026Q1", "data": "wave1.csv"}, {"name": "2026Q2", "data": "wave2.csv"}],
           "segments": {"column": "region"},
           "notebooks": ["index_drivers", "complaints_loyalty", "study_report"],
           "parameters": {"n_boot": 100, "seed": 5}, "min_base": 30, "multiplicity": "fdr_bh",
           "output": str(tmp_path / "runs")}
    (tmp_path / "study.yml").write_text(yaml.safe_dump(doc))
    out = run_study(tmp_path / "study.yml", jobs=2)
    assert out.ok, out.table
    root = tmp_path / "runs" / "mini"
    runs = json.loads((root / "summary.json").read_text())["runs"]
    rec = {(r["wave"], r["segment"], r["notebook"]): r for r in runs}

    ws = openpyxl.load_workbook(root / "scorecard.xlsx")["Scorecard"]
    head = [c.value for c in ws[1]]
    rows = {(r[0], r[1]): dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {(w, s) for w in ("2026Q1", "2026Q2") for s in ("all", "North", "South")}
    for (wave, seg), row in rows.items():
        idx = rec[(wave, seg, "index_drivers")]["values"]
        assert row["Index (0-100)"] == pytest.approx(idx["index"], rel=1e-12)
        assert row["Index 95% lower"] == pytest.approx(idx["index_ci_lower"], rel=1e-12)
        assert row["Base (n)"] == idx["n"] == (160 if seg == "all" else 80)
        cl = rec[(wave, seg, "complaints_loyalty")]["values"]
        assert row["NPS"] == pytest.approx(cl["nps"], rel=1e-12)
        assert row["Top-2 box"] == pytest.approx(cl["top2_box"], rel=1e-12)
        assert row["Complaint rate"] == pytest.approx(cl["complaint_rate"], rel=1e-12)
        if wave == "2026Q2":
            assert row["Change since last wave"] == pytest.approx(idx["change"], rel=1e-12)
            assert row["p (change)"] == pytest.approx(idx["change_pvalue"], rel=1e-12)
    seg_sheet = list(openpyxl.load_workbook(root / "scorecard.xlsx")["Segments"].iter_rows(values_only=True))
    league = rec[("2026Q2", "all", "study_report")]["frames"]["segments"]
    assert len(seg_sheet) == 1 + len(league["data"])

    slides = _slides(root / "2026Q2" / "report.pptx")
    assert len(slides) == 7 and (root / "2026Q1" / "report.pptx").is_file()
    rep = rec[("2026Q2", "all", "study_report")]["values"]
    assert f"Satisfaction index {rep['index']:.1f}" in slides[1]["text"]
    (trend,) = slides[2]["tables"]
    got = {r[0]: float(r[1]) for r in trend[1:]}
    assert got == pytest.approx({w: round(rec[(w, "all", "study_report")]["values"]["index"], 1)
                                 for w in ("2026Q1", "2026Q2")}, abs=1e-9)
    (tab,) = slides[3]["tables"]
    lg = pd.DataFrame(league["data"], columns=league["columns"])
    assert [r[1] for r in tab[1:]] == lg["segment"].tolist()
    assert [float(r[3]) for r in tab[1:]] == pytest.approx(lg["est"].round(1).tolist(), abs=1e-9)
    assert [r[7] for r in tab[1:]] == lg["verdict"].tolist()
    assert "Benjamini-Hochberg" in slides[6]["text"]
    (prio,) = slides[5]["tables"]
    ipma = rec[("2026Q2", "all", "index_drivers")]["frames"]["ipma"]
    ipma = pd.DataFrame(ipma["data"], columns=ipma["columns"]).sort_values("rank")
    assert [r[1] for r in prio[1:]] == ipma["construct"].tolist()


def test_deck_and_workbook_follow_the_study_language(tmp_path):
    """language: zh -- headings, sheet names, slide titles, sentences and
    recorded categories in Chinese; the numbers stay the recorded ones."""
    import openpyxl

    root = _collect(tmp_path, language="zh")
    wb = openpyxl.load_workbook(root / "scorecard.xlsx")
    assert wb.sheetnames == ["计分卡", "指数趋势", "细分群体", "驱动因素"]
    head = [c.value for c in wb["计分卡"][1]]
    assert head[:5] == ["调查期", "细分群体", "样本量", "不予报告", "指数（0-100）"]
    rows = {(r[0], r[1]): dict(zip(head, r)) for r in wb["计分卡"].iter_rows(min_row=2, values_only=True)}
    assert rows[("w2", "all")]["指数（0-100）"] == 73.5 and rows[("w2", "all")]["显著变化"] == "上升"
    seg = list(wb["细分群体"].iter_rows(values_only=True))
    assert seg[0][-1] == "与总体比较" and seg[1][-1] == "低于总体"
    card = pd.read_csv(root / "scorecard.csv")   # the CSV keeps machine names and values
    assert "change_flag" in card.columns and "up" in set(card["change_flag"])

    slides = _slides(root / "w2" / "report.pptx")
    assert [s["title"] for s in slides] == [
        "smoke：顾客满意度，w2", "主要发现", "指数趋势", "细分群体", "Loyalty的驱动因素", "改进优先级",
        "估计方法说明"]
    key = slides[1]["text"]
    assert "净推荐值（NPS）20.0" in key and "投诉率" in key and "优先改进：" in key
    assert "North低于总体" in key and "Satisfaction" in key and "上升" in key
    (trend,) = slides[2]["tables"]
    assert trend[0][:2] == ["调查期", "指数"] and trend[2][1] == "73.5"
    (league,) = slides[3]["tables"]
    assert league[1][-1] == "低于总体"
    assert "Holm 法" in slides[6]["text"] and "样本量低于 3" in slides[6]["text"]
    assert "来源：研究 smoke w2 期的记录结果" in slides[2]["text"]


def test_a_long_league_table_goes_on_several_slides_and_its_chart_on_its_own():
    from csmlib.report.deck import MAX_TABLE_ROWS, DeckInputs, build_deck, deck_slides

    n = 20
    league = pd.DataFrame({"segment": [f"S{i:02d}" for i in range(n)], "est": np.linspace(80, 60, n),
                           "se": [1.0] * n, "n": [100] * n, "rank": range(1, n + 1), "diff": [0.0] * n,
                           "pvalue": [0.5] * n, "pvalue_adj": [1.0] * n, "verdict": ["not different"] * n})
    report = {"values": {"index": 70.0}, "frames": {"segments": _frame(league)}}
    d = DeckInputs(study="s", wave="w", report=report, base=2000)
    titles = [s["title"] for s in deck_slides(d)]
    assert titles[3:6] == ["Segments", "Segments (continued)", "Segments (continued)"]
    slides = deck_slides(d)
    assert [len(s["table"]) for s in slides[3:5]] == [MAX_TABLE_ROWS, n - MAX_TABLE_ROWS]
    assert slides[3]["chart"] is None and slides[5]["chart"] == "segments" and slides[5]["table"] is None
    from pptx import Presentation
    prs = Presentation(__import__("io").BytesIO(build_deck(d)))
    bottom = max(sh.top + sh.height for slide in prs.slides for sh in slide.shapes)
    assert bottom <= prs.slide_height   # nothing runs off a slide


@pytest.mark.parametrize("language, more", [("en", "and 35 more"), ("zh", "另有 35 个")])
def test_key_findings_name_at_most_a_few_segments(language, more):
    """Forty segments off the total, with long names: the key findings name the
    five clearest and count the rest, so the sentence stays on its slide."""
    from csmlib.report.deck import MAX_KEY_SEGMENTS, DeckInputs, build_deck

    n = 40
    names = [f"Region {i:02d} " + "very long segment name " * 3 for i in range(n)]
    league = pd.DataFrame({"segment": names, "est": np.linspace(60, 50, n), "se": [1.0] * n, "n": [100] * n,
                           "rank": range(1, n + 1), "diff": [-5.0] * n, "pvalue": [0.001] * n,
                           "pvalue_adj": np.linspace(0.04, 0.001, n), "verdict": ["below"] * n})
    report = {"values": {"index": 70.0}, "frames": {"segments": _frame(league)}}
    from pptx import Presentation
    prs = Presentation(io.BytesIO(build_deck(DeckInputs(study="s", wave="w", report=report, base=4000,
                                                        language=language))))
    key = "\n".join(sh.text_frame.text for sh in prs.slides[1].shapes if sh.has_text_frame)
    named = [s for s in names if s in key]
    assert named == names[-MAX_KEY_SEGMENTS:][::-1] or set(named) == set(names[-MAX_KEY_SEGMENTS:])
    assert more in key and len(key) < 1500


def test_workbook_takes_control_characters_in_names():
    """A construct's name with a vertical tab (pasted from a spreadsheet) or a
    segment with a control character: the workbook is written, the character
    shown as a space, formulas still neutralised."""
    import openpyxl

    from csmlib.report.scorecard import scorecard, scorecard_workbook

    entries = [{"wave": "w1", "segment": s, "notebook": "index_drivers", "status": "success", "n": 100,
                "values": {"index": 70.0}, "frames": {}} for s in ("all", "North\x07", "=1+1")]
    card = scorecard(entries, waves=["w1"])
    ipma = pd.DataFrame({"construct": ["Quality"], "importance": [0.3], "performance": [70.0]})
    data = scorecard_workbook(card, {"ipma": ipma}, names={"Quality": "感知\x0b质量"}, language="zh")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    segments = [r[1] for r in wb["计分卡"].iter_rows(min_row=2, values_only=True)]
    assert segments == ["all", "North ", "'=1+1"]
    assert wb["驱动因素"]["A2"].value == "感知 质量"


def test_a_deck_is_rebuilt_only_when_its_inputs_change(collected):
    import json

    from csmlib.run.batch import collect_summary
    from csmlib.run.study import load_study

    deck = collected / "w2" / "report.pptx"
    before = deck.stat().st_mtime_ns, deck.read_bytes()
    study = load_study(collected.parent.parent / "study.yml")
    collect_summary(study)                      # nothing changed: the deck stays as it is
    assert (deck.stat().st_mtime_ns, deck.read_bytes()) == before
    res = collected / "w2" / "all" / "study_report.results.json"
    doc = json.loads(res.read_text())
    doc["values"]["index"] = 80.0                # a recorded result changes: the deck follows
    res.write_text(json.dumps(doc))
    collect_summary(study)
    assert "Satisfaction index 80.0" in _slides(deck)[1]["text"]
    assert _slides(collected / "w1" / "report.pptx")[0]["title"].endswith("w1")
