"""Benchmark: ``csm.plan_sample`` for the ACSI population, 5 sample sizes
(100, 200, 300, 500, 1,000) x 500 replications, PLS and CB-SEM (target
<= 30 s each on 2 cores), against a plain loop of fits in the same run.

Data: drawn from csmlib.analysis.simulate.acsi_population (10-point items),
seed 1.  ``plan_sample`` estimates every replication with the batched
engines of the bootstrap (the PLS core on stacked covariance matrices;
warm-started batched Fisher scoring and batched expected information for
CB-SEM).  The loop draws the same kind of samples and fits each with
``csm.fit_pls`` / ``csm.fit_cbsem`` (which also give the standard errors
the plan needs), ``N_LOOP`` per size, scaled to 500.  Prints the machine
load, wall and process CPU time, the loop's figure and the ratio.

    python benchmarks/bench_plan_sample.py
"""

from __future__ import annotations

import os
import time
import warnings

import csmlib as csm

SIZES = (100, 200, 300, 500, 1000)
REPS, N_LOOP = 500, 10


def _loop(pop, method: str) -> float:
    """Seconds a plain loop of fits would take for SIZES x REPS (N_LOOP per size timed)."""
    from csmlib.analysis.simulate import simulate_survey

    spec = pop.spec()
    items = list(pop.items)
    fit = csm.fit_pls if method == "pls" else csm.fit_cbsem
    total = 0.0
    for k, n in enumerate(SIZES):
        t = time.perf_counter()
        for r in range(N_LOOP):
            data = simulate_survey(pop, n, seed=1000 * k + r).data[items]
            res = fit(spec, data)
            res.paths[["est", "se", "pvalue"]].to_numpy()
        total += (time.perf_counter() - t) * REPS / N_LOOP
    return total


def main() -> dict:
    from csmlib.analysis.simulate import acsi_population

    pop = acsi_population()
    out = {}
    load0 = os.getloadavg()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        csm.plan_sample(pop, [60], reps=5, seed=0)    # warm-up (imports)
        for method in ("pls", "cbsem"):
            t, c = time.perf_counter(), time.process_time()
            plan = csm.plan_sample(pop, list(SIZES), reps=REPS, seed=1, method=method)
            fast, cpu = time.perf_counter() - t, time.process_time() - c
            loop = _loop(pop, method)
            failed = plan.paths.groupby("n")["n_failed"].first().sum()
            print(f"plan_sample {method} ACSI, sizes {list(SIZES)} x {REPS} replications: {fast:.2f} s wall, "
                  f"process CPU {cpu:.2f} s (target <= 30 s; {failed} of {len(SIZES) * REPS} samples failed); "
                  f"plain loop of fits: {loop:.1f} s (from {N_LOOP} per size); speed-up x{loop / fast:.1f}")
            out[method] = {"batched_s": fast, "cpu_s": cpu, "loop_s": loop, "ratio": loop / fast}
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")
    return out


if __name__ == "__main__":
    main()
