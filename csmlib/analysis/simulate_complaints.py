"""Simulated complaint logs with known truth, and the demo study's log.

:func:`simulate_log` writes a ticket export as a ticket system would (text
cells, an empty closed cell for open tickets, free-text descriptions and
customer names holding personal data) together with its codebook and the
truth it was drawn from: category shares, a log-normal time to resolution
(median ``exp(mu)``, 90th percentile ``exp(mu + 1.2816 sigma)``, share within
the SLA ``Phi((log sla - mu) / sigma)``), the reopen probability, and open
tickets censored at ``as_of``.

:func:`demo_log` is the complaint log of the bundled demo study
(``data/demo/complaints.csv``), linked to the wave respondents by their
respondent id; it draws from its own seeded generator, so the demo's survey
files do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..atomic import write_csv, write_text

__all__ = ["SimulatedLog", "simulate_log", "demo_log", "write_demo_complaints", "DEMO_CODEBOOK",
           "DEMO_LOG_SEED"]

#: seed of the demo complaint log's own generator
DEMO_LOG_SEED = 17_2026

_NAMES = ("Zhang Wei", "王芳", "John Smith", "李娜", "Maria Garcia", "刘洋")


def _cn_id(rng: np.random.Generator) -> str:
    """A Chinese resident identity number with a right check digit."""
    body = "110105" + f"{rng.integers(1950, 2005)}" + f"{rng.integers(1, 13):02d}" \
        + f"{rng.integers(1, 29):02d}" + f"{rng.integers(0, 1000):03d}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * k for d, k in zip(body, w)) % 11]


def _pii_text(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Descriptions with personal data in them, and customer names."""
    kinds = rng.integers(0, 5, n)
    names = [_NAMES[i] for i in rng.integers(0, len(_NAMES), n)]
    desc = []
    for k, name in zip(kinds, names):
        if k == 0:
            desc.append(f"{name} asked for a call back on +44 20 7946 {rng.integers(1000, 9999)}")
        elif k == 1:
            desc.append(f"客户{name}的手机 138{rng.integers(10_000_000, 99_999_999)} 请回电")
        elif k == 2:
            desc.append(f"reply to {name.split()[0].lower()}{rng.integers(10, 99)}@example.com")
        elif k == 3:
            desc.append(f"身份证 {_cn_id(rng)} 核实")
        else:
            desc.append("waited too long on the line")
    return desc, names


@dataclass(frozen=True)
class SimulatedLog:
    """A simulated ticket export and what it was drawn from.

    Attributes
    ----------
    frame : DataFrame
        The export as text cells: ``ticket_id, opened, closed, category,
        channel, status, reopened, customer_id, customer_name, description``.
    codebook : dict
        Its codebook (for :func:`csmlib.complaints.read_log`).
    truth : dict
        ``shares`` (category -> probability), ``mu``, ``sigma`` (log hours),
        ``median_hours``, ``p90_hours``, ``within_sla`` (probability),
        ``sla_hours``, ``reopen_rate``, ``as_of``.
    hours : ndarray
        The true (uncensored) time to resolution of every ticket.
    """

    frame: pd.DataFrame
    codebook: dict
    truth: dict
    hours: np.ndarray


