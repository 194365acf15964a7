"""Process hygiene of ``csm run`` (issue 13, class 5).

Outputs get the permissions of ordinary files under the user's umask; CSV
outputs cannot inject spreadsheet formulas; two runs of one study do not
both do the work; ``kill -9`` of ``csm run`` leaves no worker, fork server or
kernel behind.  The process tests start and kill real processes, bounded in
time.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmlib import atomic


# --------------------------------------------------------------------------- modes
@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o027])
def test_written_files_get_mode_666_minus_umask(tmp_path, umask, mask):
    umask(mask)
    paths = [
        atomic.write_bytes(tmp_path / "a" / "x.bin", b"x"),
        atomic.write_text(tmp_path / "t.txt", "t"),
        atomic.write_json(tmp_path / "j.json", {"a": 1}),
        atomic.write_csv(tmp_path / "c.csv", pd.DataFrame({"a": [1]})),
    ]
    with open(tmp_path / "reference.txt", "w") as fh:   # what open() itself does
        fh.write("r")
    expected = 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "reference.txt").stat().st_mode) == expected
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == expected, (p, oct(mask))
    # a replaced file gets the mode of a new one too, and no temporary file is left
    atomic.write_bytes(paths[0], b"y")
    assert stat.S_IMODE(paths[0].stat().st_mode) == expected
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(atomic.TEMP_PREFIX)]


def test_file_mode_follows_umask_changes(umask):
    umask(0o077)
    assert atomic.file_mode() == 0o600
    umask(0o022)
    assert atomic.file_mode() == 0o644


# --------------------------------------------------------------------------- CSV injection
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_would_run(cell: str) -> bool:
    """Would a spreadsheet treat this CSV cell as a formula (OWASP)?"""
    return cell.startswith(_DANGEROUS) and not _is_number(cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower() not in ("nan", "inf", "-inf", "+inf",
                                                          "infinity", "-infinity", "+infinity")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.text(min_size=0, max_size=30),
    st.builds(lambda c, t: c + t, st.sampled_from(_DANGEROUS + ("'", " ")), st.text(max_size=20)),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-10**12, 10**12),
), min_size=1, max_size=12))
def test_csv_cells_never_start_a_formula(tmp_path_factory, values):
    frame = pd.DataFrame({"key": [f"k{i}" for i in range(len(values))],
                          "value": pd.Series(values, dtype=object)})
    text = atomic.write_csv(tmp_path_factory.mktemp("csv") / "x.csv", frame).read_bytes().decode(
        "utf-8")
    rows = _cells(text)[1:]
    assert len(rows) == len(values)
    for (_, cell), original in zip(rows, values):
        assert not _spreadsheet_would_run(cell), (cell, original)
        if isinstance(original, str):
            # nothing lost: the text is the original, or it behind one quote
            assert cell in (original, "'" + original)
            if original.startswith(_DANGEROUS) and not _is_number(original):
                assert cell == "'" + original
        else:   # numbers stay numbers, negative ones included
            assert float(cell) == pytest.approx(float(original), rel=1e-15, abs=0)


def test_csv_examples_and_numbers():
    frame = pd.DataFrame({
        "text": ["=HYPERLINK(\"http://x\")", "+44 20 7946 0958", "-2+3", "@SUM(A1)", "\tx",
                 "\r=1", "plain", "-1.5", "+3", "1e5", "'=quoted"],
        "num": [-1.5, -2.0, 0.0, 3.0, -1e-9, np.nan, 1, -7, 8, 9, 10],
    })
    out = atomic.neutralise_csv_cells(frame)
    assert out["text"].tolist() == [
        "'=HYPERLINK(\"http://x\")", "'+44 20 7946 0958", "'-2+3", "'@SUM(A1)", "'\tx",
        "'\r=1", "plain", "-1.5", "+3", "1e5", "'=quoted"]
    assert out["num"].dtype == float
    pd.testing.assert_series_equal(out["num"], frame["num"])
    # the file read back: numbers are numbers
    back = pd.read_csv(io.StringIO(out.to_csv(index=False)))
    assert back["num"].iloc[0] == -1.5 and back["num"].dtype == float
    # column names from data are neutralised too
    assert atomic.neutralise_csv_cells(pd.DataFrame({"=cmd": [1]})).columns.tolist() == ["'=cmd"]


def test_summary_csv_neutralises_recorded_text(tmp_path):
    """summary.csv through the real collector: recorded text values from a
    notebook (a segment label, a note) that start a formula are neutralised,
    recorded negative numbers stay numbers."""
    import json

    import yaml

    from csmlib.run.batch import collect_summary, plan_runs
    from csmlib.run.study import load_study

    (tmp_path / "w1.csv").write_text("id,x\n1,1\n2,2\n3,3\n")
    (tmp_path / "instrument.yml").write_text(
        "name: smoke\nid_column: id\nconstructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")
    nb = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
    doc = {"name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
           "waves": [{"name": "w1", "data": "w1.csv"}], "notebooks": [str(nb)],
           "min_base": 1, "output": str(tmp_path / "runs")}
    (tmp_path / "study.yml").write_text(yaml.safe_dump(doc))
    study = load_study(tmp_path / "study.yml")
    (run,) = plan_runs(study)
    run.out_dir.mkdir(parents=True)
    for suffix in (".ipynb", ".html"):
        run.output(suffix).write_text("{}")
    values = {"label": "=cmd|' /C calc'!A0", "change": -3.25, "note": "@evil", "ok": "fine"}
    run.results_path.write_text(json.dumps({"schema": 1, "values": values, "frames": {}}))
    run.record_path.write_text(json.dumps({"status": "success"}))
    csv_path, _ = collect_summary(study)
    summary = pd.read_csv(csv_path).set_index("key")
    got = summary["value_text"]
    assert got["label"] == "'=cmd|' /C calc'!A0"
    assert got["note"] == "'@evil" and got["ok"] == "fine"
    assert summary["value_number"]["change"] == -3.25 and pd.isna(got["change"])


# --------------------------------------------------------------------------- processes
SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,North,2,b\n3,South,7,a\n4,South,5,b\n"


def _study(tmp_path: Path, sleep: float) -> Path:
    import yaml

    for name, text in (("w1", W1), ("w2", W2)):
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "instrument.yml").write_text(
        "name: smoke\nid_column: id\nsegment_columns: [region]\nconstructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")
    doc = {"name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
           "waves": [{"name": n, "data": f"{n}.csv"} for n in ("w1", "w2")],
           "notebooks": [str(SMOKE)], "parameters": {"seed": 3, "sleep": sleep},
           "segments": {"column": "region"}, "min_base": 1, "output": str(tmp_path / "runs")}
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


#: the checkout under test: child processes import csmlib from it, whatever
#: the caller's (possibly relative) PYTHONPATH says
_CHECKOUT = str(Path(__file__).resolve().parent.parent)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": _CHECKOUT}


def _csm(*args: str, cwd: Path):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "csmlib.run.cli", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=_env())


def _wait_for(condition, timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _kernels(pid: int) -> list:
    import psutil

    try:
        family = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in family:
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def _lock_holder(path: Path) -> str:
    try:
        return path.read_text().split()[0]
    except (OSError, IndexError):
        return ""


def _stop(proc) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def test_study_lock_refuses_a_second_holder_and_takes_over_a_dead_ones(tmp_path):
    """Two processes: while one holds the lock, run_study in another fails at
    once naming the holder's pid; once the holder is killed (-9), the lock
    is taken over."""
    import signal
    import subprocess
    import sys
    import time

    from csmlib.errors import StudyError
    from csmlib.run.batch import LOCK_NAME, InlineExecutor, run_study, study_lock

    path = _study(tmp_path, 0.0)
    folder = tmp_path / "runs" / "smoke"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from csmlib.run.batch import study_lock\n"
         f"with study_lock(Path({str(folder)!r})):\n"
         "    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, start_new_session=True, env=_env())
    try:
        assert holder.stdout.readline().strip() == b"held"
        t0 = time.monotonic()
        with pytest.raises(StudyError, match=f"another csm run of this study is running "
                                             f"\\(process {holder.pid} on "):
            run_study(path, executor=InlineExecutor())
        assert time.monotonic() - t0 < 5
        assert not list(folder.rglob("*.run.json"))      # nothing was run
        assert _lock_holder(folder / LOCK_NAME) == str(holder.pid)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        with study_lock(folder) as lock:                  # the dead holder's lock is free
            assert _lock_holder(lock) == str(os.getpid())
    finally:
        _stop(holder)


@pytest.mark.notebooks
def test_two_csm_runs_of_one_study_do_the_work_once(tmp_path):
    """Run A works; run B of the same study, started meanwhile, exits 2 at
    once naming A's pid; A completes every run exactly once."""
    import json
    import time

    from csmlib.run.batch import LOCK_NAME

    path = _study(tmp_path, 2.0)
    root = tmp_path / "runs" / "smoke"
    a = _csm("run", str(path), "--jobs", "2", "--no-progress", cwd=tmp_path)
    try:
        _wait_for(lambda: _lock_holder(root / LOCK_NAME) == str(a.pid) and _kernels(a.pid),
                  120, "run A to start its notebooks")
        t0 = time.monotonic()
        b = _csm("run", str(path), "--jobs", "2", "--no-progress", cwd=tmp_path)
        out_b, err_b = b.communicate(timeout=60)
        assert b.returncode == 2, err_b
        assert time.monotonic() - t0 < 30
        err_b = err_b.decode()
        assert f"another csm run of this study is running (process {a.pid} on " in err_b
        assert "Traceback" not in err_b
        out_a, err_a = a.communicate(timeout=300)
    finally:
        _stop(a)
    assert a.returncode == 0, err_a.decode()
    records = [json.loads(p.read_text()) for p in root.rglob("*.run.json")]
    assert len(records) == 6
    assert all(r["status"] == "success" and r["attempts"] == 1 for r in records)


