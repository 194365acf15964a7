"""Privacy (issue #7 item 4): personal data, declared or not, never reaches an
executed notebook, an HTML report or a recorded result; text from the data
and the instrument is HTML-escaped in reports.

The seeded values are written into the data here, so the test knows exactly
which bytes must not appear anywhere in the outputs.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

import csmlib as csm
from csmlib.errors import DataError, DataWarning
from csmlib.data.privacy import classify_value, detect_personal_columns, mask_value

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"

N = 90
EMAILS = [f"kunde{i:03d}.geheim@mailhost-{i}.example" for i in range(N)]
PHONES = [f"+41 79 {100 + i:03d} {i % 90 + 10:02d} {(7 * i) % 90 + 10:02d}" for i in range(N)]
IPS = [f"203.0.113.{i + 1}" if i % 3 else f"2001:db8:ab::{i + 1:x}" for i in range(N)]
NAMES = [f"Hannelore Quastenberg{i:03d}" for i in range(N)]
COMMENTS = [f"call me on {PHONES[i]} or write to {EMAILS[i]}" if i % 2 else "fine" for i in range(N)]
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'


# --------------------------------------------------------------- detection
def test_values_are_classified():
    for v in ("a@b.example", "first.last+tag@sub.example.co.uk"):
        assert classify_value(v) == "e-mail addresses"
    for v in ("+41 44 123 45 67", "(555) 123-4567", "555-123-4567", "0044 20 7946 0958"):
        assert classify_value(v) == "phone numbers"
    for v in ("192.168.1.20", "2001:db8::1", "::1"):
        assert classify_value(v) == "IP addresses"
    # ids, codes, dates, wave labels, decimals, times are not personal data
    for v in ("10001", "12345678901", "2026-01-15", "15.01.2026", "2026Q1", "3.14", "7", "12:30",
              "North", "", None, 7.0):
        assert classify_value(v) is None, v
    assert mask_value("a@b.example") == "<e-mail address removed>"
    assert mask_value("North") == "North"


def test_columns_are_detected_by_content_and_name():
    frame = pd.DataFrame({
        "contact": EMAILS[:9] + [""],               # 9 of 9 non-empty cells
        "x17": PHONES[:6] + ["n/a"] * 4,            # 6 of 10: more than half
        "x18": PHONES[:5] + ["n/a"] * 5,            # 5 of 10: not more than half
        "origin": IPS[:10],
        "IPAddress": ["1"] * 10, "RecipientFirstName": ["a"] * 10, "LocationLatitude": ["1"] * 10,
        "region": ["North"] * 10, "wave": ["2026Q1"] * 10, "date": ["2026-01-15"] * 10,
        "respondent_id": [str(10000 + i) for i in range(10)], "comment": COMMENTS[:10],
    })
    found = detect_personal_columns(frame)
    assert found == {
        "contact": "e-mail addresses (by content)", "x17": "phone numbers (by content)",
        "origin": "IP addresses (by content)", "IPAddress": "IP addresses (by column name)",
        "RecipientFirstName": "names (by column name)", "LocationLatitude": "locations (by column name)",
    }
    assert detect_personal_columns(frame, ["region", "contact"]) == {"contact": "e-mail addresses (by content)"}


# --------------------------------------------------------------- loading
def _seeded_frame(n=N):
    frame = pd.read_csv(DEMO / "wave1.csv", nrows=n, dtype=str, keep_default_na=False)
    frame["name"] = NAMES[:n]                  # declared pii
    frame["email"] = EMAILS[:n]                # declared pii
    frame["kontakt"] = EMAILS[:n]              # undeclared: e-mail by content
    frame["tel_privat"] = PHONES[:n]           # undeclared: phone by content (name not recognised)
    frame["origin"] = IPS[:n]                  # undeclared: IPs by content
    frame["comment"] = COMMENTS[:n]            # free text, not in the instrument
    return frame


def test_undeclared_personal_columns_dropped_at_load(tmp_path):
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    p = tmp_path / "wave.csv"
    _seeded_frame().to_csv(p, index=False)
    with pytest.warns(DataWarning, match="'kontakt' \\(e-mail addresses.*'tel_privat'.*'origin'") as rec:
        s = csm.read_survey(p, inst)
    prov = s.provenance
    assert prov.pii_dropped == ("name", "email", "kontakt", "tel_privat", "origin")
    assert [c for c, _ in prov.pii_detected] == ["kontakt", "tel_privat", "origin"]
    assert prov.ignored_columns == ("comment",)
    text = (json.dumps(prov.as_dict()) + repr(s) + s.data.to_csv() + repr(s.variable_labels)
            + "".join(str(w.message) for w in rec))
    for secret in EMAILS + PHONES + IPS + NAMES:
        assert secret not in text


def test_personal_data_in_a_role_column_is_an_error(tmp_path):
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    frame = _seeded_frame(20)
    frame["respondent_id"] = EMAILS[:20]
    p = tmp_path / "wave.csv"
    frame.to_csv(p, index=False)
    with pytest.raises(DataError) as info:
        csm.read_survey(p, inst)
    err = info.value
    assert err.column == ["respondent_id"] and "e-mail addresses" in err.message
    assert "pseudonymous" in err.hint
    assert not any(e in str(err) for e in EMAILS)


# --------------------------------------------------------------- end to end
@pytest.mark.notebooks
def test_csm_run_outputs_hold_no_personal_data_and_escape_labels(tmp_path):
    from csmlib.run.cli import main

    frame = _seeded_frame()
    frame.loc[frame["region"] == "South", "region"] = SCRIPT   # a segment label from the data
    frame.to_csv(tmp_path / "wave1.csv", index=False)
    doc = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    sat = next(c for c in doc["constructs"] if c["name"] == "Satisfaction")
    sat["label"] = {"en": f"Satisfaction {IMG}"}                  # a label from the instrument
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    study = {"name": "privacy", "instrument": "instrument.yml", "model": "acsi",
             "waves": [{"name": "W1", "data": "wave1.csv"}], "segments": {"column": "region", "values": [SCRIPT]},
             "notebooks": ["data_quality", "index_drivers"],
             "parameters": {"seed": 3, "n_boot": 30}, "min_base": 30,
             "output": str(tmp_path / "runs")}
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        code = main(["run", str(path), "--jobs", "2", "--no-progress"])
    root = tmp_path / "runs" / "privacy"
    records = {p: json.loads(p.read_text()) for p in root.rglob("*.run.json")}
    assert code == 0, {str(p): r.get("error") for p, r in records.items()}

    outputs = [p for p in root.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in outputs} | {"".join(p.suffixes[-2:]) for p in outputs}
    assert {".ipynb", ".html", ".results.json", ".run.json", ".csv"} <= kinds
    assert sum(p.suffix == ".html" for p in outputs) == 4      # (all, SCRIPT) x 2 notebooks
    secrets = EMAILS + PHONES + IPS + NAMES
    # the local parts of the e-mails and the names' surnames catch partial leaks too
    secrets += [e.split("@")[0] for e in EMAILS] + ["Quastenberg"]
    for p in outputs:
        blob = p.read_bytes()
        for s in secrets:
            assert s.encode() not in blob, f"{s!r} leaked into {p}"
            assert json.dumps(s)[1:-1].encode() not in blob, f"{s!r} leaked (JSON-escaped) into {p}"
    htmls = {p: p.read_text(encoding="utf-8") for p in outputs if p.suffix == ".html"}
    for p, html in htmls.items():
        assert "<script>alert(1)" not in html, p
        assert "<img src=x" not in html, p
    # the segment's label does reach its reports (as the path-safe label csm run gives it),
    # so the check above could fail
    seg = [h for p, h in htmls.items() if "alert(1)" in p.parent.name]
    assert len(seg) == 2 and all("alert(1)" in h for h in seg)
