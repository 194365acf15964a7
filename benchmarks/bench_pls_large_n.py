"""PLS at n = 1,000,000 vs n = 250: wall time and peak memory of csm.fit_pls,
and the same fit done the straightforward way (pandas, every iteration on the
raw data), all measured in this one run.

Data: the ECSI model on rows resampled from data/mobi/mobi.csv (24 items).
Peak memory is the peak of Python-tracked allocations (tracemalloc; numpy and
pandas buffers included) during the call, on top of the input frame.

    python benchmarks/bench_pls_large_n.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

import csmlib as csm
from csmlib.estimate.pls import fit_pls

ROOT = Path(__file__).resolve().parents[1]
SPEC = csm.models.ecsi()   # its default items are mobi's
BLOCKS = {c.name: list(c.indicators) for c in SPEC.constructs}
PATHS = list(SPEC.paths)   # (predictor, outcome)


def straightforward_pls(df: pd.DataFrame, tol: float = 1e-7, max_iter: int = 300) -> dict:
    """Path-weighting PLS as usually written: standardize the raw data, then
    every iteration compute scores and proxies on all n rows with pandas."""
    Z = (df - df.mean()) / df.std()
    names = list(BLOCKS)
    preds = {k: [f for f, t in PATHS if t == k] for k in names}
    succs = {k: [t for f, t in PATHS if f == k] for k in names}
    w = {k: pd.Series(1.0, index=v) for k, v in BLOCKS.items()}
    for _ in range(max_iter):
        Y = pd.DataFrame({k: Z[BLOCKS[k]] @ w[k] for k in names})
        Y = Y / Y.std()
        C = Y.corr()
        new = {}
        for k in names:
            z = sum(C.loc[k, j] * Y[j] for j in succs[k]) if succs[k] else 0.0
            if preds[k]:
                Pm = C.loc[preds[k], preds[k]].to_numpy()
                beta = np.linalg.solve(Pm, C.loc[preds[k], k].to_numpy())
                z = z + Y[preds[k]] @ beta
            if len(BLOCKS[k]) == 1:
                wk = pd.Series(1.0, index=BLOCKS[k])
            else:
                wk = Z[BLOCKS[k]].mul(z, axis=0).sum() / (len(Z) - 1)
            new[k] = wk / (Z[BLOCKS[k]] @ wk).std()
        delta = max((new[k] - w[k]).abs().max() for k in names)
        w = new
        if delta < tol:
            break
    return w


def measure(fn, *args, **kw):
    """Wall time of one call (untraced), then peak memory of a second, traced call."""
    gc.collect()
    t = time.perf_counter()
    out = fn(*args, **kw)
    wall = time.perf_counter() - t
    del out
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn(*args, **kw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, wall, peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat-small", type=int, default=20, help="fits of the n=250 data to average")
    args = ap.parse_args()
    load0 = os.getloadavg()
    mobi = pd.read_csv(ROOT / "data" / "mobi" / "mobi.csv")
    spec = SPEC
    rng = np.random.default_rng(args.seed)
    big = mobi.iloc[rng.integers(0, len(mobi), args.n)].reset_index(drop=True)
    big = big + rng.uniform(-0.5, 0.5, big.shape)   # jitter: distinct rows, same structure

    fit_pls(spec, mobi)  # warm up imports
    t = time.perf_counter()
    for _ in range(args.repeat_small):
        fit_pls(spec, mobi)
    small_wall = (time.perf_counter() - t) / args.repeat_small
    _, _, small_peak = measure(fit_pls, spec, mobi)
    res, big_wall, big_peak = measure(fit_pls, spec, big)
    w_naive, naive_wall, naive_peak = measure(straightforward_pls, big[list(spec.indicators)])

    ours = res.weights.set_index("rhs")["est"]
    diff = max(float(np.max(np.abs(ours[w.index].to_numpy() - w.to_numpy()))) for w in w_naive.values())
    data_mb = big.memory_usage(deep=True).sum() / 2**20
    print(f"PLS fit (ECSI, 24 items, path weighting), input frame at n={args.n:,}: {data_mb:,.0f} MiB")
    print(f"{'':32s}{'wall [s]':>12s}{'peak [MiB]':>14s}")
    print(f"{'fit_pls n=250':32s}{small_wall:12.4f}{small_peak:14.1f}")
    print(f"{f'fit_pls n={args.n:,}':32s}{big_wall:12.4f}{big_peak:14.1f}")
    print(f"{f'straightforward n={args.n:,}':32s}{naive_wall:12.4f}{naive_peak:14.1f}")
    print(f"ratio fit_pls n={args.n:,} / n=250: time {big_wall / small_wall:,.1f}x")
    print(f"ratio straightforward / fit_pls at n={args.n:,}: time {naive_wall / big_wall:,.1f}x, "
          f"peak memory {naive_peak / big_peak:,.2f}x")
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores; "
          f"target: n={args.n:,} in <= 5 s and 2 GB")
    print(f"max |weight difference| fit_pls vs straightforward: {diff:.2e}; "
          f"fit_pls converged={res.converged} after {res.n_iter} iterations")


if __name__ == "__main__":
    main()
