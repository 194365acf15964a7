"""Wall time of a study run: fit once, report many vs one fit per notebook.

Usage::

    python benchmarks/bench_study.py                    # the whole demo study (57 runs), both methods
    python benchmarks/bench_study.py --first-wave       # its first wave only (19 runs)
    python benchmarks/bench_study.py --segments 10 40   # + synthetic 1-wave studies of 10 and 40 segments
    python benchmarks/bench_study.py --study my.yml --jobs 2 --only '2026Q1/*'

Each configuration runs the study from scratch (``force=True``) into its own
temporary output folder, as ``csm run`` does: kernels, notebooks, HTML
export, summary.  "fit once" is ``run_study(fit_once=True)`` (the default:
each worker runs its notebooks on one warm kernel, a wave x segment's fits
are estimated once, see ``csmlib.run.kernel`` and ``csmlib.run.fitcache``);
"one fit per notebook" is ``fit_once=False`` (a fresh kernel per notebook,
every notebook fitting its own models: the method before issue 16), timed
in the same run.  The recorded results of both are compared byte for byte.

The synthetic studies scale the demo's first wave to ``S`` segments of 150
respondents each (rows of ``wave1.csv`` drawn with replacement, seed 1):
``(S + 1) x 6 + 1`` runs; runs per second that stay flat as ``S`` grows
mean the study scales linearly.

The machine's load average is printed before and after: on a shared machine
wall times grow with the load, so compare figures measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo" / "study.yml"

#: respondents per segment of the synthetic studies
SEGMENT_N = 150


def _absolute_study(study_path: Path, folder: Path, *, first_wave: bool = False,
                    data: Path | None = None, name: str | None = None) -> Path:
    """A copy of a study file with absolute paths (so it runs from anywhere),
    optionally restricted to its first wave, or with another data file and
    name for that wave."""
    from csmlib.run.study import relocate_study

    doc = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    changes = {}
    if data is not None:
        changes = {"waves": [dict(doc["waves"][0], data=str(data))], "name": name or doc["name"]}
    out = folder / f"{changes.get('name', doc['name'])}{'-w1' if first_wave else ''}.yml"
    return relocate_study(study_path, out, first_waves=1 if first_wave or data is not None else None, **changes)


def _segments_study(folder: Path, n_segments: int) -> Path:
    """The demo's first wave as ``n_segments`` regions of SEGMENT_N respondents."""
    import numpy as np
    import pandas as pd

    demo_doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    wave1 = DEMO.parent / demo_doc["waves"][0]["data"]
    frame = pd.read_csv(wave1, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, len(frame), size=n_segments * SEGMENT_N)
    out = frame.iloc[rows].reset_index(drop=True)
    out["respondent_id"] = [str(i + 1) for i in range(len(out))]
    out["region"] = [f"R{i % n_segments:02d}" for i in range(len(out))]
    data = folder / f"segments{n_segments}.csv"
    out.to_csv(data, index=False, lineterminator="\n")
    return _absolute_study(DEMO, folder, data=data, name=f"bench-{n_segments}-segments")


def _results_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.results.json")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _time(study_path: Path, jobs: int, output: Path, fit_once: bool,
          only: list[str] | None = None) -> tuple[float, int, int, str]:
    from csmlib.run.batch import run_study
    from csmlib.run.study import load_study

    study = load_study(study_path, output=output)
    t0 = time.perf_counter()
    out = run_study(study, jobs=jobs, force=True, only=only, fit_once=fit_once)
    seconds = time.perf_counter() - t0
    failed = sum(o.status == "failed" for o in out.outcomes)
    ran = sum(o.status == "success" for o in out.outcomes)
    return seconds, ran, failed, _results_digest(output)


def _load() -> str:
    try:
        return "load average %.1f %.1f %.1f" % os.getloadavg()
    except OSError:   # pragma: no cover - not on every system
        return "load average unknown"


def _compare(label: str, study: Path, jobs: int, tmp: Path, only: list[str] | None) -> bool:
    """Time both methods on one study; True if both ran without failures
    and recorded the same results."""
    print(f"{label}: {study}  [{_load()}]", flush=True)
    fast, n, f1, d1 = _time(study, jobs, tmp / f"{label}-fit-once", True, only)
    print(f"  fit once, report many  (jobs={jobs}): {fast:7.1f} s  {n} runs, {f1} failed, "
          f"{n / fast:.2f} runs/s  [{_load()}]", flush=True)
    slow, n2, f2, d2 = _time(study, jobs, tmp / f"{label}-per-notebook", False, only)
    print(f"  one fit per notebook   (jobs={jobs}): {slow:7.1f} s  {n2} runs, {f2} failed, "
          f"{n2 / slow:.2f} runs/s  [{_load()}]", flush=True)
    same = d1 == d2
    print(f"  speed-up x{slow / fast:.2f}; recorded results identical: {same}", flush=True)
    return f1 == f2 == 0 and same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=DEMO, help="study file (default: the demo study)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--only", action="append", metavar="GLOB",
                        help="time only the runs matching wave/segment/notebook globs")
    parser.add_argument("--first-wave", action="store_true", help="time the study's first wave only")
    parser.add_argument("--segments", type=int, nargs="*", default=[], metavar="S",
                        help="also time synthetic 1-wave studies of S segments (fit once only)")
    parser.add_argument("--skip-study", action="store_true",
                        help="time only the synthetic studies of --segments")
    parser.add_argument("--keep", action="store_true",
                        help="keep the output folders (their run records and executed "
                             "notebooks show where the time went) and print where")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="csm-bench-"))
    ok = True
    try:
        if not args.skip_study:
            study = _absolute_study(Path(args.study), tmp, first_wave=args.first_wave)
            ok = _compare("study", study, args.jobs, tmp, args.only)
        for s in args.segments:
            study = _segments_study(tmp, s)
            print(f"{s} segments x 1 wave: {study}  [{_load()}]", flush=True)
            sec, n, failed, _ = _time(study, args.jobs, tmp / f"seg{s}", True)
            print(f"  fit once, report many  (jobs={args.jobs}): {sec:7.1f} s  {n} runs, "
                  f"{failed} failed, {n / sec:.2f} runs/s  [{_load()}]", flush=True)
            ok = ok and failed == 0
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"outputs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
