"""Benchmark (issue 18): ordered items against lavaan, in the same run.

- the polychoric correlation matrix of 30 five-point items at n = 10,000
  (``csm.polychoric(..., gamma=False)`` against ``lavCor(d, ordered =
  names(d))``), and the same with the asymptotic covariance matrix
  (``gamma=True`` against ``lavCor(..., output = "fit", estimator = "DWLS",
  se = "robust.sem")``, which computes lavaan's NACOV);
- a WLSMV fit of the ACSI model of ``data/ordinal/make_acsi5.py`` at
  n = 2,000 (``csm.fit_cbsem(..., estimator="WLSMV", ordered=True)``
  against ``sem(..., ordered = TRUE, estimator = "WLSMV")``).

Data: 30 items of six correlated factors (loadings 0.55-0.85, seed 11) cut
at the thresholds of make_acsi5.py; the ACSI data from make_acsi5's
population (seed 12).  lavaan is timed inside R (``Rscript`` via
subprocess) on data already read; medians of a few repetitions.  Prints
the machine load, both times and the ratio (target: no slower than lavaan).

    python benchmarks/bench_ordinal.py
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import csmlib as csm
from bench_cbsem_lavaan import _lavaan, _median_time, _print_load, _report   # shared with the CB-SEM benchmark

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 3

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
what <- args[1]; model <- paste(readLines(args[2]), collapse = "\n"); d <- read.csv(args[3])
reps <- as.integer(args[4])
run <- switch(what,
  cor = function() lavCor(d, ordered = names(d)),
  nacov = function() lavCor(d, ordered = names(d), output = "fit", estimator = "DWLS", se = "robust.sem"),
  fit = function() sem(model, data = d, ordered = TRUE, estimator = "WLSMV"))
run()
times <- sapply(seq_len(reps), function(i) system.time(run())[["elapsed"]])
cat(median(times), "\n")
"""


def _generator():
    sp = importlib.util.spec_from_file_location("make_acsi5", ROOT / "data" / "ordinal" / "make_acsi5.py")
    mod = importlib.util.module_from_spec(sp)
    sp.loader.exec_module(mod)
    return mod


def thirty_items(n: int, seed: int = 11) -> pd.DataFrame:
    """30 five-point items, five on each of six factors correlated 0.4."""
    mod = _generator()
    rng = np.random.default_rng(seed)
    phi = np.full((6, 6), 0.4) + 0.6 * np.eye(6)
    eta = rng.normal(size=(n, 6)) @ np.linalg.cholesky(phi).T
    lam = rng.uniform(0.55, 0.85, size=30)
    ystar = lam * eta[:, np.repeat(np.arange(6), 5)] + rng.normal(size=(n, 30)) * np.sqrt(1 - lam ** 2)
    return mod.discretise(pd.DataFrame(ystar, columns=[f"q{i + 1}" for i in range(30)]))


def main() -> list[dict]:
    mod = _generator()
    big = thirty_items(10_000)
    acsi = mod.discretise(mod.latent_responses(2_000, np.random.default_rng(12)))
    spec = csm.ModelSpec.from_lavaan(mod.MODEL)
    load0 = os.getloadavg()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [
            ("polychoric 30 items, n=10,000", lambda: csm.polychoric(big, gamma=False), "cor", "", big),
            ("polychoric + NACOV 30 items, n=10,000", lambda: csm.polychoric(big), "nacov", "", big),
            ("WLSMV ACSI fit, n=2,000", lambda: csm.fit_cbsem(spec, acsi, estimator="WLSMV", ordered=True),
             "fit", mod.MODEL, acsi),
        ]
        for label, ours_fun, what, model, data in cases:
            ours_fun()                                            # warm-up
            ours = _median_time(ours_fun, REPEAT)
            theirs = _lavaan(what, model, data, REPEAT, script=R_SCRIPT)
            rows.append(_report(label, ours, theirs, 1.0))
    _print_load(load0)
    return rows


if __name__ == "__main__":
    main()