def simulate_log(n: int, *, seed: int, shares: dict[str, float] | None = None,
                 channels: dict[str, float] | None = None, mu: float = np.log(30.0), sigma: float = 1.0,
                 sla_hours: float = 48.0, reopen_rate: float = 0.1, start: str = "2026-01-01",
                 days: float = 180.0, as_of: str | None = None, customers: Any = None,
                 personal_ids: bool = False) -> SimulatedLog:
    """Simulate a complaint export with known truth.

    Parameters
    ----------
    n : int
        Tickets.
    seed : int
        Seed of the generator.
    shares, channels : dict, optional
        Probabilities of the categories and channels.
    mu, sigma : float
        Time to resolution is log-normal: ``log(hours) ~ N(mu, sigma)``.
    sla_hours : float
        The SLA of every category.
    reopen_rate : float
        Probability that a closed ticket is flagged reopened.
    start, days : str, float
        Tickets open uniformly over ``days`` days from ``start``.
    as_of : str, optional
        The export moment (default: ``start + days``); tickets not resolved by
        then have an empty closed cell.
    customers : array-like, optional
        Customer ids to draw from (with replacement); default ``C000001...``.
    personal_ids : bool
        Customer ids written as Chinese mobile numbers (a common ticket-system key).

    Returns
    -------
    SimulatedLog
    """
    rng = np.random.default_rng(seed)
    shares = shares or {"billing": 0.4, "delivery": 0.3, "staff": 0.2, "product": 0.1}
    channels = channels or {"phone": 0.5, "email": 0.3, "store": 0.2}
    cats = list(shares)
    p = np.array([shares[c] for c in cats], float)
    category = np.asarray(cats, dtype=object)[rng.choice(len(cats), n, p=p / p.sum())]
    chans = list(channels)
    q = np.array([channels[c] for c in chans], float)
    channel = np.asarray(chans, dtype=object)[rng.choice(len(chans), n, p=q / q.sum())]
    t0 = pd.Timestamp(start)
    opened = t0 + pd.to_timedelta(np.sort(rng.uniform(0, days * 24, n)), unit="h").round("min")
    hours = np.exp(rng.normal(mu, sigma, n))
    closed = opened + pd.to_timedelta(hours, unit="h").round("min")
    end = pd.Timestamp(as_of) if as_of is not None else t0 + pd.Timedelta(days=days)
    open_ = closed > end
    reopened = np.where(rng.random(n) < reopen_rate, "1", "0")
    if customers is None:
        pool = np.array([f"C{i:06d}" for i in range(1, max(2, n // 2) + 1)], dtype=object)
    else:
        pool = np.asarray(customers, dtype=object)
    cust = pool[rng.integers(0, len(pool), n)]
    if personal_ids:
        mobiles = {c: f"139{rng.integers(10_000_000, 99_999_999)}" for c in pd.unique(cust)}
        cust = np.array([mobiles[c] for c in cust], dtype=object)
    desc, names = _pii_text(rng, n)
    fmt = "%Y-%m-%d %H:%M"
    frame = pd.DataFrame({
        "ticket_id": [f"T{i:07d}" for i in range(1, n + 1)],
        "opened": opened.strftime(fmt),
        "closed": np.where(open_, "", closed.strftime(fmt)),
        "category": category,
        "channel": channel,
        "status": np.where(open_, "open", "closed"),
        "reopened": np.where(open_, "", reopened),
        "customer_id": [str(c) for c in cust],
        "customer_name": names,
        "description": desc,
    })
    codebook = {
        "name": "simulated tickets", "id_column": "ticket_id", "opened_column": "opened",
        "closed_column": "closed", "category_column": "category", "channel_column": "channel",
        "status_column": "status", "reopened_column": "reopened", "customer_id_column": "customer_id",
        "pii_columns": ["customer_name", "description"], "sla_hours": sla_hours,
    }
    truth = {
        "shares": dict(zip(cats, p / p.sum())), "mu": mu, "sigma": sigma,
        "median_hours": float(np.exp(mu)), "p90_hours": float(np.exp(mu + stats.norm.ppf(0.9) * sigma)),
        "within_sla": float(stats.norm.cdf((np.log(sla_hours) - mu) / sigma)),
        "sla_hours": sla_hours, "reopen_rate": reopen_rate, "as_of": end,
    }
    return SimulatedLog(frame=frame, codebook=codebook, truth=truth, hours=hours)


# --------------------------------------------------------------------------- demo
#: the demo study's complaint codebook (written as ``data/demo/complaints.yml``)
DEMO_CODEBOOK = """\
# The demo study's complaint log: tickets of the wave respondents, linked by
# their respondent id.  Written by csmlib.analysis.simulate_complaints.
name: Demo service desk
language: en
id_column: ticket_id
opened_column: opened
closed_column: closed
category_column: category
channel_column: channel
status_column: status
reopened_column: reopened
customer_id_column: customer_id
pii_columns: [customer_name, description]
sla_hours: {billing: 48, delivery: 72, staff: 48, product: 96, website: 24}
categories:
  billing: {en: Billing, zh: 账单}
  delivery: {en: Delivery, zh: 配送}
  staff: {en: Staff attitude, zh: 服务态度}
  product: {en: Product quality, zh: 产品质量}
  website: {en: Website and app, zh: 网站和应用}
channels:
  phone: {en: Phone, zh: 电话}
  email: {en: E-mail, zh: 电子邮件}
  store: {en: Store, zh: 门店}
  app: {en: App, zh: 应用}
"""

_DEMO_QUARTERS = {"2026Q1": "2026-01-01", "2026Q2": "2026-04-01", "2026Q3": "2026-07-01"}
_DEMO_SLA = {"billing": 48, "delivery": 72, "staff": 48, "product": 96, "website": 24}


def demo_log(waves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The demo complaint export, drawn from its own generator (:data:`DEMO_LOG_SEED`).

    Respondents who said they complained (``complained == 1``) have a ticket
    with probability 0.9, the others 0.12; a ticket opens in the respondent's
    wave quarter.  Tickets of respondents with low loyalty (``CUSL1``) are
    more often resolved late, so the recovery comparison shows a gap.  A
    ticket still open on 2026-09-30 has an empty closed cell.

    Parameters
    ----------
    waves : dict
        ``{wave label: the wave's survey frame as written}``.

    Returns
    -------
    DataFrame
        The export's columns (see :class:`SimulatedLog`).
    """
    rng = np.random.default_rng(DEMO_LOG_SEED)
    as_of = pd.Timestamp("2026-09-30 23:59")
    cats = np.array(list(_DEMO_SLA), dtype=object)
    chans = np.array(["phone", "email", "store", "app"], dtype=object)
    rows = []
    for wave, frame in waves.items():
        start = pd.Timestamp(_DEMO_QUARTERS[wave])
        complained = frame["complained"].to_numpy() == 1
        has = rng.random(len(frame)) < np.where(complained, 0.9, 0.12)
        loy = frame["CUSL1"].where(frame["CUSL1"] <= 10, 7).to_numpy(float)
        for rid, low in zip(frame["respondent_id"][has], loy[has]):
            cat = cats[rng.choice(len(cats), p=[0.35, 0.25, 0.2, 0.12, 0.08])]
            opened = start + pd.Timedelta(minutes=int(rng.integers(0, 88 * 24 * 60)))
            late = rng.random() < min(0.9, 0.1 + 0.12 * max(0.0, 9 - low))
            sla = _DEMO_SLA[cat]
            hours = sla * (rng.uniform(1.05, 4.0) if late else rng.uniform(0.1, 1.0))
            closed = opened + pd.Timedelta(minutes=int(hours * 60))
            if rng.random() < 0.04:   # never resolved
                closed = as_of + pd.Timedelta(days=1)
            is_open = closed > as_of
            rows.append({
                "ticket_id": f"D{len(rows) + 1:05d}",
                "opened": opened.strftime("%Y-%m-%d %H:%M"),
                "closed": "" if is_open else closed.strftime("%Y-%m-%d %H:%M"),
                "category": cat,
                "channel": chans[rng.choice(4, p=[0.4, 0.3, 0.2, 0.1])],
                "status": "open" if is_open else "closed",
                "reopened": "" if is_open else ("1" if rng.random() < 0.08 else "0"),
                "customer_id": str(rid),
            })
    out = pd.DataFrame(rows).sort_values("opened", kind="stable").reset_index(drop=True)
    desc, names = _pii_text(rng, len(out))
    out["customer_name"] = names
    out["description"] = desc
    return out


def write_demo_complaints(folder: str | Path, waves: dict[str, pd.DataFrame]) -> list[Path]:
    """Write ``complaints.csv`` and ``complaints.yml`` of the demo study into ``folder``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    log = folder / "complaints.csv"
    write_csv(log, demo_log(waves), lineterminator="\n")
    codebook = folder / "complaints.yml"
    write_text(codebook, DEMO_CODEBOOK)
    return [log, codebook]
