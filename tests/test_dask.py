"""Study runs on a real Dask cluster (scheduler and two workers on 127.0.0.1).

The scheduler and the workers are started with the ``dask scheduler`` /
``dask worker`` commands as separate processes, in a folder of their own (not
the study's folder, not the test's working directory), and stopped at the end.
The study is run with ``csm run --scheduler ADDR`` (and through
``DASK_SCHEDULER_ADDRESS``) and with the local process pool; the recorded
results must be the same.  The expected numbers of the smoke notebook are
computed here with pandas from the CSV text; the data-quality notebook's are
those of the local run of the same notebook (the claim under test is that the
cluster changes nothing).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

pytest.importorskip("distributed")

from csmlib.run.batch import make_executor, run_study  # noqa: E402
from csmlib.run.cli import main  # noqa: E402
from csmlib.run.study import load_study, relocate_study  # noqa: E402

pytestmark = pytest.mark.notebooks

# the helpers below run on the workers, which cannot import this test module
import cloudpickle  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "notebooks" / "_smoke.ipynb"
SMOKE_INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")
DEMO = ROOT / "data" / "demo"
DASK = Path(sys.executable).with_name("dask")

W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,North,2,b\n3,South,7,a\n4,South,5,b\n"

#: a notebook that reports, as recorded results, where and how it ran
PROBE_CODE = """\
import hashlib, os
from csmlib.report.keys import declare
from csmlib.report.record import record, set_results_path
set_results_path(results_path)
for key in ("cwd", "data_path", "instrument_path", "previous_results_path", "results_path_seen",
            "data_sha256"):
    declare(key, "string", "where and how the probe ran", notebook="probe")
declare("kernel_parent_pid", "integer", "the kernel's parent process", notebook="probe")
record("cwd", os.getcwd())
record("data_path", data_path)
record("instrument_path", instrument_path)
record("previous_results_path", previous_results_path)
record("results_path_seen", results_path)
with open(data_path, "rb") as fh:
    record("data_sha256", hashlib.sha256(fh.read()).hexdigest())
