"""The package installs anywhere: a built wheel carries the datasets, the
report notebooks and the demo study, and a fresh environment starts and runs
a study from it (issue 15, item 5).

Everything works offline: the wheel is built with ``--no-build-isolation``
from a copy of the source tree (the tree itself stays clean), and the fresh
venv reaches the dependencies already installed in this environment through
a ``.pth`` line instead of downloading them.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".hypothesis", "runs", "_bundled")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source tree."""
    from importlib.metadata import version

    major = int(version("setuptools").split(".")[0])
    assert major >= 77, (f"setuptools {version('setuptools')} cannot build the wheel offline: "
                         "install the dev extra (make setup upgrades it to >=77)")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    dist = work / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", str(dist), str(src)],
        capture_output=True, text=True, timeout=300, cwd=work,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = dist.glob("csm_workbench-*.whl")
    return found


def test_wheel_carries_datasets_notebooks_and_demo_but_not_references(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {n.removeprefix("csmlib/_bundled/") for n in names if n.startswith("csmlib/_bundled/")}
    for d in sorted(p for p in (ROOT / "data").iterdir() if p.is_dir() and p.name != "references"):
        for f in d.iterdir():
            assert f"data/{d.name}/{f.name}" in bundled, f
    assert "data/PROVENANCE.md" in bundled
    shipped = {n.removeprefix("notebooks/") for n in bundled if n.startswith("notebooks/")}
    expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("_")}
    assert shipped == expected and "study_report.ipynb" in shipped
    assert not any(n.startswith("data/references") for n in bundled)
    for t in ("instrument.yml", "study.yml", "README.md"):
        assert f"csmlib/run/templates/{t}" in names


def _fresh_venv(where: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed; dependencies come from this
    environment's site-packages (a .pth line, written after the install so
    pip never sees the clone's editable install)."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (fresh_site,) = where.glob("lib/python3*/site-packages")
    deps = [p for p in site.getsitepackages() if p.endswith("site-packages")]
    (fresh_site / "_csm_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    # what `pip install nbconvert` puts into a venv's share/ (the HTML templates)
    for share in deps:
        templates = Path(share).parents[2] / "share" / "jupyter" / "nbconvert"
        if templates.is_dir():
            (where / "share" / "jupyter").mkdir(parents=True, exist_ok=True)
            (where / "share" / "jupyter" / "nbconvert").symlink_to(templates)
            break
    return python


@pytest.mark.slow
def test_fresh_venv_installs_the_wheel_inits_and_runs_the_demo(wheel, tmp_path):
    python = _fresh_venv(tmp_path / "venv", wheel)
    csm = tmp_path / "venv" / "bin" / "csm"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}

    def run(*cmd: str | Path, timeout: int = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                              timeout=timeout, cwd=outside, env=env)
        assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
        return proc

    # the package is the wheel's copy, and its bundled files are inside it
    probe = run(python, "-c", (
        "import csmlib as csm, csmlib.bundled as b\n"
        "print(csm.__file__); print(b.bundled_dir('notebooks'))\n"
        "s = csm.datasets.load('mobi'); print(s.n, len(s.data.columns))"))
    lib, notebooks, loaded = probe.stdout.splitlines()
    site_dir = str(next((tmp_path / "venv").glob("lib/python3*/site-packages")))
    assert lib.startswith(site_dir) and notebooks.startswith(site_dir), probe.stdout
    assert loaded.split()[0] == "250"   # mobi: 250 respondents (data/PROVENANCE.md)

    study = outside / "STUDY"
    init = run(csm, "init", study, "--demo", "--waves", "1")
    assert "ipykernel install --sys-prefix --name csm" in init.stdout   # not registered yet
    run(python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "csm")
    done = run(csm, "run", study / "study.yml", "--no-progress", timeout=1500)
    from csmlib.run.batch import plan_runs   # the runs the drafted study plans
    from csmlib.run.study import load_study

    planned = len(plan_runs(load_study(study / "study.yml")))
    assert f"{planned} success" in done.stdout, done.stdout + done.stderr
    out = outside / "runs" / "demo-acsi" / "2026Q1" / "all"
    assert (out / "study_report.html").is_file()
    import json

    rec = json.loads((out / "index_drivers.run.json").read_text())
    assert rec["inputs"]["notebook"]["path"].startswith(site_dir)   # the packaged notebook
    index = json.loads((out / "index_drivers.results.json").read_text())["values"]["index"]
    assert 0 < index < 100
