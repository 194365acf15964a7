"""Benchmark: PLSpredict and the bootstrap of specific indirect effects (issue 14).

1. ``csm.predict_pls`` of ECSI on mobi, 10 folds x 10 repeats (target <= 2 s),
   against a per-fold loop of ``csm.fit_pls`` (the same 100 training sets,
   each fitted on its DataFrame, held-out rows predicted from the fit).
2. ``csm.bootstrap`` of ECSI on mobi, 2,000 resamples with every default
   statistic including every specific indirect effect (target <= 1 s),
   the same without the specific effects, and a per-resample loop of
   ``csm.fit_pls`` + ``.specific_effects`` (100 timed, scaled to 2,000).

Prints the machine load (os.getloadavg) before and after: on a loaded 2-core
machine wall times grow while process CPU times stay put.

    python benchmarks/bench_pls_effects.py
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

import csmlib as csm
from csmlib.analysis.predict import _fold_ids
from csmlib.estimate.bootstrapping import resample_indices

FOLDS, REPEATS, N_BOOT, N_LOOP = 10, 10, 2000, 100


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def fold_loop_predictions(spec, data: pd.DataFrame, fold: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The straightforward PLSpredict (DA): ``csm.fit_pls`` on every training
    set, the held-out rows predicted from its weights, paths and loadings.

    Returns the target items (indicators of endogenous constructs, model
    order) and their predictions ``(n, targets)``.  tests/test_pls_effects.py
    uses it as the independent reference for k-fold ``predict_pls``.
    """
    items = list(spec.indicators)
    X = data[items].to_numpy(float)
    endo = list(spec.endogenous)
    targets = [i for c in spec.constructs if c.name in endo for i in c.indicators]
    pred = np.full((len(X), len(targets)), np.nan)
    for f in np.unique(fold):
        tr, te = fold != f, fold == f
        res = csm.fit_pls(spec, pd.DataFrame(X[tr], columns=items))
        m, s = X[tr].mean(axis=0), X[tr].std(axis=0, ddof=1)
        Z = pd.DataFrame((X[te] - m) / s, columns=items)
        w = res.weights.set_index("rhs")["est"]
        scores = pd.DataFrame({c.name: Z[list(c.indicators)] @ w[list(c.indicators)] for c in spec.constructs})
        paths, load = res.paths, res.loadings.set_index("rhs")["est"]
        for y in endo:
            pr = paths[paths["lhs"] == y]
            eta = sum(b * scores[x] for x, b in zip(pr["rhs"], pr["est"]))
            for item in spec.construct(y).indicators:
                k = items.index(item)
                pred[te, targets.index(item)] = eta * load[item] * s[k] + m[k]
    return targets, pred


def main() -> dict:
    survey = csm.datasets.load("mobi")
    spec = csm.models.ecsi()
    data = survey.data
    csm.predict_pls(spec, data, folds=FOLDS, repeats=1, seed=0)          # warm-up
    fit = csm.fit_pls(spec, survey)
    csm.bootstrap(fit, 250, seed=0)
    load0 = os.getloadavg()
    _, pred_wall, pred_cpu = _timed(lambda: csm.predict_pls(spec, data, folds=FOLDS, repeats=REPEATS, seed=1))
    fold = _fold_ids(len(data), FOLDS, REPEATS, 1)
    _, loop_wall, _ = _timed(lambda: [fold_loop_predictions(spec, data, fold[r]) for r in range(REPEATS)])
    boot, boot_wall, boot_cpu = _timed(lambda: csm.bootstrap(fit, n_boot=N_BOOT, seed=1))
    groups = ["estimates", "effects", "r2", "index", "htmt"]
    _, nosp_wall, _ = _timed(lambda: csm.bootstrap(fit, n_boot=N_BOOT, seed=1, statistics=groups))
    idx = resample_indices(len(data), N_LOOP, 1)
    t = time.perf_counter()
    for b in range(N_LOOP):
        csm.fit_pls(spec, data.iloc[idx[b]].reset_index(drop=True)).specific_effects
    bloop = (time.perf_counter() - t) * N_BOOT / N_LOOP
    load1 = os.getloadavg()
    n_chains = len(boot.specific_effects)
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")
    print(f"predict_pls ECSI mobi {FOLDS} folds x {REPEATS} repeats: {pred_wall:.2f} s wall, {pred_cpu:.2f} s CPU "
          f"(target <= 2 s); per-fold fit_pls loop: {loop_wall:.1f} s; speed-up x{loop_wall / pred_wall:.1f}")
    print(f"bootstrap ECSI mobi {N_BOOT} resamples incl. {n_chains} specific effects: {boot_wall:.2f} s wall, "
          f"{boot_cpu:.2f} s CPU (target <= 1 s; without specific effects {nosp_wall:.2f} s); "
          f"fit_pls + specific_effects loop: {bloop:.1f} s (from {N_LOOP}); speed-up x{bloop / boot_wall:.1f}")
    return {"predict_s": pred_wall, "predict_loop_s": loop_wall, "boot_s": boot_wall,
            "boot_nospecific_s": nosp_wall, "boot_loop_s": bloop, "load": load0}


if __name__ == "__main__":
    main()
