"""Benchmark: 5,000 bootstrap resamples of ECSI on mobi (target <= 1 s on 2 cores),
versus a plain per-resample loop of fit_pls on resampled DataFrames (200 timed, scaled).

Prints, in one run: the machine load (os.getloadavg), the wall and CPU time
of csm.bootstrap serial (n_jobs=1), on 2 threads and on 2 forked processes,
the loop's figure and the ratio.  Wall time depends on the load: on a
2-core machine with load 2 or more, expect wall > CPU / 2.

    python benchmarks/bench_bootstrap_pls.py
"""

from __future__ import annotations

import os
import time

import csmlib as csm
from csmlib.estimate.bootstrapping import resample_indices

N_BOOT, N_LOOP = 5000, 200


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main() -> dict:
    survey = csm.datasets.load("mobi")
    fit = csm.fit_pls(csm.models.ecsi(), survey)
    csm.bootstrap(fit, 250, seed=0)                      # warm-up (imports, BLAS)
    load0 = os.getloadavg()
    rows = {}
    for label, kw in (("serial", dict(n_jobs=1)), ("2 threads", dict(n_jobs=2, backend="threads")),
                      ("2 processes", dict(n_jobs=2, backend="processes"))):
        boot, wall, cpu = _timed(lambda: csm.bootstrap(fit, n_boot=N_BOOT, seed=1, **kw))
        rows[label] = (wall, cpu, boot.n_failed)
    data = fit.data
    idx = resample_indices(len(data), N_LOOP, 1)
    t = time.perf_counter()
    for b in range(N_LOOP):
        csm.fit_pls(fit.spec, data.iloc[idx[b]].reset_index(drop=True))
    loop = (time.perf_counter() - t) * N_BOOT / N_LOOP
    load1 = os.getloadavg()
    fast = rows["2 threads"][0]                          # the default (n_jobs=2, threads)
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")
    for label, (wall, cpu, failed) in rows.items():
        print(f"  csm.bootstrap ECSI mobi {N_BOOT} resamples, {label:12s}: wall {wall:.2f} s, "
              f"process CPU {cpu:.2f} s, failed {failed}")
    print(f"bootstrap PLS ECSI mobi: {N_BOOT} resamples in {fast:.2f} s wall (default: 2 threads; "
          f"target <= 1 s); per-resample fit_pls loop: {loop:.1f} s (from {N_LOOP}); "
          f"speed-up x{loop / fast:.1f}")
    return {"batched_s": fast, "loop_s": loop, "ratio": loop / fast, "rows": rows, "load": load0}


if __name__ == "__main__":
    main()
