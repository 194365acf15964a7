"""Throughput of study runs on a local Dask cluster: 1 worker vs 2 workers.

Usage::

    python benchmarks/bench_dask.py              # 24 runs of the smoke notebook
    python benchmarks/bench_dask.py --runs 12 --sleep 0.5

The study is generated: one wave whose segment column has ``runs - 1``
values, so the study expands into ``runs`` independent runs (the whole sample
and every segment) of ``notebooks/_smoke.ipynb``.  Each configuration starts a
``distributed.LocalCluster`` on 127.0.0.1 (one thread per worker, worker
processes), runs the whole study from scratch through it, exactly as
``csm run --scheduler ADDR`` does, and stops the cluster.  Printed: wall time
and runs per minute for 1 and 2 workers, and the ratio.
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
SMOKE = ROOT / "notebooks" / "_smoke.ipynb"


def make_study(folder: Path, runs: int, sleep: float) -> Path:
    """A one-wave smoke study that expands into ``runs`` independent runs."""
    import numpy as np

    rng = np.random.default_rng(24)
    n_seg = runs - 1
    lines = ["id,region,x,y"]
    i = 0
    for s in range(n_seg):
        for _ in range(20):
            lines.append(f"{i},R{s:02d},{rng.integers(1, 11)},{rng.choice(['a', 'b'])}")
            i += 1
    (folder / "w1.csv").write_text("\n".join(lines) + "\n")
    (folder / "instrument.yml").write_text("name: bench\n")
    doc = {
        "name": "bench-dask", "instrument": "instrument.yml", "model": "S =~ x",
        "waves": [{"name": "w1", "data": "w1.csv"}], "segments": {"column": "region"},
        "notebooks": [str(SMOKE)], "parameters": {"seed": 1, "sleep": sleep}, "min_base": 5,
    }
    path = folder / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def time_on_cluster(study_path: Path, workers: int, output: Path) -> tuple[float, int, int]:
    """Wall time of the whole study on a fresh local cluster of ``workers`` workers."""
    from distributed import Client, LocalCluster

    from csmlib.run.batch import run_study
    from csmlib.run.study import load_study

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster.scheduler_address) as client:
        client.wait_for_workers(workers)
        study = load_study(study_path, output=output)
        t0 = time.perf_counter()
        out = run_study(study, executor=client, force=True)
        seconds = time.perf_counter() - t0
    failed = sum(o.status == "failed" for o in out.outcomes)
    return seconds, len(out.outcomes), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=24, help="runs in the study (default 24)")
    parser.add_argument("--sleep", type=float, default=0.0,
                        help="seconds each notebook waits (default 0: kernel start-up "
                             "and execution only)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="csm-bench-dask-"))
    try:
        study = make_study(tmp, args.runs, args.sleep)
        print(f"study: {args.runs} runs of {SMOKE.name} (generated, one wave, "
              f"{args.runs - 1} segments + all), sleep={args.sleep}s per notebook")
        one, n1, f1 = time_on_cluster(study, 1, tmp / "one")
        print(f"1 worker : {one:8.1f} s  {60 * n1 / one:6.1f} runs/min  ({f1} failed)")
        two, n2, f2 = time_on_cluster(study, 2, tmp / "two")
        print(f"2 workers: {two:8.1f} s  {60 * n2 / two:6.1f} runs/min  ({f2} failed)")
        print(f"throughput ratio 2 workers / 1 worker: {one / two:.2f}x")
        return 0 if f1 == f2 == 0 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
