"""Plain-language findings: wording, thresholds and escaping."""

import math
from pathlib import Path

import pandas as pd
import pytest

import csmlib as csm
from csmlib import report
from csmlib.errors import DataError

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def test_index_sentence_with_significant_rise():
    text = report.index_finding("Satisfaction", 74.23, 72.94, 75.51, diff=2.1, pvalue=0.012)
    assert text == ("Satisfaction index 74.2 (95% CI 72.9\u201375.5), up 2.1 points from the "
                    "last wave, a significant change (p = 0.012).")


def test_change_not_significant_and_untested_are_never_called_significant():
    assert "not a significant change" in report.change_phrase(-0.8, 0.41)
    assert report.change_phrase(-0.8, 0.41).startswith("down 0.8 points")
    untested = report.change_phrase(3.0, None)
    assert "significant" not in untested and "not tested" in untested
    assert report.change_phrase(float("nan")) == "no comparison with the last wave is available"
    assert report.change_phrase(0.02, 0.9).startswith("unchanged")


def test_alpha_boundary_is_strict():
    assert "not a significant" in report.change_phrase(1.0, 0.05)
    assert ", a significant" in report.change_phrase(1.0, 0.0499)


def test_fmt_p_and_missing_interval():
    assert report.fmt_p(0.0004) == "p < 0.001"
    assert report.fmt_p(float("nan")) == "p n/a"
    assert report.fmt_ci(70.0, None, None) == "70.0"
    assert report.index_finding("Loyalty", 61.0) == "Loyalty index 61.0."


def test_fit_assessment_applies_cutoffs_in_the_right_direction():
    fit = pd.Series({"chisq": 38.1, "cfi": 0.951, "tli": 0.94, "rmsea": 0.061, "srmr": 0.03,
                     "aic": math.nan})
    table = report.fit_assessment(fit).set_index("index")
    assert list(table.index) == ["cfi", "tli", "rmsea", "srmr"]
    assert table.loc["cfi", "passed"] and table.loc["srmr", "passed"]
    assert not table.loc["tli", "passed"] and not table.loc["rmsea", "passed"]
    sentence = report.fit_finding(fit)
    assert "TLI, RMSEA miss their" in sentence
    good = report.fit_finding({"cfi": 0.99, "rmsea": 0.02, "srmr": 0.01})
    assert good.startswith("The model fits the data well")
    assert report.fit_finding({"srmr": math.nan}).startswith("No fit indices")


def test_driver_findings_follow_rank_and_fail_clearly_on_wrong_frame():
    ipma = pd.DataFrame({"construct": ["Quality", "Value", "Image"],
                         "importance": [0.40, 0.10, 0.25],
                         "performance": [70.0, 50.0, 60.0],
                         "rank": [2, 3, 1]})
    lines = report.driver_findings(ipma, "Loyalty", top=2)
    assert lines[0].startswith("Image: importance 0.25") and lines[1].startswith("Quality")
    # without rank: importance x (100 - performance) = 12, 5, 10
    lines = report.driver_findings(ipma.drop(columns="rank"), "Loyalty", top=3)
    assert [l.split(":")[0] for l in lines] == ["Quality", "Image", "Value"]
    with pytest.raises(DataError, match="performance"):
        report.driver_findings(ipma.drop(columns="performance"), "Loyalty")


def test_findings_render_escaped():
    f = report.Findings(title="Key <findings>").add("Segment <script>alert(1)</script> & co")
    f.add(["second"])
    html = f._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; co" in html
    assert str(f).splitlines() == ["Key <findings>", "- Segment <script>alert(1)</script> & co",
                                   "- second"]
    assert len(f) == 2


def test_suppressed_finding():
    assert report.suppressed_finding("South, 2026Q1", 12, 30) == (
        "South, 2026Q1: 12 respondents, below the minimum base of 30; results are suppressed, "
        "not estimated.")


def test_md_escape_neutralises_markdown_and_html():
    import markdown_it  # noqa: F401  (jupyter's own renderer)
    from markdown_it import MarkdownIt

    raw = "_script_ <script>alert(1)</script> *x* [a](b) a&b"
    html = MarkdownIt().render(report.md_escape(raw))
    assert "<script>" not in html and "<em>" not in html and "<a " not in html
    assert "_script_" in html and "&lt;script&gt;" in html