@pytest.mark.notebooks
@pytest.mark.parametrize("jobs", [2, 1])
def test_kill_9_of_csm_run_leaves_no_process_behind(tmp_path, jobs):
    """SIGKILL the ``csm run`` process while its workers run notebooks: its
    workers, their kernels, the fork server and the resource tracker all end
    within seconds (``--jobs 1``: its kernel); the next run takes the
    study's lock over and completes."""
    import json
    import signal

    import psutil

    from csmlib.run.batch import LOCK_NAME

    path = _study(tmp_path, 60.0)
    root = tmp_path / "runs" / "smoke"
    proc = _csm("run", str(path), "--jobs", str(jobs), "--no-progress", cwd=tmp_path)
    try:
        _wait_for(lambda: len(_kernels(proc.pid)) == jobs, 120, f"{jobs} kernel(s)")
        family = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "ipykernel" in names, names
        assert ("forkserver" in names) == (jobs > 1), names
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        gone, alive = psutil.wait_procs(family, timeout=10)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, [(p.pid, " ".join(p.cmdline())[:80]) for p in alive]
    finally:
        _stop(proc)
    # the killed run's lock is taken over; nothing of it counts as done
    path.write_text(path.read_text().replace("sleep: 60.0", "sleep: 0.0"))
    again = _csm("run", str(path), "--jobs", "2", "--no-progress", cwd=tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert _lock_holder(root / LOCK_NAME) == str(again.pid)
    records = [json.loads(p.read_text()) for p in root.rglob("*.run.json")]
    assert len(records) == 6 and all(r["status"] == "success" for r in records)
