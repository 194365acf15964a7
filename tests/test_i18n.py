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


@pytest.mark.parametrize("catalogue", ["MESSAGES", "COLUMN_LABELS"])
def test_every_text_is_written_in_every_language_with_the_same_placeholders(catalogue):
    for key, texts in getattr(i18n, catalogue).items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert len({frozenset(_fields(t)) for t in texts.values()}) == 1, key
        if catalogue == "COLUMN_LABELS" and key not in ("z", "r2", "p"):
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
    assert i18n.labels(["lhs", "rhs", "est", "ci_lower", "pvalue", "mystery"], "en") == {
        "lhs": "To", "rhs": "From", "est": "Estimate", "ci_lower": "95% interval: lower",
        "pvalue": "p", "mystery": "mystery"}
    assert i18n.label("est", "zh") == "估计值"


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
