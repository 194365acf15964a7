"""Faults during a batch run (issue #7 item 3).

A kernel that dies, a worker process killed while runs are in flight, a full
disk, an interrupted ``csm run``.  For each: what had finished is still on
disk, complete and unchanged; the failure is reported in one clear message
with a non-zero exit code and no traceback; running again completes the rest
without redoing what had finished.  Expected numbers are computed here with
pandas from the CSV text.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from csmlib import atomic
from csmlib.run.batch import LocalPool, run_study
from csmlib.run.cli import main
from csmlib.errors import StudyError
from csmlib.run.study import load_study

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
SMOKE_INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")


def _with_column(text: str, name: str) -> str:
    """``text`` with one more (empty) column ``name``: the smoke notebook's switch."""
    head, *rows = text.splitlines()
    return "\n".join([f"{head},{name}"] + [f"{r}," for r in rows]) + "\n"

W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,North,2,b\n3,South,7,a\n4,South,5,b\n"
W3 = "id,region,x,y\n1,North,9,a\n2,South,2,b\n3,South,4,a\n"


def _study(tmp_path: Path, waves: dict[str, str], segments: bool = False, **params) -> Path:
    for name, text in waves.items():
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "instrument.yml").write_text(SMOKE_INSTRUMENT)
    doc = {
        "name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
        "waves": [{"name": n, "data": f"{n}.csv"} for n in waves],
        "notebooks": [str(SMOKE)], "parameters": {"seed": 3, **params},
        "min_base": 1, "output": str(tmp_path / "runs"),
    }
    if segments:
        doc["segments"] = {"column": "region"}
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _mean_x(text: str, segment: str = "all") -> float:
    df = pd.read_csv(io.StringIO(text))
    return float((df if segment == "all" else df[df["region"] == segment])["x"].mean())


def _records(root: Path) -> dict[Path, tuple[int, bytes]]:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.run.json")}


def _check_outputs_intact(root: Path) -> None:
    """Every output parses; no temporary file is left; a success has all its files."""
    assert not [p for p in root.rglob("*") if p.name.startswith(atomic.TEMP_PREFIX)]
    for p in root.rglob("*.json"):
        json.loads(p.read_text())
    for p in root.rglob("*.ipynb"):
        nbformat.read(p, as_version=4)
    for p in root.rglob("*.run.json"):
        rec = json.loads(p.read_text())
        if rec["status"] == "success":
            stem = p.name[: -len(".run.json")]
            for suffix in (".ipynb", ".html", ".results.json"):
                assert (p.parent / f"{stem}{suffix}").is_file(), (p, suffix)