def test_table_formats_numbers_pvalues_missing_and_escapes_text():
    import numpy as np

    frame = pd.DataFrame({"segment": ["<b>North</b>", "South & East"], "est": [75.12345, np.nan],
                          "n": [1200, 12], "pvalue": [0.00004, 0.23456],
                          "suppressed": [False, True], "diff_pvalue": [np.nan, 0.04]})
    html_text = report.table(frame, 2).to_html()
    assert "<b>North</b>" not in html_text and "&lt;b&gt;North&lt;/b&gt;" in html_text
    assert "South &amp; East" in html_text
    for shown in (">75.12<", ">1,200<", ">12<", ">&lt; 0.001<", ">0.235<", ">no<", ">yes<", ">0.040<"):
        assert shown in html_text.replace(" >", ">"), shown
    assert html_text.count(">\u2013<") == 2          # the missing est and diff_pvalue
    assert "row_heading" not in html_text             # default row numbers hidden
    ranks = report.table(pd.DataFrame({"rank": [1.0, np.nan], "n_eff": [12.5, 3.0]})).to_html()
    assert ">1<" in ranks.replace(" >", ">") and ">12.500<" in ranks.replace(" >", ">")
    nullable = report.table(pd.DataFrame({"ok": pd.array([True, None], dtype="boolean")})).to_html()
    assert "NA" not in nullable and ">\u2013<" in nullable.replace(" >", ">")
    kept = report.table(frame.set_index("segment"), 1).to_html()
    assert "row_heading" in kept and "&lt;b&gt;North" in kept


def test_estimation_notes_collect_warnings_and_bootstrap_failures():
    from types import SimpleNamespace

    fit = SimpleNamespace(warnings=("PLS did NOT converge", "rho_A above 1 for X"))
    boot = SimpleNamespace(warnings=(), n_boot=500, n_failed=3, n_sign_flipped=0)
    notes = report.estimation_notes(fit, boot, fit, None)
    assert notes.title == "Estimation notes"
    assert notes.items == ["PLS did NOT converge", "rho_A above 1 for X",
                           "3 of 500 bootstrap resamples failed; the intervals rest on the other 497."]
    clean = report.estimation_notes(SimpleNamespace(warnings=()),
                                    SimpleNamespace(n_boot=100, n_failed=0, n_sign_flipped=0))
    assert len(clean) == 0 and not clean


def test_estimation_notes_say_who_the_estimates_rest_on():
    from types import SimpleNamespace

    spec = SimpleNamespace(indicators=tuple(f"x{i}" for i in range(10)))
    listwise = SimpleNamespace(method="pls", spec=spec, warnings=(), data_info={
        "rows_read": 600, "rows_used": 344, "dropped": {"missing values (listwise deletion)": 256}})
    mean = SimpleNamespace(method="pls", spec=spec, warnings=(), data_info={
        "rows_read": 600, "rows_used": 600, "dropped": {}, "mean_replaced": 300})
    fiml = SimpleNamespace(method="cbsem", spec=spec, warnings=(), data_info={
        "rows_read": 600, "rows_used": 600, "dropped": {}, "incomplete_rows_kept": 256})
    assert report.estimation_notes(listwise).items == [
        "PLS: 256 respondent(s) left out (missing values (listwise deletion)); the estimates rest on 344."]
    assert report.estimation_notes(mean).items == [
        "PLS: 300 missing answer(s) (5.0% of the answers) replaced by the item mean."]
    assert "full-information ML" in report.estimation_notes(fiml).items[0]


def test_wave_results_gather_every_sections_estimation_notes(tmp_path):
    import json

    def write(name, values):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"values": values, "frames": {}}), encoding="utf-8")
        return str(path)

    res = report.WaveResults({
        "all/measurement": write("m", {"estimation_notes": ["PLS: 3 missing answer(s) replaced"]}),
        "all/structural": write("s", {"estimation_notes": ["PLS: 3 missing answer(s) replaced"],
                                      "cbsem_estimation_notes": ["Heywood case: x1"]}),
        "North/structural": write("n", {"cbsem_estimation_notes": ["not this segment"]}),
        "all/index_drivers": write("i", {"estimation_notes": []}),
    })
    notes = res.estimation_notes()
    assert notes.title == "Estimation notes"
    assert notes.items == ["PLS: 3 missing answer(s) replaced (measurement, structural)",
                           "Heywood case: x1 (structural)"]


