"""The ``csm`` command: exit codes, clear errors, resume after a kill, the report's path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import csmlib
from csmlib.run.cli import main

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
SMOKE_INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")


def _with_column(text: str, name: str) -> str:
    """``text`` with one more (empty) column ``name``: the smoke notebook's switch."""
    head, *rows = text.splitlines()
    return "\n".join([f"{head},{name}"] + [f"{r}," for r in rows]) + "\n"

W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,North,2,b\n3,South,7,a\n4,South,5,b\n"


def _study(tmp_path: Path, waves: dict[str, str], notebooks=None, **extra) -> Path:
    for name, text in waves.items():
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "instrument.yml").write_text(SMOKE_INSTRUMENT)
    doc = {
        "name": "smoke",
        "instrument": "instrument.yml",
        "model": "S =~ x",
        "waves": [{"name": n, "data": f"{n}.csv"} for n in waves],
        "notebooks": notebooks or [str(SMOKE)],
        "parameters": {"seed": 5},
        "min_base": 1,
        "output": str(tmp_path / "runs"),
        **extra,
    }
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert csmlib.__version__ in capsys.readouterr().out


def test_bad_study_is_one_clear_message(tmp_path, capsys):
    path = _study(tmp_path, {"w1": W1}, min_bse=3)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("csm: error: invalid study file")
    assert "min_bse" in err and "'min_base'" in err
    assert "Traceback" not in err
    assert main(["run", str(tmp_path / "absent.yml")]) == 2
    assert "study file not found" in capsys.readouterr().err


def test_validate_study_and_data_needs_instrument(tmp_path, capsys):
    path = _study(tmp_path, {"w1": W1, "w2": W2}, segments={"column": "region"}, min_base=3)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "study file OK" in out
    assert "n=5" in out and "n=2  suppressed" in out   # w1 South has 2 rows
    assert "runs: 6 (3 suppressed)" in out
    assert main(["validate", str(tmp_path / "w1.csv")]) == 2
    assert "--instrument" in capsys.readouterr().err


def test_scheduler_without_dask(tmp_path, capsys, monkeypatch):
    path = _study(tmp_path, {"w1": W1})
    monkeypatch.setitem(sys.modules, "distributed", None)   # as if Dask were not installed
    assert main(["run", str(path), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "Dask is not installed" in err and "csm-workbench[dist]" in err
    assert main(["run", str(path), "--jobs", "0"]) == 2
    assert "jobs" in capsys.readouterr().err


@pytest.mark.notebooks
def test_failed_wave_exit_code_and_message(tmp_path, capsys):
    path = _study(tmp_path, {"w1": W1, "w2": _with_column(W2, "fail")})
    code = main(["run", str(path), "--jobs", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED w2/all/_smoke: ValueError: smoke failure requested by the data of wave w2" \
        in captured.err
    assert "Traceback" not in captured.err
    assert "1 success" in captured.out and "1 failed" in captured.out
    assert f"summary: {tmp_path / 'runs' / 'smoke' / 'summary.csv'}" in captured.out


@pytest.mark.notebooks
@pytest.mark.parametrize("sig, jobs", [(signal.SIGKILL, "1"), (signal.SIGINT, "2")],
                         ids=["kill", "ctrl-c"])
def test_killed_midway_then_resumed(tmp_path, capsys, sig, jobs):
    """Kill ``csm run`` (SIGKILL to it and its kernel, or Ctrl-C to a process pool)
    after the first run; the rerun finishes the rest without redoing finished runs."""
    report = tmp_path / "study_report.ipynb"
    shutil.copy(SMOKE, report)
    path = _study(tmp_path, {"w1": W1, "w2": W2}, notebooks=[str(SMOKE), "study_report.ipynb"])
    root = tmp_path / "runs" / "smoke"
    first = root / "w1" / "all" / "_smoke.run.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "csmlib.run.cli", "run", str(path), "--jobs", jobs, "--no-progress"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.exists(), "the first run never finished"
        t0 = time.monotonic()
        os.killpg(proc.pid, sig)   # SIGKILL: the command and its kernel; SIGINT: Ctrl-C
        code = proc.wait(timeout=60)
        if sig == signal.SIGINT and code != 0:   # 0: it had just finished anyway
            assert code == 130
            assert time.monotonic() - t0 < 30   # stops at once, does not finish running work
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = {p: p.stat().st_mtime_ns for p in root.rglob("*.run.json")}
    assert first in done_before
    assert not (root / "w2" / "all" / "study_report.run.json").exists()
    for p in done_before:   # every record on disk is complete JSON
        assert json.loads(p.read_text())["status"] in {"success", "failed"}

    assert main(["run", str(path), "--jobs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    for p, mtime in done_before.items():   # finished runs were not redone
        assert p.stat().st_mtime_ns == mtime, p
    report_html = root / "w2" / "all" / "study_report.html"
    assert f"report: {report_html}" in out
    assert report_html.is_file()
    rec = json.loads((root / "w2" / "all" / "study_report.run.json").read_text())
    assert rec["kind"] == "report" and rec["status"] == "success"
    res = json.loads((root / "w2" / "all" / "study_report.results.json").read_text())
    assert res["values"]["sources"] == 1        # the wave's one other run
    assert res["values"]["n"] == 4


def test_validate_instrument_and_data(capsys):
    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    assert main(["validate", str(demo / "instrument.yml")]) == 0
    assert "instrument OK" in capsys.readouterr().out
    assert main(["validate", str(demo / "wave1.csv"), "--instrument",
                 str(demo / "instrument.yml")]) == 0
    out = capsys.readouterr().out
    assert "data OK" in out and "respondents: 600" in out   # 600 data lines in wave1.csv
    assert "email" in out                                     # PII dropped, and said so


def test_simulate_demo_completes_the_study_folder(tmp_path, capsys, monkeypatch):
    import csmlib.analysis.simulate as simulate

    def fake_write_demo(folder):
        Path(folder).mkdir(parents=True, exist_ok=True)
        p = Path(folder) / "wave1.csv"
        p.write_text("x\n1\n")
        return [p]

    monkeypatch.setattr(simulate, "write_demo", fake_write_demo)
    target = tmp_path / "demo"
    assert main(["simulate", "--demo", str(target)]) == 0
    out = capsys.readouterr().out
    assert (target / "study.yml").is_file() and (target / "instrument.yml").is_file()
    assert f"csm run {target / 'study.yml'}" in out


def test_validate_prints_no_terminal_control_characters_from_the_instrument(tmp_path, capsys):
    """An instrument name with an escape sequence, a bell or a right-to-left
    override reached the terminal as it was (it can recolour or retitle the
    terminal, or reverse what follows)."""
    from csmlib.run.cli import main

    (tmp_path / "i.yml").write_text(yaml.safe_dump({
        "name": "Acme \x1b]0;pwned\x07\x1b[31mred \u202eRTL",
        "constructs": [{"name": "S", "items": [{"name": "x", "scale": [1, 5]}]}]}), encoding="utf-8")
    assert main(["validate", str(tmp_path / "i.yml")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "Acme \\u001b]0;pwned" in out
