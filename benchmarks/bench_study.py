"""Wall time of a study run, serial (jobs=1) vs parallel (jobs=2).

Usage::

    python benchmarks/bench_study.py                     # the demo study's first wave
    python benchmarks/bench_study.py --all-waves         # the whole demo study (slow)
    python benchmarks/bench_study.py --study data/demo/study.yml --jobs 2
    python benchmarks/bench_study.py --only '2026Q1/all/*'   # part of the demo study
    python benchmarks/bench_study.py --smoke                 # the generated smoke study

Each configuration runs the whole study from scratch (``force=True``) into its
own temporary output folder, so the timings include kernel start-up, notebook
execution, HTML export and the summary, exactly as ``csm run`` does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo" / "study.yml"
SMOKE = ROOT / "notebooks" / "_smoke.ipynb"


def _smoke_study(folder: Path, n_waves: int = 2, sleep: float = 1.0) -> Path:
    """A small study on the smoke notebook: n_waves x (all, North, South)."""
    import numpy as np

    rng = np.random.default_rng(1)
    for w in range(1, n_waves + 1):
        n = 300
        region = rng.choice(["North", "South"], size=n)
        lines = ["id,region,x,y"] + [
            f"{i},{region[i]},{rng.integers(1, 11)},{rng.choice(['a', 'b'])}" for i in range(n)]
        (folder / f"w{w}.csv").write_text("\n".join(lines) + "\n")
    (folder / "instrument.yml").write_text("name: bench\n")
    doc = {
        "name": "bench", "instrument": "instrument.yml", "model": "S =~ x",
        "waves": [{"name": f"w{w}", "data": f"w{w}.csv"} for w in range(1, n_waves + 1)],
        "segments": {"column": "region"}, "notebooks": [str(SMOKE)],
        "parameters": {"seed": 1, "sleep": sleep}, "min_base": 30,
    }
    path = folder / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _one_wave(study_path: Path, folder: Path) -> Path:
    """A temporary copy of a study file restricted to its first wave (paths made
    absolute, so the copy runs from anywhere)."""
    doc = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    base = study_path.resolve().parent

    def absolute(p: str) -> str:
        q = Path(p)
        return str(q if q.is_absolute() else base / q)

    wave = dict(doc["waves"][0])
    wave["data"] = absolute(wave["data"])
    doc["waves"] = [wave]
    doc["instrument"] = absolute(doc["instrument"])
    nbs = []
    for nb in doc.get("notebooks", []):
        name = nb if isinstance(nb, str) else None
        if name and ("/" in name or name.endswith(".ipynb")):
            nbs.append(absolute(name))
        else:
            nbs.append(nb)
    doc["notebooks"] = nbs
    out = folder / "one_wave_study.yml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _time(study_path: Path, jobs: int, output: Path, only: list[str] | None = None
          ) -> tuple[float, int, int]:
    from csmlib.run.batch import run_study
    from csmlib.run.study import load_study

    study = load_study(study_path, output=output)
    t0 = time.perf_counter()
    out = run_study(study, jobs=jobs, force=True, only=only)
    seconds = time.perf_counter() - t0
    failed = sum(o.status == "failed" for o in out.outcomes)
    return seconds, len(out.outcomes), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=None,
                        help="study file (default: the demo study, else a generated smoke study)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--only", action="append", metavar="GLOB",
                        help="time only the runs matching wave/segment/notebook globs")
    parser.add_argument("--all-waves", action="store_true",
                        help="time every wave of the study (default: its first wave only)")
    parser.add_argument("--smoke", action="store_true",
                        help="time the generated smoke study (2 waves x 3 segments) instead")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="csm-bench-"))
    try:
        if args.smoke or (args.study is None and not DEMO.is_file()):
            study = _smoke_study(tmp)
        else:
            study = args.study or DEMO
            if not args.all_waves:
                original = study
                study = _one_wave(Path(study), tmp)
                print(f"restricted to the first wave of {original} (temporary study file "
                      f"{study}); --all-waves for the whole study")
        print(f"study: {study}")
        serial, n_runs, f1 = _time(study, 1, tmp / "serial", args.only)
        print(f"serial   (jobs=1): {serial:8.1f} s  ({n_runs} runs, {f1} failed)")
        parallel, _, f2 = _time(study, args.jobs, tmp / "parallel", args.only)
        print(f"parallel (jobs={args.jobs}): {parallel:8.1f} s  ({n_runs} runs, {f2} failed)")
        print(f"speed-up serial/parallel: {serial / parallel:.2f}x")
        return 0 if f1 == f2 == 0 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
