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
