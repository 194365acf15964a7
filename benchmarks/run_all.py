"""Run every benchmarks/bench_*.py in turn; each prints its figures.

Registered (found by the glob below): bench_bootstrap_cbsem, bench_bootstrap_pls,
bench_dask, bench_ordinal (polychoric and WLSMV against lavaan), bench_pls_effects (PLSpredict, specific-effect bootstrap),
bench_pls_large_n, bench_plan_sample (Monte Carlo sample-size planning), bench_study.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("bench_*.py")):
        print(f"== {path.name}", flush=True)
        runpy.run_path(str(path), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