def test_run_heading_escapes_and_carries_the_suppression_notice():
    from types import SimpleNamespace

    from csmlib.run.notebook import Run

    spec = SimpleNamespace(name=None)
    run = Run(instrument=None, survey=None, spec=spec, wave="W1", segment="<b>N</b>", n=12,
              min_base=30, suppressed=True, title="s \u2013 W1 \u2013 <b>N</b>", model="acsi")
    text = str(run.heading(show_model=True))
    assert text.startswith("## s \u2013 W1 \u2013 &lt;b&gt;N&lt;/b&gt;\n\n**12 respondents**, model *acsi*.")
    assert "below the minimum base of 30" in text and "<b>" not in text
    plain = Run(instrument=None, survey=None, spec=None, wave="W1", segment="all", n=600,
                min_base=30, suppressed=False, title="s", model="")
    assert plain.heading(show_model=True) == "## s\n\n**600 respondents**."


def test_record_notes_records_under_the_keys_the_study_report_reads():
    from types import SimpleNamespace

    from csmlib.errors import CsmError
    from csmlib.run.notebook import record_notes
    from csmlib.report.record import recorded, set_results_path

    set_results_path(None)
    fit = SimpleNamespace(warnings=("Heywood case: x1",))
    notes = record_notes(fit, key="cbsem_estimation_notes")
    assert notes.items == ["Heywood case: x1"]
    assert recorded()["values"]["cbsem_estimation_notes"] == ["Heywood case: x1"]
    with pytest.raises(CsmError, match="cannot be recorded under 'notes'"):
        record_notes(fit, key="notes")


def test_run_title_names_the_segment_by_its_value_not_its_folder(tmp_path):
    """A segment whose folder label is a slug with a hash (``Nord_Ost~...``)
    is titled by its value, as ``csm run`` passes it in ``segment_value``."""
    from csmlib.run.notebook import open_run
    from csmlib.run.study import segment_label

    data = tmp_path / "w.csv"
    data.write_text("id,region,x\n1,Nord/Ost,3\n2,Nord/Ost,4\n3,Süd,5\n", encoding="utf-8")
    inst = tmp_path / "i.yml"
    inst.write_text("name: t\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [1, 5]}]}]\n", encoding="utf-8")
    label = segment_label("Nord/Ost", hashed=True)
    assert label != "Nord/Ost"
    run = open_run(str(data), str(inst), segment=label, segment_column="region", study="S",
                   wave="W1", segment_value="Nord/Ost")
    assert run.n == 2 and run.title == "S \u2013 W1 \u2013 Nord/Ost"
    assert open_run(str(data), str(inst), study="S", wave="W1").title == "S \u2013 W1 \u2013 all"


def test_run_heading_names_a_lavaan_model_without_quoting_its_text():
    """The heading quoted a study's whole lavaan text, comments included
    (an analyst's e-mail address, line breaks shown as \\u000a)."""
    from types import SimpleNamespace

    from csmlib.run.notebook import Run

    text = "# by zhang.wei@example.cn\nS =~ x1 + x2\nL =~ y1 + y2\nL ~ S"
    run = Run(instrument=None, survey=None, spec=SimpleNamespace(name=None), wave="W1", segment="all",
              n=50, min_base=30, suppressed=False, title="s", model=text)
    shown = str(run.heading(show_model=True))
    assert shown == "## s\n\n**50 respondents**, model *lavaan model of the study*."


def _heads(html_text: str) -> list[str]:
    import re

    return re.findall(r'<th[^>]*col_heading[^>]*>([^<]*)</th>', html_text)


def _cells(html_text: str) -> list[str]:
    import re

    return re.findall(r'<td[^>]*>([^<]*)</td>', html_text)


