"""The feedback notebook on the demo wave: its recorded themes are the
library's, it reads in English and Chinese, and no personal data seeded into
the answers (e-mails, a mobile number, the respondents' names) reaches the
executed notebook or its HTML report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

import csmlib as csm
from csmlib.analysis import feedback
from csmlib.report.htmlexport import notebook_to_html
from csmlib.report.record import read_results, results_frame

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "data" / "demo"


def _run(tmp: Path, **params) -> tuple[dict, str, str]:
    out = tmp / "feedback.ipynb"
    results = tmp / "feedback.results.json"
    pm.execute_notebook(str(NOTEBOOKS / "feedback.ipynb"), str(out), kernel_name="csm",
                        parameters={"results_path": str(results), "data_path": str(DEMO / "wave1.csv"),
                                    "instrument_path": str(DEMO / "instrument.yml"),
                                    "segment_column": "region", "seed": 3, **params},
                        cwd=str(NOTEBOOKS), progress_bar=False)
    text = out.read_text(encoding="utf-8")
    return read_results(results), text, notebook_to_html(text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    en = _run(tmp_path_factory.mktemp("fb_en"), language="en")
    zh = _run(tmp_path_factory.mktemp("fb_zh"), language="zh")
    return {"en": en, "zh": zh}


def test_recorded_themes_are_the_librarys(runs):
    results, _, _ = runs["en"]
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    texts = csm.read_survey(DEMO / "wave1.csv", inst).texts["improve"]
    expected = feedback.themes(texts, seed=3, names=feedback.names_in_file(DEMO / "wave1.csv", inst))
    got = results_frame(results, "themes")
    assert list(got["label"]) == list(expected["label"])
    assert got["n"].tolist() == expected["n"].tolist()
    terms = results_frame(results, "theme_terms")
    assert terms[terms["theme"] == 1].sort_values("rank")["term"].tolist() == expected["terms"].iloc[0]
    assert results["values"]["n_answers"] == int(texts.notna().sum())
    scores = results_frame(results, "theme_scores")
    assert len(scores) == len(expected) and scores["mean"].between(0, 100).all()
    shares = results_frame(results, "theme_shares")
    assert set(shares["group"]) == {"North", "South"}


def test_both_languages(runs):
    _, _, html_en = runs["en"]
    _, _, html_zh = runs["zh"]
    assert "Themes" in html_en and "Example answers" in html_en
    assert "主题" in html_zh and "示例回答" in html_zh and "Example answers" not in html_zh


def test_no_personal_data_in_any_output_byte(runs):
    raw = pd.read_csv(DEMO / "wave1.csv", dtype=str, keep_default_na=False)
    seeded = raw["improve"].str.contains("@|Regards|138 0013", regex=True)
    assert seeded.sum() >= 5          # the demo seeds contacts into some answers
    for _, nb_text, html in runs.values():
        for blob in (nb_text, html):
            assert "@example.com" not in blob
            assert "13800138000" not in blob
            assert "138 0013 8000" not in blob and "Respondent 0" not in blob
            for name in raw["name"]:
                assert name not in blob


def test_themes_wave_over_wave_from_the_previous_waves_results(runs, tmp_path):
    """Wave 2 reads wave 1's recorded themes: the table holds both waves, and the
    change is the library's on the two waves' own themes (here in Chinese)."""
    import json

    first, _, html_first = runs["en"]
    assert len(results_frame(first, "theme_waves")) > 0 and "theme_change" not in first["frames"]
    assert "from the next wave on" in html_first
    previous = tmp_path / "wave1.results.json"
    previous.write_text(json.dumps(first), encoding="utf-8")
    (tmp_path / "w2").mkdir()
    second, _, html = _run(tmp_path / "w2", language="zh", wave="2026Q2", data_path=str(DEMO / "wave2.csv"),
                           previous_wave="2026Q1", previous_results_path=str(previous))
    by_wave = results_frame(second, "theme_waves")
    assert list(dict.fromkeys(by_wave["wave"])) == ["2026Q1", "2026Q2"]
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    texts = csm.read_survey(DEMO / "wave2.csv", inst).texts["improve"]
    own = feedback.themes(texts, seed=3, names=feedback.names_in_file(DEMO / "wave2.csv", inst))
    expected = feedback.theme_waves(own, "2026Q2", results_frame(first, "theme_waves"))
    pd.testing.assert_frame_equal(by_wave, expected, check_dtype=False)
    change = results_frame(second, "theme_change")
    pd.testing.assert_frame_equal(change, feedback.theme_change(expected, min_base=30), check_dtype=False)
    # the demo's seeded themes (waiting, price, staff) are found in both waves and tracked as the same
    assert change[["share_a", "share_b"]].notna().all(axis=1).sum() >= 3
    assert "各期的主题" in html and "Themes wave over wave" not in html


def test_a_given_number_of_themes_is_not_called_chosen_by_coverage_in_chinese(tmp_path):
    # the Chinese sentence always said the number was chosen by the coverage rule, also with n_themes given
    _, _, html = _run(tmp_path, language="zh", n_themes=4)
    assert "主题数按覆盖率规则确定" not in html and "主题数由参数 n_themes 指定（4）" in html
