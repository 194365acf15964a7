"""A 1,000,000-ticket complaint log: read it and compute every table of
csm.complaints (target <= 10 s on 2 cores), beside the straightforward
method (pandas read_csv + groupby, and lifelines' KaplanMeierFitter per
group) measured in the same run.

Data: csmlib.analysis.simulate_complaints.simulate_log(1_000_000, seed=1),
written to a temporary CSV (10 columns: ids, two timestamps, category,
channel, status, reopened flag, customer id, customer name, a free-text
description with personal data).  Tables: volume by month, its trend,
Pareto by category and by channel, resolution overall and by category and
by channel, category x quarter counts and the change test, and the recovery
comparison against a survey of 20,000 customers.

    python benchmarks/bench_complaints.py [--n 1000000] [--offset +08:00]
"""

from __future__ import annotations

import argparse
import os
import warnings
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import csmlib as csm
from csmlib.analysis.simulate_complaints import simulate_log

cx = csm.complaints


def ours(path: Path, codebook: dict, survey: pd.DataFrame) -> dict:
    times = {}
    t, c = time.perf_counter(), time.process_time()
    log = cx.read_log(path, codebook)
    times["read_log"] = time.perf_counter() - t
    times["read_log_cpu"] = time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    cx.volume(log, "M")
    cx.volume_trend(log, "M")
    cx.pareto(log, "category")
    cx.pareto(log, "channel")
    cx.resolution(log)
    cx.resolution(log, by="category")
    cx.resolution(log, by="channel")
    cx.category_by_period(log, "Q")
    cx.change_test(log, "Q")
    cx.recovery(log, survey, "respondent_id", "loyalty")
    cx.recovery_test(log, survey, "respondent_id", "loyalty")
    times["tables"] = time.perf_counter() - t
    times["tables_cpu"] = time.process_time() - c
    return times


def straightforward(path: Path, sla: float) -> dict:
    """pandas read_csv, groupby tables, lifelines per group."""
    from lifelines import KaplanMeierFitter

    times = {}
    t, c = time.perf_counter(), time.process_time()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["opened"] = pd.to_datetime(df["opened"])
    df["closed"] = pd.to_datetime(df["closed"].replace("", None))
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    as_of = max(df["opened"].max(), df["closed"].max())
    df["is_closed"] = df["closed"].notna()
    df["hours"] = (df["closed"].fillna(as_of) - df["opened"]).dt.total_seconds() / 3600
    df.groupby(df["opened"].dt.to_period("M")).size()
    for by in ("category", "channel"):
        counts = df[by].value_counts()
        (counts / counts.sum()).cumsum()
    for by in (None, "category", "channel"):
        groups = [("all", df)] if by is None else list(df.groupby(by))
        for _, g in groups:
            kmf = KaplanMeierFitter().fit(g["hours"], g["is_closed"])
            kmf.median_survival_time_
            kmf.percentile(0.1)
            1 - kmf.predict(sla)
            pd.to_numeric(g["reopened"].replace("", None)).mean()
    pd.crosstab(df["category"], df["opened"].dt.to_period("Q"))
    times["tables"] = time.perf_counter() - t
    times["cpu"] = time.process_time() - c
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--offset", default="", help="a UTC offset written after every stamp, e.g. +08:00")
    args = parser.parse_args()
    sim = simulate_log(args.n, seed=1, days=365)
    if args.offset:   # an export whose stamps carry their offset
        f = sim.frame
        f["opened"] = f["opened"] + args.offset
        f["closed"] = f["closed"].where(f["closed"] == "", f["closed"] + args.offset)
    import statsmodels.api  # noqa: F401  (its import, 2 s, is no part of the figure)
    print(f"load average before: {os.getloadavg()}")
    rng = np.random.default_rng(2)
    ids = sim.frame["customer_id"].unique()[:20_000]
    survey = pd.DataFrame({"respondent_id": ids, "loyalty": rng.normal(70, 15, len(ids))})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.csv"
        sim.frame.to_csv(path, index=False)
        size = path.stat().st_size / 2**20
        a = ours(path, sim.codebook, survey)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # lifelines' ApproximationWarning on every percentile
            b = straightforward(path, sim.codebook["sla_hours"])
    total_a, total_b = a["read_log"] + a["tables"], b["read"] + b["tables"]
    print(f"{args.n:,} tickets, {size:.0f} MiB CSV")
    print(f"csm.complaints: read_log {a['read_log']:.2f} s + every table {a['tables']:.2f} s "
          f"= {total_a:.2f} s wall, {a['read_log_cpu'] + a['tables_cpu']:.2f} s CPU (target <= 10 s)")
    print(f"straightforward (pandas + lifelines per group, fewer tables): read {b['read']:.2f} s + "
          f"tables {b['tables']:.2f} s = {total_b:.2f} s wall, {b['cpu']:.2f} s CPU")
    print(f"ratio straightforward / ours: x{total_b / total_a:.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