record("kernel_parent_pid", os.getppid())
"""


# --------------------------------------------------------------------------- cluster
def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture(scope="module")
def cluster():
    """``(address, worker_folder)``: a scheduler and two one-thread workers on
    loopback, each in its own process group, started in a private folder."""
    if not DASK.is_file():
        pytest.skip("the dask command is not installed")
    home = Path(tempfile.mkdtemp(prefix="csm-dask-cluster-"))
    sched_file = home / "scheduler.json"
    procs: list[subprocess.Popen] = []
    log = open(home / "cluster.log", "wb")   # noqa: SIM115 - closed in the finalizer
    try:
        procs.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)],
            cwd=home, stdout=log, stderr=log, start_new_session=True))
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not sched_file.is_file():
            pytest.fail("the Dask scheduler did not start: "
                        + (home / "cluster.log").read_text(errors="replace")[-2000:])
        time.sleep(0.2)   # the file is written in one go, but let it settle
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            wdir = home / f"worker{i}"
            wdir.mkdir()
            procs.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(wdir),
                 "--name", f"w{i}"],
                cwd=wdir, stdout=log, stderr=log, start_new_session=True))
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, home
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------- studies
def _probe_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "csm", "display_name": "csm", "language": "python"}
    params = ("study = ''\nwave = ''\nsegment = 'all'\ndata_path = ''\ninstrument_path = ''\n"
              "results_path = ''\nprevious_results_path = ''\n")
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(PROBE_CODE)]
    nbformat.write(nb, path)
    return path


def _smoke_study(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {"w1": W1, "w2": W2}.items():
        (folder / f"{name}.csv").write_text(text)
    (folder / "instrument.yml").write_text(SMOKE_INSTRUMENT)
    _probe_notebook(folder / "probe.ipynb")
    doc = {
        "name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
        "waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}],
        "notebooks": [str(SMOKE), "probe.ipynb"],
        "parameters": {"seed": 7}, "min_base": 1, "output": "runs",
    }
    path = folder / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _demo_one_wave(folder: Path) -> Path:
    """The demo study restricted to its first wave and the data-quality notebook
    (no report, no complaint log; its actions span waves)."""
    return relocate_study(DEMO / "study.yml", folder / "study.yml", first_waves=1, parameters={"n_boot": 50},
                          notebooks=[str(ROOT / "notebooks" / "data_quality.ipynb")], output="runs",
                          report=None, complaints=None)


def _expected(text: str, segment: str) -> dict:
    df = pd.read_csv(io.StringIO(text))
    if segment != "all":
        df = df[df["region"] == segment]
    return {"n": len(df), "mean_x": df["x"].mean(), "sum_x": df["x"].sum()}


def _under(path: str, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- audit
def _install_audit(root: str) -> int:
    """Worker side: remember every file operation that touches ``root``."""
    import sys as _sys

    events = []
    _sys.modules["csm_test_audit_events"] = events   # reachable from _audit_events

    def hook(event, args):
        if event in ("open", "os.rename", "os.replace", "os.remove", "os.mkdir",
                     "os.listdir", "os.scandir", "shutil.rmtree", "os.chdir"):
            for a in args:
                if isinstance(a, (str, bytes, os.PathLike)):
                    text = os.fsdecode(a)
                    if text.startswith(root):
                        events.append((event, text))

    _sys.addaudithook(hook)
    return os.getpid()


def _audit_events(clear: bool = False) -> list:
    import sys as _sys

    events = _sys.modules.get("csm_test_audit_events", [])
    out = list(events)
    if clear:
        events.clear()
    return out


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


# --------------------------------------------------------------------------- tests
def test_smoke_study_on_dask_equals_local(cluster, tmp_path, monkeypatch, capsys):
    address, cluster_home = cluster
    from distributed import Client

    study_dir = tmp_path / "study"
    path = _smoke_study(study_dir)
    with Client(address, timeout=30) as client:
        worker_pids = set(client.run(_install_audit, str(tmp_path)).values())
        worker_cwds = set(client.run(os.getcwd).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert all(_under(c, cluster_home) for c in worker_cwds), worker_cwds
    # the audit sees a worker touching the folder (positive control)
    control = tmp_path / "control.txt"
    control.write_text("seen")
    with Client(address, timeout=30) as client:
        assert set(client.run(_read, str(control)).values()) == {"seen"}
        seen = client.run(_audit_events, True)
    assert all(("open", str(control)) in ev for ev in seen.values()), seen

    # what crosses the wire: the input files as bytes, not paths to be read
    study = load_study(path, output=tmp_path / "spy")
    with Client(address, timeout=30) as client:
        sent = []

        class Spy:
            def submit(self, fn, *args):
                sent.append(args[0])
                return client.submit(fn, *args, pure=False)

        out = run_study(study, executor=Spy(), only="w1/all/*")
        assert out.ok, out.table
    payload = next(p for p in sent if p["run_id"] == "w1/all/_smoke")
    assert payload["inputs"]["data_path"] == ("w1.csv", W1.encode())
    assert payload["inputs"]["instrument_path"] == ("instrument.yml", SMOKE_INSTRUMENT.encode())
    assert payload["notebook"] == ("_smoke.ipynb", SMOKE.read_bytes())

    # DASK_SCHEDULER_ADDRESS chooses the cluster when --scheduler is not given
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    client = make_executor(2)
    try:
        assert type(client).__name__ == "Client"
        assert client.scheduler.address == address
    finally:
        client.close()
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")

    # csm run --scheduler ADDR, and the local process pool, on the same study
    assert main(["run", str(path), "--scheduler", address, "--no-progress",
                 "--output", str(tmp_path / "dask")]) == 0
    assert main(["run", str(path), "--jobs", "2", "--no-progress",
                 "--output", str(tmp_path / "local")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out.count("study smoke: 4 success") == 2

    # the workers never opened, listed or wrote anything under the test's folders
    with Client(address, timeout=30) as client:
        events = client.run(_audit_events)
    assert events and all(ev == [] for ev in events.values()), events

    dask_root, local_root = tmp_path / "dask" / "smoke", tmp_path / "local" / "smoke"
    texts = {"w1": W1, "w2": W2}
    for wave in ("w1", "w2"):
        for seg in ("all",):
            d = dask_root / wave / seg
            res = json.loads((d / "_smoke.results.json").read_text())["values"]
            exp = _expected(texts[wave], seg)
            assert res["n"] == exp["n"] and res["mean_x"] == exp["mean_x"]
            assert res["sum_x"] == exp["sum_x"] and res["seed"] == 7
            rec = json.loads((d / "_smoke.run.json").read_text())
            assert rec["status"] == "success" and rec["attempts"] == 1
            # the kernel ran under a worker, in a private folder, on a copy of the data
            probe = json.loads((d / "probe.results.json").read_text())["values"]
            assert probe["kernel_parent_pid"] in worker_pids
            assert not _under(probe["cwd"], tmp_path) and probe["cwd"] != os.getcwd()
            assert not _under(probe["data_path"], tmp_path)
            assert not _under(probe["instrument_path"], tmp_path)
            assert not _under(probe["results_path_seen"], tmp_path)
            assert probe["data_sha256"] == hashlib.sha256(texts[wave].encode()).hexdigest()
            if wave == "w2":
                assert probe["previous_results_path"] and not _under(
                    probe["previous_results_path"], tmp_path)
            # the executed notebook shows the user's paths, not the worker's copies
            nb = (d / "_smoke.ipynb").read_text()
            assert str(study_dir / f"{wave}.csv") in nb and "csm-run-" not in nb
            assert json.loads(nb)["metadata"]["papermill"]["input_path"] == str(SMOKE)

    # the same numbers as the local run: summary.csv equal row for row
    def summary(root: Path) -> pd.DataFrame:
        df = pd.read_csv(root / "summary.csv", dtype=str)
        return df[df["notebook"] == "_smoke"].reset_index(drop=True)

    pd.testing.assert_frame_equal(summary(dask_root), summary(local_root))
    assert len(summary(dask_root)) == 4 + 5   # n, mean_x, sum_x, seed (+ change in w2)
    for wave in ("w1", "w2"):
        for seg in ("all",):
            a = json.loads((dask_root / wave / seg / "_smoke.results.json").read_text())
            b = json.loads((local_root / wave / seg / "_smoke.results.json").read_text())
            assert a == b

    # rerun on the cluster: everything is up to date, nothing is sent
    assert main(["run", str(path), "--scheduler", address, "--no-progress",
                 "--output", str(tmp_path / "dask")]) == 0
    assert "study smoke: 4 skipped" in capsys.readouterr().out


def test_data_quality_notebook_on_dask_equals_local(cluster, tmp_path):
    address, _ = cluster
    path = _demo_one_wave(tmp_path / "study")
    with make_executor(2, address) as client:   # a distributed.Client
        assert type(client).__name__ == "Client"
        remote = run_study(load_study(path, output=tmp_path / "dask"), executor=client,
                           only="*/all/*")
    local = run_study(load_study(path, output=tmp_path / "local"), jobs=1, only="*/all/*")
    assert remote.ok, remote.table
    assert local.ok, local.table
    root_d = tmp_path / "dask" / remote.study.name
    root_l = tmp_path / "local" / local.study.name
    a = pd.read_csv(root_d / "summary.csv", dtype=str)
    b = pd.read_csv(root_l / "summary.csv", dtype=str)
    assert set(a["key"]) >= {"n"}
    pd.testing.assert_frame_equal(a, b)
    (res_d,) = root_d.rglob("data_quality.results.json")
    (res_l,) = root_l.rglob("data_quality.results.json")
    got = json.loads(res_d.read_text())
    assert got == json.loads(res_l.read_text())   # every recorded value and table
    assert len(got["frames"]) >= 2
    assert got["values"]["n"] == len(pd.read_csv(DEMO / "wave1.csv"))


def test_unreachable_scheduler_is_a_clear_error(capsys, tmp_path):
    path = _smoke_study(tmp_path / "study")
    assert main(["run", str(path), "--scheduler", "tcp://127.0.0.1:9", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("csm: error: cannot connect to the Dask scheduler")
    assert "tcp://127.0.0.1:9" in err and "Traceback" not in err