# --------------------------------------------------------------------------- kernel dies
@pytest.mark.notebooks
def test_kernel_dies_reported_and_resumed(tmp_path, capsys):
    path = _study(tmp_path, {"w1": W1, "w2": _with_column(W2, "die")})
    root = tmp_path / "runs" / "smoke"
    assert main(["run", str(path), "--jobs", "2", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "FAILED w2/all/_smoke: the notebook's kernel died" in captured.err
    assert "Traceback" not in captured.err
    _check_outputs_intact(root)
    rec = json.loads((root / "w2" / "all" / "_smoke.run.json").read_text())
    assert rec["status"] == "failed" and "kernel died" in rec["error"]
    assert not (root / "w2" / "all" / "_smoke.results.json").exists()
    before = _records(root / "w1")

    (tmp_path / "w2.csv").write_text(W2)
    assert main(["run", str(path), "--jobs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 skipped" in out and "1 success" in out
    assert _records(root / "w1") == before
    res = json.loads((root / "w2" / "all" / "_smoke.results.json").read_text())["values"]
    assert res["mean_x"] == _mean_x(W2)
    assert res["change_mean_x"] == pytest.approx(_mean_x(W2) - _mean_x(W1), abs=1e-12)


# --------------------------------------------------------------------------- worker killed
@pytest.mark.notebooks
def test_worker_process_killed_midway(tmp_path):
    """SIGKILL a pool worker while it runs a notebook: the runs in flight are
    tried again on a fresh pool, and the study completes with correct numbers."""
    import psutil

    path = _study(tmp_path, {"w1": W1, "w2": W2}, segments=True, sleep=2.0)
    root = tmp_path / "runs" / "smoke"
    pool = LocalPool(2)
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for pid in list(pool._processes):
                try:
                    kids = psutil.Process(pid).children()
                except psutil.NoSuchProcess:
                    continue
                if kids:                         # its kernel is running a notebook
                    time.sleep(1.0)              # ... well into it
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        out = run_study(path, executor=pool)
    finally:
        pool.shutdown(wait=True)
    thread.join(5)
    assert killed, "no worker was killed"
    assert out.ok, out.table
    assert sorted(o.status for o in out.outcomes) == ["success"] * 6
    attempts = {p.parent.name + "/" + p.parent.parent.name: json.loads(p.read_text())["attempts"]
                for p in root.rglob("*.run.json")}
    assert max(attempts.values()) == 2 and min(attempts.values()) == 1, attempts
    _check_outputs_intact(root)
    for wave, text in (("w1", W1), ("w2", W2)):
        for seg in ("all", "North", "South"):
            res = json.loads((root / wave / seg / "_smoke.results.json").read_text())["values"]
            assert res["mean_x"] == _mean_x(text, seg)
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"


def test_worker_that_always_dies_fails_after_retry(tmp_path):
    """A run that kills its worker every time fails after MAX_ATTEMPTS, with a
    plain message, and the runs that do not depend on it still run."""
    path = _study(tmp_path, {"w1": W1, "w2": W2})

    class DyingPool:
        generation = 0
        renewed = 0
        submitted: list[str] = []

        def submit(self, fn, payload):
            self.submitted.append(payload["run_id"])
            fut = Future()
            fut.set_exception(BrokenProcessPool("A child process terminated abruptly"))
            return fut

        def renew(self, generation):
            if generation == self.generation:
                self.generation += 1
                self.renewed += 1

    pool = DyingPool()
    out = run_study(path, executor=pool, only="w1/*")
    (o,) = out.outcomes
    assert o.status == "failed"
    assert o.error.startswith("the worker process died while running the notebook (2 attempt")
    assert pool.submitted == ["w1/all/_smoke", "w1/all/_smoke"] and pool.renewed == 2
    rec = json.loads((tmp_path / "runs" / "smoke" / "w1" / "all" / "_smoke.run.json").read_text())
    assert rec["status"] == "failed" and rec["attempts"] == 2


# --------------------------------------------------------------------------- disk full
@pytest.mark.notebooks
def test_disk_full_keeps_finished_runs(tmp_path, monkeypatch, capsys):
    path = _study(tmp_path, {"w1": W1, "w2": W2, "w3": W3})
    root = tmp_path / "runs" / "smoke"
    assert main(["run", str(path), "--jobs", "1", "--no-progress", "--only", "w1/*"]) == 0
    before = _records(root)
    assert len(before) == 1

    real_fsync = atomic.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    assert main(["run", str(path), "--jobs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("csm: error: cannot write the study's outputs: No space left on device")
    assert str(root / "w2" / "all") in err and "run the same command again" in err
    assert "Traceback" not in err
    assert _records(root) == before                    # w1's record unchanged
    _check_outputs_intact(root)
    assert not (root / "w2" / "all" / "_smoke.run.json").exists()
    assert not (root / "w2" / "all" / "_smoke.results.json").exists()

    # also through the Python API: a StudyError, never a raw OSError
    with pytest.raises(StudyError, match="No space left on device"):
        run_study(load_study(path), jobs=1)
    _check_outputs_intact(root)

    monkeypatch.setattr(atomic.os, "fsync", real_fsync)   # space freed
    out = run_study(load_study(path), jobs=1)
    assert out.table["status"].tolist() == ["skipped", "success", "success"]
    assert _records(root)[root / "w1" / "all" / "_smoke.run.json"] == before[
        root / "w1" / "all" / "_smoke.run.json"]
    res = json.loads((root / "w3" / "all" / "_smoke.results.json").read_text())["values"]
    assert res["mean_x"] == _mean_x(W3)
    assert res["change_mean_x"] == pytest.approx(_mean_x(W3) - _mean_x(W2), abs=1e-12)


# --------------------------------------------------------------------------- interrupted
@pytest.mark.notebooks
def test_interrupted_run_then_resumed(tmp_path, capsys):
    """SIGINT to ``csm run`` while notebooks run: it stops promptly with a
    message and exit code 130, leaves no worker or kernel behind, and the rerun
    finishes the rest without redoing what had finished."""
    import psutil

    path = _study(tmp_path, {"w1": W1, "w2": W2}, segments=True, sleep=3.0)
    root = tmp_path / "runs" / "smoke"
    proc = subprocess.Popen(
        [sys.executable, "-m", "csmlib.run.cli", "run", str(path), "--jobs", "2", "--no-progress"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while (not list(root.rglob("*.run.json")) and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert list(root.rglob("*.run.json")), "no run finished"
        time.sleep(0.5)
        family = psutil.Process(proc.pid).children(recursive=True)
        assert family, "no worker running"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)        # the parent only, as `kill -INT` would
        out, err = proc.communicate(timeout=60)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = err.decode()
    assert proc.returncode == 130, err
    assert "interrupted; run the same command again to resume" in err
    assert "Traceback" not in err
    assert stopped_in < 20
    gone, alive = psutil.wait_procs(family, timeout=15)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    _check_outputs_intact(root)
    finished = {p: v for p, v in _records(root).items()
                if json.loads(v[1])["status"] == "success"}
    assert finished and len(finished) < 6

    assert main(["run", str(path), "--jobs", "2", "--no-progress"]) == 0
    summary = capsys.readouterr().out
    assert f"{len(finished)} skipped" in summary and f"{6 - len(finished)} success" in summary
    after = _records(root)
    for p, v in finished.items():
        assert after[p] == v, p
    for wave, text in (("w1", W1), ("w2", W2)):
        for seg in ("all", "North", "South"):
            res = json.loads((root / wave / seg / "_smoke.results.json").read_text())["values"]
            assert res["mean_x"] == _mean_x(text, seg)


@pytest.mark.parametrize("code, fragment", [(__import__("errno").ENOSPC, "free disk space"),
                                            (__import__("errno").ENOTDIR, "move the file"),
                                            (__import__("errno").EACCES, "make the output folder writable")])
def test_write_errors_say_what_to_do_for_their_cause(tmp_path, code, fragment):
    """A file standing where an output folder must go was reported with the
    hint to free disk space."""
    import os

    from csmlib.errors import StudyError
    from csmlib.run.batch import _writing

    with pytest.raises(StudyError) as info:
        with _writing(tmp_path):
            raise OSError(code, os.strerror(code), str(tmp_path / "x"))
    assert fragment in str(info.value)
    assert ("free disk space" in str(info.value)) == (code == __import__("errno").ENOSPC)


def test_a_kernel_that_never_started_is_tried_again_but_a_dying_notebook_is_not():
    """jupyter_client's start-up failures (no cell ran) are retried once; a
    kernel that dies while the notebook runs is the notebook's failure."""
    from csmlib.run.batch import _error_message, _kernel_did_not_start

    assert _kernel_did_not_start("RuntimeError: Kernel died before replying to kernel_info")
    assert _kernel_did_not_start("RuntimeError: Kernel didn't respond in 60 seconds")
    dead = type("DeadKernelError", (RuntimeError,), {})("Kernel died")
    assert not _kernel_did_not_start(_error_message(dead))
    assert not _kernel_did_not_start("ValueError: cannot use x (in cell [3])")
