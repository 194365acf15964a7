"""Reports in English and Chinese: the templates, the language a report is
written in, and how a study passes it to its notebooks."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml

from csmlib.data.instrument import Instrument
from csmlib.errors import CsmError, StudyError
from csmlib.report import i18n
from csmlib.run.batch import plan_runs
from csmlib.run.notebook import Run

from test_study import _write

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("catalogue", ["MESSAGES", "COLUMN_LABELS", "SUFFIX_LABELS", "VALUE_LABELS"])
def test_every_text_is_written_in_every_language_with_the_same_placeholders(catalogue):
    for key, texts in getattr(i18n, catalogue).items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert len({frozenset(_fields(t)) for t in texts.values()}) == 1, key
        if catalogue != "MESSAGES" and key not in ("z", "t", "r2", "f2", "rho_a", "htmt",   # symbols and acronyms
                                                   "aic", "aicc", "bic", "hq", "gm", "cfi", "tli", "rmsea", "srmr"):
            assert texts["en"] != texts["zh"], key   # written, not copied


def test_report_language_given_or_the_instruments_or_english():
    zh = Instrument.model_validate({"name": "x", "language": "zh-CN", "constructs": [
        {"name": "S", "items": [{"name": "a", "scale": [1, 5]}]}]})
    de = zh.model_copy(update={"language": "de"})
    assert i18n.report_language("", zh) == "zh"
    assert i18n.report_language("en", zh) == "en"
    assert i18n.report_language(None, de) == "en"
    assert i18n.report_language("") == "en"
    with pytest.raises(CsmError, match="(?s)cannot be written in .fr.*en, zh"):
        i18n.report_language("fr", zh)


def test_md_picks_the_language_and_escapes_the_values():
    texts = {"en": "## Drivers of {target}", "zh": "## {target}的驱动因素"}
    hostile = "<b>Loyalty</b>*"
    zh = i18n.md("zh", texts, target=hostile)
    assert str(zh).startswith("## ") and str(zh).endswith("的驱动因素")
    assert "<b>" not in str(zh) and "&lt;b&gt;" in str(zh) and "\\*" in str(zh)
    assert zh.plain == "## <b>Loyalty</b>*的驱动因素"
    assert i18n.md("en", texts, target="Loyalty").plain == "## Drivers of Loyalty"
    # a language the template lacks reads in English; English is required
    assert i18n.md("zh", {"en": "Only {n}"}, n=3).plain == "Only 3"
    with pytest.raises(CsmError, match="English"):
        i18n.md("zh", {"zh": "只有中文"})
    with pytest.raises(CsmError, match="no message 'nope'"):
        i18n.md("en", "nope")


def test_text_formats_numbers_and_shows_invisible_characters():
    t = {"en": "{what}: index {x:.1f}", "zh": "{what}：指数 {x:.1f}"}
    assert i18n.text("zh", t, what="North", x=74.25) == "North：指数 74.2"
    assert i18n.text("en", t, what="a\u202eb", x=1) == "a\\u202eb: index 1.0"
    import numpy as np
    assert i18n.text("en", t, what="N", x=np.int64(3)) == "N: index 3.0"


def test_labels_are_plain_language_and_unknown_columns_keep_their_name():
    assert i18n.labels(["from", "to", "est", "ci", "pvalue", "mystery"], "en") == {
        "from": "From", "to": "To", "est": "Estimate", "ci": "95% interval",
        "pvalue": "p", "mystery": "mystery"}
    assert i18n.label("est", "zh") == "估计值"
    # derived columns read as their statistic's label with the suffix's words
    assert i18n.label("direct_se", "en") == "Direct effect: std. error"
    assert i18n.label("diff_ci", "zh") == "变化 95% 置信区间"
    assert i18n.label("rho_c_ok", "en") == "Composite reliability: met"
    assert i18n.label("mystery_se", "en") == "mystery_se"


def test_suppressed_notice_and_heading_in_chinese():
    inst = Instrument.from_yaml(DEMO / "instrument.yml")
    run = Run(instrument=inst, survey=None, spec=None, wave="W1", segment="South", n=12,
              min_base=30, suppressed=True, title="demo \u2013 W1 \u2013 South", language="zh")
    text = run.heading().plain
    assert "样本量 12" in text and "低于最低样本量 30" in text and "respondents" not in text
    en = Run(instrument=inst, survey=None, spec=None, wave="W1", segment="South", n=12,
             min_base=30, suppressed=True, title="demo", language="en")
    assert "**12 respondents**." in str(en.heading())
    assert "below the minimum base of 30" in en.heading().plain


def test_study_language_reaches_every_run(tmp_path):
    study = load(tmp_path, language="zh")
    assert study.language == "zh"
    assert {r.parameters["language"] for r in plan_runs(study)} == {"zh"}
    # default: the instrument's language (the smoke instrument says nothing: English)
    assert load(tmp_path).language == "en"
    inst = yaml.safe_load((tmp_path / "instrument.yml").read_text())
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump({**inst, "language": "zh"}))
    assert load(tmp_path, keep_instrument=True).language == "zh"


def test_study_refuses_a_language_with_no_templates(tmp_path):
    with pytest.raises(StudyError, match="(?s)language.*en, zh"):
        load(tmp_path, language="fr")
    with pytest.raises(StudyError, match="set by csm run"):
        load(tmp_path, parameters={"language": "zh"})


def load(tmp_path: Path, keep_instrument: bool = False, **overrides):
    from csmlib.run.study import load_study

    inst = (tmp_path / "instrument.yml").read_text() if keep_instrument else None
    path = _write(tmp_path, **overrides)
    if inst is not None:
        (tmp_path / "instrument.yml").write_text(inst)
    return load_study(path)


def test_findings_are_written_in_chinese_with_the_same_numbers():
    from types import SimpleNamespace

    import pandas as pd

    from csmlib import report

    assert report.index_finding("总体满意度", 74.25, 72.9, 75.5, diff=2.1, pvalue=0.012, language="zh") == \
        "总体满意度指数 74.2（95% 置信区间 72.9\u201375.5），较上一期上升 2.1 分，变化显著（p = 0.012）。"
    assert report.index_finding("Satisfaction", 74.25, 72.9, 75.5, diff=-0.04, pvalue=0.9) == \
        ("Satisfaction index 74.2 (95% CI 72.9\u201375.5), unchanged from the last wave, "
         "not a significant change (p = 0.900).")
    assert report.change_phrase(float("nan"), language="zh") == "无法与上一期比较"
    assert report.change_phrase(-1.5, language="zh") == "较上一期下降 1.5 分（变化未经检验）"
    fit = {"cfi": 0.97, "rmsea": 0.09, "srmr": 0.05}
    assert report.fit_finding(fit, language="zh") == \
        "模型拟合存疑：RMSEA未达到常用标准（CFI 0.970、RMSEA 0.090、SRMR 0.050）。"
    ipma = pd.DataFrame({"construct": ["Quality"], "importance": [0.456], "performance": [71.04], "rank": [1]})
    names = {"Quality": "感知质量", "Loyalty": "顾客忠诚度"}
    assert report.driver_findings(ipma, "Loyalty", language="zh", names=names) == [
        "感知质量：重要性 0.46（感知质量绩效每提高 1 分，顾客忠诚度提高 0.46 分），绩效 71.0（满分 100）。"]
    rel = pd.DataFrame({"construct": ["Value"], "alpha_ok": [False], "ave_ok": [True]})
    assert report.reliability_finding(rel, language="zh", names={"Value": "感知价值"}) == \
        "以下潜变量的信度低于常用标准：感知价值（alpha）。"
    notes = report.estimation_notes(SimpleNamespace(warnings=(), n_boot=500, n_failed=3, n_sign_flipped=0),
                                    language="zh")
    assert notes.title == "估计说明" and notes.items == ["500 次自助抽样中有 3 次失败；区间基于其余 497 次。"]
    med = pd.DataFrame({"x": ["Quality"] * 2, "y": ["Loyalty"] * 2, "effect": ["direct", "total indirect"],
                        "est": [0.2, 0.3], "ci_lower": [0.1, 0.2], "ci_upper": [0.3, 0.4],
                        "type": ["complementary"] * 2})
    assert report.mediation_finding(med, language="zh", names=names) == (
        "感知质量 \u2192 顾客忠诚度：直接效应 0.20（95% 置信区间 0.10\u20130.30），间接效应 0.30"
        "（95% 置信区间 0.20\u20130.40）；互补型（部分）中介：间接效应与直接效应均显著且方向相同。")
    mi = pd.DataFrame({"lhs": ["CUSA1"], "op": ["~~"], "rhs": ["CUSA2"], "mi": [12.34], "sepc_all": [0.21]})
    res = pd.DataFrame({"lhs": ["CUSA1"], "op": ["~~"], "rhs": ["CUSA2"], "residual": [-3.5]})
    out = report.misfit_findings(mi, res, language="zh", names={"CUSA1": "总体满意", "CUSA2": "达到预期"})
    assert out.title == "模型拟合欠佳之处"
    assert out.items[0] == ("总体满意 ~~ 达到预期 的修正指数为 12.3：若加入总体满意与达到预期之间的残差协方差，"
                            "卡方约可降低 12.3（预期标准化值 0.21）。")
    assert out.items[1] == "总体满意与达到预期的标准化残差为 -3.50：两题项的协变低于模型的隐含值。"


def test_fixed_words_in_table_cells_are_shown_in_the_language():
    import pandas as pd

    from csmlib import report

    assert all(texts["en"] == key for key, texts in i18n.VALUE_LABELS.items())
    ipma = pd.DataFrame({"construct": ["Quality"], "quadrant": ["concentrate here"], "importance": [0.4]})
    html_text = report.table(ipma, 2, language="zh").to_html()
    assert "重点改进" in html_text and "concentrate here" not in html_text
    assert "concentrate here" in report.table(ipma, 2).to_html()


def test_fixed_words_with_a_value_and_the_estimators_reasons():
    assert i18n.value_label("dropped: empty row (no value in any column)", "zh") == "剔除：空行（所有列均无值）"
    assert i18n.value_label("dropped: something new", "zh") == "剔除：something new"
    assert i18n.value_label("dropped: x", "en") == "dropped: x"


def test_the_notes_of_a_model_comparison_read_in_chinese_alone_and_joined():
    import ast

    from csmlib.analysis import compare

    # every note compare_models writes without a number is in the catalogue, word for word
    source = ast.parse(Path(compare.__file__).read_text(encoding="utf-8"))
    said = {n.value for n in ast.walk(source) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    notes = [k for k in i18n.VALUE_LABELS if k.startswith(("not all models", "nesting ", "the restricted model fits",
                                                           "the scaling factor", "a model is not", "equal degrees"))]
    assert len(notes) == 7 and set(notes) <= said
    # joined by "; " (one of them holds "; " itself), each clause is shown in the language
    joined = "; ".join([notes[0], notes[2], notes[3]])
    assert ";" in notes[2]
    zh = i18n.value_label(joined, "zh")
    assert zh == "；".join(i18n.VALUE_LABELS[k]["zh"] for k in (notes[0], notes[2], notes[3]))
    assert i18n.value_label(joined, "en") == joined
    # a cell with a clause the catalogue does not hold stays as it is
    assert i18n.value_label(notes[0] + "; the estimators differ (ML, MLR)", "zh") == \
        notes[0] + "; the estimators differ (ML, MLR)"


def test_the_complaint_and_action_tables_are_labelled_by_the_catalogue():
    """Every column the complaints_log notebook and the study report's actions
    section show, and every fixed word in their cells, is in the catalogue (the
    notebooks keep no label dicts of their own)."""
    import pandas as pd

    import csmlib as csm
    from csmlib.analysis import actions, complaints
    from csmlib.report.tables import table

    log = csm.complaints.read_log(DEMO / "complaints.csv", DEMO / "complaints.yml")
    survey = csm.read_survey(DEMO / "wave1.csv", Instrument.from_yaml(DEMO / "instrument.yml"))
    frames = [complaints.volume(log, "M")[["period", "count", "complete"]], complaints.pareto(log), complaints.resolution(log, by="category"),
              complaints.change_test(log, "Q"),
              complaints.recovery(log, survey, "respondent_id", ["CUSL1"]).rename(columns={"group": "handling"}),
              complaints.recovery_test(log, survey, "respondent_id", ["CUSL1"]),
              actions.action_status([], pd.DataFrame(columns=["wave", "target", "est", "se"]), wave="w1")]
    shown = {"count", "n"}   # the notebook shows complaint counts as "complaints"
    for frame in frames:
        for column in frame.columns:
            if column not in shown and column not in ("se", "ci_lower", "ci_upper", "reason"):
                assert i18n.label(column, "zh") != column, column
    for column in ("complaints", "late_ci", "pvalue_vs_rest_adj"):   # as report.table shows them
        assert i18n.label(column, "zh") != column, column
    assert i18n.label("late_pvalue", "zh") == "超时减SLA内 p 值"
    for word in (*complaints.GROUPS, *actions.STATUSES):
        assert word in i18n.VALUE_LABELS, word
    cells = pd.DataFrame({"handling": list(complaints.GROUPS), "status": list(actions.STATUSES)})
    html = table(cells, language="zh").to_html()
    assert "超时解决" in html and "未到期" in html and "resolved late" not in html and "not yet due" not in html


def test_the_feedback_tables_are_labelled_by_the_catalogue():
    """The feedback notebook's tables, under the names it gives them (n: answers,
    label: top_terms, mean: mean_satisfaction, diff: diff_vs_others)."""
    import pandas as pd

    from csmlib.analysis import feedback
    from csmlib.analysis.simulate import simulate_verbatims

    texts = simulate_verbatims(200, seed=1, lang="en")["text"]
    themes = feedback.themes(texts, seed=0)
    as_catalogue = {"label": "top_terms", "n": "answers", "mean": "mean_satisfaction", "diff": "diff_vs_others"}
    by_wave = feedback.theme_waves(themes, "w2", feedback.theme_waves(themes, "w1"))
    frames = [pd.DataFrame(themes[["theme", "label", "lang", "n", "share", "coherence", "terms"]]),
              feedback.theme_scores(themes, pd.Series(50.0, index=texts.index)),
              feedback.theme_change(by_wave).drop(columns=["label", "wave_a", "wave_b", "se"]),
              pd.DataFrame({"theme": [1], "label": ["x"], "quote": ["y"]})]
    for frame in frames:
        for column in frame.rename(columns=as_catalogue).columns:
            if column not in ("ci_lower", "ci_upper"):
                assert i18n.label(column, "zh") != column, column
