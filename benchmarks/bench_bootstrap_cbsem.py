"""Benchmark: 1,000 bootstrap resamples of a CB-SEM ACSI model at n = 250
(target <= 10 s), versus a per-resample fresh csm.fit_cbsem (20 timed, scaled)
and lavaan's ``bootstrapLavaan(fit, R = 1000, FUN = "coef")`` on the same data in
the same run (when ``Rscript`` with lavaan is on the PATH; target: csmlib at
least 20x faster, though it computes more statistics per resample).

Data: simulated from csmlib.analysis.simulate.acsi_population (10-point items), seed 1.
``csm.bootstrap(fit, 1000)`` with the default statistics (estimates incl.
variances, indirect and total effects, R-squared, HTMT) uses warm-started
batched ML refits; non-converged refits count as failed.  Prints the
machine load, wall and CPU time, failures, the loop's figure and the ratio.

    python benchmarks/bench_bootstrap_cbsem.py
"""

from __future__ import annotations

import os
import time
import warnings

import csmlib as csm
from csmlib.estimate.bootstrapping import resample_indices

N_BOOT, N_LOOP = 1000, 20


def main() -> dict:
    from csmlib.analysis import simulate

    sim = simulate.simulate_survey(simulate.acsi_population(), 250, seed=1)
    spec = csm.models.acsi()
    data = sim.data[list(spec.indicators)]
    load0 = os.getloadavg()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = csm.fit_cbsem(spec, data)
        csm.bootstrap(fit, 20, seed=0)                   # warm-up
        t, c = time.perf_counter(), time.process_time()
        boot = csm.bootstrap(fit, N_BOOT, seed=1, n_jobs=2)
        fast, cpu = time.perf_counter() - t, time.process_time() - c
        idx = resample_indices(len(data), N_LOOP, 1)
        t = time.perf_counter()
        for b in range(N_LOOP):
            csm.fit_cbsem(spec, data.iloc[idx[b]].reset_index(drop=True))
        loop = (time.perf_counter() - t) * N_BOOT / N_LOOP
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")
    print(f"bootstrap CB-SEM ACSI n=250: {N_BOOT} resamples, {boot.draws.shape[1]} statistics "
          f"({', '.join(sorted(set(boot.keys['group'])))}) in {fast:.2f} s wall, process CPU {cpu:.2f} s "
          f"(target <= 10 s; engine {boot.engine}, failed {boot.n_failed}); per-resample fresh "
          f"fit_cbsem: {loop:.1f} s (from {N_LOOP}); speed-up x{loop / fast:.1f}")
    from bench_cbsem_lavaan import _lavaan   # the same lavaan runner as the fit benchmark

    theirs = _lavaan("boot", spec.to_lavaan(), data, 1)
    out = {"batched_s": fast, "loop_s": loop, "ratio": loop / fast}
    if theirs is None:
        print("lavaan bootstrapLavaan: not available (no Rscript with lavaan)")
    else:
        print(f"lavaan bootstrapLavaan(R = 1000, FUN = 'coef'): {theirs:.2f} s; csmlib is "
              f"x{theirs / fast:.1f} faster (target >= 20)")
        out.update(lavaan_s=theirs, lavaan_ratio=theirs / fast)
    return out


if __name__ == "__main__":
    main()
