"""Property-based robustness (issue #7 item 1): random mutations of a valid
survey file either load -- and then fit_pls and satisfaction_index give
finite numbers or a CsmError -- or raise a CsmError.  Never another
exception, never a NaN index without an error.

Deterministic in CI: ``derandomize=True`` and a fixed number of examples.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csmlib as csm
from csmlib.errors import CsmError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
LINES = (DEMO / "wave1.csv").read_text(encoding="utf-8").splitlines()[:81]   # header + 80 rows
HEADER = LINES[0].split(",")
INST = csm.Instrument.from_yaml(DEMO / "instrument.yml")
SPEC = csm.ModelSpec.from_lavaan(
    "Quality =~ PERQ1 + PERQ2 + PERQ3\nValue =~ PERV1 + PERV2\n"
    "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nValue ~ Quality\nSatisfaction ~ Quality + Value")

CELL_VALUES = st.sampled_from(["abc", "seven", "11", "0", "-3", "7.5", "1e3", "", "NA", "99", "98",
                               "  ", "nan", "inf", "x@y.example", "+41 79 123 45 67", '"5"', "5;6",
                               "１", "7 ", "\u00a05"])

mutation = st.one_of(
    st.tuples(st.just("cell"), st.integers(1, 80), st.integers(0, len(HEADER) - 1), CELL_VALUES),
    st.tuples(st.just("blank_row"), st.integers(1, 80)),
    st.tuples(st.just("constant"), st.sampled_from(HEADER[5:])),
    st.tuples(st.just("empty_column"), st.sampled_from(HEADER[5:])),
    st.tuples(st.just("delete_column"), st.integers(0, len(HEADER) - 1)),
    st.tuples(st.just("duplicate_id"), st.integers(1, 80), st.integers(1, 80)),
    st.tuples(st.just("rename_header"), st.integers(0, len(HEADER) - 1), st.sampled_from(["", "X", "CUSA1"])),
    st.tuples(st.just("shuffle_header"), st.randoms(use_true_random=False)),
    st.tuples(st.just("truncate"), st.integers(0, 4000)),
    st.tuples(st.just("drop_rows"), st.integers(5, 80)),
)


def _apply(rows: list[list[str]], m: tuple) -> list[list[str]]:
    kind = m[0]
    if kind == "cell":
        _, r, c, v = m
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = v
    elif kind == "blank_row":
        if m[1] < len(rows):
            rows[m[1]] = [""] * len(rows[m[1]])
    elif kind in ("constant", "empty_column"):
        if m[1] in rows[0]:
            c = rows[0].index(m[1])
            for r in rows[1:]:
                if c < len(r):
                    r[c] = "5" if kind == "constant" else ""
    elif kind == "delete_column":
        c = m[1]
        rows = [r[:c] + r[c + 1:] for r in rows]
    elif kind == "duplicate_id":
        a, b = m[1], m[2]
        if a < len(rows) and b < len(rows) and rows[a] and rows[b]:
            rows[b][0] = rows[a][0]
    elif kind == "rename_header":
        if m[1] < len(rows[0]):
            rows[0][m[1]] = m[2]
    elif kind == "shuffle_header":
        m[1].shuffle(rows[0])
    elif kind == "drop_rows":
        rows = rows[: m[1]]
    return rows


def _text(rows: list[list[str]], truncate: int | None) -> str:
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return text[:truncate] if truncate is not None else text


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_survey_never_fails_obscurely(tmp_path_factory, mutations):
    rows = [ln.split(",") for ln in LINES]
    truncate = None
    for m in mutations:
        if m[0] == "truncate":
            truncate = m[1]
        else:
            rows = _apply(rows, m)
    path = tmp_path_factory.mktemp("mut") / "wave.csv"
    path.write_text(_text(rows, truncate), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            survey = csm.read_survey(path, INST)
        except CsmError as exc:
            assert str(exc) and exc.hint, exc
            return
        assert np.isfinite(survey.items.to_numpy(float)[~np.isnan(survey.items.to_numpy(float))]).all()
        try:
            fit = csm.fit_pls(SPEC, survey)
            index = csm.satisfaction_index(fit, construct="Satisfaction")
        except CsmError as exc:
            assert str(exc) and exc.hint, exc
            return
    assert np.isfinite(fit.estimates["est"].to_numpy(float)).all()
    assert np.isfinite(float(index)), f"NaN index without an error for mutations {mutations}"
    assert 0.0 <= float(index) <= 100.0


def test_the_unmutated_file_loads_and_fits(tmp_path):
    path = tmp_path / "wave.csv"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    fit = csm.fit_pls(SPEC, csm.read_survey(path, INST))
    assert 0 < float(csm.satisfaction_index(fit)) < 100


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