def test_table_speaks_plain_language_paths_read_from_cause_to_outcome():
    paths = pd.DataFrame({"lhs": ["Satisfaction", "Loyalty"], "op": ["~", "~"],
                          "rhs": ["Quality", "Satisfaction"], "label": ["", ""],
                          "est": [0.5, 0.7], "se": [0.05, 0.04], "pvalue": [0.0001, 0.2],
                          "ci_lower": [0.4, 0.61], "ci_upper": [0.6, 0.79]})
    html_text = report.table(paths, 2).to_html()
    assert _heads(html_text) == ["From", "To", "Estimate", "Std. error", "p", "95% interval"]
    assert _cells(html_text)[:6] == ["Quality", "Satisfaction", "0.50", "0.05", "&lt; 0.001",
                                     "0.40 \u2013 0.60"]
    zh = report.table(paths, 2, language="zh").to_html()
    assert _heads(zh) == ["从", "到", "估计值", "标准误", "p 值", "95% 置信区间"]
    # loadings: construct first, then the item; mixed operators say what each row is
    load = paths.assign(op=["=~", "~"], lhs=["Satisfaction", "Loyalty"], rhs=["CUSA1", "Satisfaction"])
    mixed = report.table(load, 2).to_html()
    assert _heads(mixed)[:3] == ["From", "To", "Kind"]
    assert _cells(mixed)[:3] == ["Satisfaction", "CUSA1", "loading"]
    assert _cells(mixed)[7:10] == ["Satisfaction", "Loyalty", "path"]
    only = report.table(load.iloc[:1], 2).to_html()
    assert _heads(only)[:2] == ["Construct", "Item"]


def test_table_shows_items_by_their_short_texts_and_constructs_in_the_language():
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    frame = pd.DataFrame({"lhs": ["Satisfaction"], "op": ["=~"], "rhs": ["CUSA1"], "est": [0.9]})
    en = _cells(report.table(frame, 2, instrument=inst).to_html())
    assert en == ["Satisfaction", inst.item_label("CUSA1", "en"), "0.90"] == \
        ["Satisfaction", "Overall satisfaction", "0.90"]
    zh = _cells(report.table(frame, 2, instrument=inst, language="zh").to_html())
    assert zh == ["总体满意度", "总体满意", "0.90"]
    # constructs as columns and items as the index (cross-loadings)
    cross = pd.DataFrame({"Satisfaction": [0.9], "Loyalty": [0.4]}, index=pd.Index(["CUSA1"], name="item"))
    html_text = report.table(cross, 2, instrument=inst, language="zh").to_html()
    assert _heads(html_text) == ["总体满意度", "顾客忠诚度"] and "总体满意<" in html_text and "题项" in html_text


def test_wide_tables_are_split_to_fit_the_page():
    effects = pd.DataFrame({"lhs": ["Loyalty"], "rhs": ["Quality"], "direct": [0.1], "indirect": [0.2],
                            "total": [0.3], "direct_se": [0.01], "direct_ci_lower": [0.08],
                            "direct_ci_upper": [0.12], "indirect_se": [0.02], "indirect_ci_lower": [0.16],
                            "indirect_ci_upper": [0.24], "total_se": [0.03], "total_ci_lower": [0.24],
                            "total_ci_upper": [0.36]})
    out = report.table(effects, 2)
    assert isinstance(out, report.Tables) and len(out) == 3
    html_text = out.to_html()
    assert html_text.count("<table") == 3
    for caption in ("Direct effect", "Indirect effect", "Total effect"):
        assert f"{caption}</caption>" in html_text
    assert _heads(out.parts[2].to_html()) == ["From", "To", "Estimate", "Std. error", "95% interval"]
    assert _cells(out.parts[2].to_html()) == ["Quality", "Loyalty", "0.30", "0.03", "0.24 \u2013 0.36"]
    # no statistic groups: columns cut into parts of about equal width, each naming its rows
    wide = pd.DataFrame({"segment": ["North"], **{f"v{i}": [float(i)] for i in range(10)}})
    parts = report.table(wide, 1, max_columns=6).parts
    assert [len(_heads(p.to_html())) for p in parts] == [6, 6]
    assert all(_cells(p.to_html())[0] == "North" for p in parts)
    assert not isinstance(report.table(wide.iloc[:, :8], 1), report.Tables)
