"""Benchmark: the CB-SEM engine against lavaan, measured in the same run.

Three timings, each the median of several repetitions, ours (``csm.fit_cbsem``
/ ``csm.measurement_invariance``, everything they compute: estimates, SEs,
fit indices, standardized solution) and lavaan's (``sem()`` + ``fitMeasures``
/ three ``cfa()`` fits with ``group.equal``, timed inside R on data already
read), and the ratio ours / lavaan:

- the ACSI model at n = 250 (target: within 2x of lavaan);
- the ACSI model at n = 250,000 (target: within 1.6x);
- the configural / metric / scalar ladder of the six-construct CFA of
  ``satisfaction`` by gender (target: within 1.7x).

Data: simulated from ``csmlib.analysis.simulate.acsi_population`` (seed 1) and
the bundled satisfaction file.  lavaan runs when ``Rscript`` with lavaan is on
the PATH; otherwise only our times are printed.  Prints the machine load.

    python benchmarks/bench_cbsem_lavaan.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import csmlib as csm

ROOT = Path(__file__).resolve().parents[1]
REPEAT = {250: 7, 250_000: 3}
LADDER_REPEAT = 3

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
what <- args[1]; model <- readLines(args[2]); model <- paste(model, collapse = "\n")
data <- read.csv(args[3]); reps <- as.integer(args[4])
times <- numeric(reps)
for (r in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  if (what == "fit") {
    fit <- sem(model, data = data)
    fm <- fitMeasures(fit)
    pe <- parameterEstimates(fit, standardized = TRUE)
  } else if (what == "boot") {
    fit <- sem(model, data = data)
    t0 <- proc.time()[["elapsed"]]   # the resamples only, as csmlib's figure
    draws <- bootstrapLavaan(fit, R = 1000L, type = "ordinary", FUN = "coef")
  } else {
    for (eq in list(character(0), "loadings", c("loadings", "intercepts"))) {
      fit <- if (length(eq)) cfa(model, data = data, group = "gender", group.equal = eq) else
        cfa(model, data = data, group = "gender")
      fm <- fitMeasures(fit)
    }
  }
  times[r] <- proc.time()[["elapsed"]] - t0
}
cat(median(times), "\n")
"""


def _lavaan(what: str, model: str, data: pd.DataFrame, reps: int, script: str | None = None) -> float | None:
    """Seconds lavaan takes for ``what`` (median of ``reps``), timed inside R
    by ``script`` (default this benchmark's ``R_SCRIPT``); None without R."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script_file, mfile, dfile = Path(tmp, "b.R"), Path(tmp, "m.lav"), Path(tmp, "d.csv")
        script_file.write_text(R_SCRIPT if script is None else script)
        mfile.write_text(model)
        data.to_csv(dfile, index=False)
        out = subprocess.run(["Rscript", str(script_file), what, str(mfile), str(dfile), str(reps)],
                             capture_output=True, text=True, check=False)
    try:
        return float(out.stdout.split()[-1])
    except (IndexError, ValueError):
        return None


def _median_time(fun, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fun()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _report(label: str, ours: float, theirs: float | None, target: float) -> dict:
    if theirs is None:
        print(f"{label}: csmlib {ours:.3f} s (lavaan not available)")
        return {"label": label, "ours": ours}
    ratio = ours / theirs
    print(f"{label}: csmlib {ours:.3f} s, lavaan {theirs:.3f} s, ratio {ratio:.2f} "
          f"(target <= {target}) {'ok' if ratio <= target else 'SLOWER THAN TARGET'}")
    return {"label": label, "ours": ours, "lavaan": theirs, "ratio": ratio}


def main() -> list[dict]:
    from csmlib.analysis import simulate

    spec = csm.models.acsi()
    load0 = os.getloadavg()
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, target in ((250, 2.0), (250_000, 1.6)):
            data = simulate.simulate_survey(simulate.acsi_population(), n, seed=1).data[list(spec.indicators)]
            csm.fit_cbsem(spec, data)                                    # warm-up
            ours = _median_time(lambda: csm.fit_cbsem(spec, data), REPEAT[n])
            theirs = _lavaan("fit", spec.to_lavaan(), data, REPEAT[n])
            out.append(_report(f"ACSI fit n={n:,}", ours, theirs, target))
        sat = pd.read_csv(ROOT / "data" / "satisfaction" / "satisfaction.csv")
        base = csm.models.satisfaction_model()
        cfa = csm.ModelSpec(constructs=base.constructs, relations=tuple(
            csm.Relation(c.name, "=~", x) for c in base.constructs for x in c.indicators))
        csm.measurement_invariance(cfa, sat, "gender")                  # warm-up
        ours = _median_time(lambda: csm.measurement_invariance(cfa, sat, "gender"), LADDER_REPEAT)
        theirs = _lavaan("ladder", cfa.to_lavaan(), sat, LADDER_REPEAT)
        out.append(_report("invariance ladder satisfaction by gender (3 steps)", ours, theirs, 1.7))
    _print_load(load0)
    return out


def _print_load(load0: tuple[float, float, float]) -> None:
    """The machine load before (``load0``) and now."""
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
