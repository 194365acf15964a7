"""Complaint logs (csm.complaints): reading and validation, and every table
against known truth or an independent reference.

References: lifelines' KaplanMeierFitter and statsmodels' SurvfuncRight for
the Kaplan-Meier estimates (ours is written out in numpy), pandas' own
counting for volumes and Pareto counts, statsmodels' GLM for nothing (the
trend is checked by the coverage of its interval on simulated counts), and
the truth of simulated logs (category shares, log-normal resolution times
with censoring, reopen rate, an effect of late resolution on loyalty).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import csmlib as csm
from csmlib.analysis.simulate_complaints import simulate_log
from csmlib.errors import DataError

cx = csm.complaints

CODEBOOK = {
    "id_column": "ticket_id", "opened_column": "opened", "closed_column": "closed",
    "category_column": "category", "channel_column": "channel", "reopened_column": "reopened",
    "customer_id_column": "customer_id", "sla_hours": 48,
}


def small_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4"],
        "opened": ["2026-01-01 10:00", "2026-01-05 12:00", "2026-02-01 08:00", "2026-03-01 00:00"],
        "closed": ["2026-01-02 10:00", "", "2026-02-04 08:00", "2026-03-02 00:00"],
        "category": ["billing", "delivery", "billing", "staff"],
        "channel": ["phone", "email", "phone", "store"],
        "reopened": ["0", "1", "", "no"],
        "customer_id": ["C1", "C2", "C3", "C1"],
    })


def write(tmp_path, frame, name="log.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- reading
def test_read_small_log_from_csv_yaml_and_excel(tmp_path):
    path = write(tmp_path, small_frame())
    yml = tmp_path / "cb.yml"
    yml.write_text("id_column: ticket_id\nopened_column: opened\nclosed_column: closed\n"
                   "category_column: category\nchannel_column: channel\nreopened_column: reopened\n"
                   "customer_id_column: customer_id\nsla_hours: 48\n"
                   "categories:\n  billing: {en: Billing, zh: 账单}\n  delivery: Delivery\n  staff: Staff\n",
                   encoding="utf-8")
    log = cx.read_log(path, yml)
    t = log.tickets
    assert list(t.columns) == list(csm.complaints.read_log.__globals__["TICKET_COLUMNS"])
    assert log.n == 4 and log.as_of == pd.Timestamp("2026-03-02 00:00")
    assert t["is_closed"].tolist() == [True, False, True, True]
    # hours: 24, open T2 censored at as_of, 72, 24
    open_hours = (pd.Timestamp("2026-03-02") - pd.Timestamp("2026-01-05 12:00")).total_seconds() / 3600
    np.testing.assert_allclose(t["hours"], [24, open_hours, 72, 24])
    assert t["reopened"].tolist()[:2] == [0.0, 1.0] and np.isnan(t["reopened"][2]) and t["reopened"][3] == 0
    assert t["customer"][0] == t["customer"][3] != t["customer"][1]
    assert "C1" not in t["customer"].tolist()
    assert cx.pareto(log, lang="zh")["label"].tolist() == ["账单", "Delivery", "Staff"]
    xlsx = tmp_path / "log.xlsx"
    small_frame().to_excel(xlsx, index=False)
    log_x = cx.read_log(xlsx, yml)
    pd.testing.assert_frame_equal(log_x.tickets.drop(columns="customer"), t.drop(columns="customer"))


def test_as_of_censors_and_leaves_out_later_tickets():
    log = cx.read_log(small_frame(), CODEBOOK, as_of="2026-02-02 08:00")
    t = log.tickets
    assert log.n == 3   # T4 opened later
    assert t["is_closed"].tolist() == [True, False, False]   # T3 closes after as_of
    assert t["hours"].iloc[2] == 24.0



def test_a_window_is_the_tickets_opened_in_it_as_the_log_stood_at_its_end(big):
    sim, log = big
    opened = pd.to_datetime(sim.frame["opened"])
    closed = pd.to_datetime(sim.frame["closed"].replace("", None))
    win = cx.between(log, "2026-02-01", "2026-02-28")
    # counted from the raw export: opened on those days; open at the end of the 28th if closed later
    inside = (opened >= "2026-02-01") & (opened < "2026-03-01")
    assert win.n == int(inside.sum()) and win.as_of == pd.Timestamp("2026-03-01") - pd.Timedelta(1, "ns")
    still_open = inside & (closed.isna() | (closed >= "2026-03-01"))
    assert int((~win.tickets["is_closed"]).sum()) == int(still_open.sum())
    assert set(win.tickets["ticket"]) == set(sim.frame.loc[inside, "ticket_id"])
    # the same log as read_log's own as_of gives (an independent implementation of the cut)
    upto = cx.between(log, end="2026-02-28")
    ref = cx.read_log(sim.frame, sim.codebook, as_of="2026-02-28 23:59:59.999999999")
    cols = ["ticket", "opened", "closed", "category", "is_closed", "hours", "sla_hours"]
    pd.testing.assert_frame_equal(upto.tickets[cols], ref.tickets[cols])
    assert upto.as_of == ref.as_of
    pd.testing.assert_frame_equal(cx.resolution(upto), cx.resolution(ref))
    # the volume trend of the window and the months before it: January and February, complete
    v = cx.volume(upto, "M")
    assert v["period"].tolist() == ["2026-01", "2026-02"] and v["complete"].all()
    # an end after the export is the export's as_of; no window is the whole log
    assert cx.between(log, end="2030-01-01").as_of == log.as_of
    assert cx.between(log).n == log.n
    # the customer-id salt stays: the window links to a survey as the log does
    assert win.hash_ids(["C000001"])[0] == log.hash_ids(["C000001"])[0]
    assert cx.between(log, "2029-01-01", "2029-01-31").n == 0


@pytest.mark.parametrize("start, end, message", [
    ("2026-03-01", "2026-02-01", "ends .2026-02-01. before it starts"),
    ("2026-02-01 08:00", "2026-02-28", "start must be a day"),
    ("2026-02-01", "end of March", "end must be a day"),
    ("2026-02-01", "2026-02-28+08:00", "end must be a day"),
])
def test_a_window_that_is_not_whole_days_in_order_is_refused(start, end, message):
    log = cx.read_log(small_frame(), CODEBOOK)
    with pytest.raises(DataError, match=message):
        cx.between(log, start, end)

@pytest.mark.parametrize("start", ["01/02/2026", "2/1/2026", "1 Feb 2026", "2026/02/01", "20260201"])
def test_a_window_day_not_written_yyyy_mm_dd_is_refused(start):
    # '01/02/2026' was read month first (2026-01-02: January 2-31 counted as a February window)
    log = cx.read_log(small_frame(), CODEBOOK)
    with pytest.raises(DataError, match="start must be a day .YYYY-MM-DD."):
        cx.between(log, start, "2026-02-28")


def test_a_window_given_as_dates_or_midnight_timestamps_is_the_same_window():
    import datetime as dt

    log = cx.read_log(small_frame(), CODEBOOK)
    ref = cx.between(log, "2026-01-02", "2026-02-28")
    for start in (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2), pd.Timestamp("2026-01-02"), " 2026-01-02 "):
        got = cx.between(log, start, "2026-02-28")
        assert got.n == ref.n == 2 and got.as_of == ref.as_of


@pytest.mark.parametrize("table", [lambda w: cx.volume(w, "M"), lambda w: cx.volume_trend(w, "M"),
                                   lambda w: cx.pareto(w), lambda w: cx.resolution(w, by="category"),
                                   lambda w: cx.category_by_period(w, "Q"), lambda w: cx.change_test(w, "Q")])
def test_a_window_without_tickets_says_so(table):
    # a wave's window without tickets: volume raised pandas' 'start and end must not be NaT', the
    # grouped tables said the log had 'no category column'
    window = cx.between(cx.read_log(small_frame(), CODEBOOK), "2026-01-10", "2026-01-20")
    assert window.n == 0
    with pytest.raises(DataError, match="holds no tickets"):
        table(window)


def test_recovery_on_a_window_without_tickets_says_so():
    window = cx.between(cx.read_log(small_frame(), CODEBOOK), "2026-01-10", "2026-01-20")
    survey = pd.DataFrame({"cid": ["C1", "C2"], "CUSA1": [7.0, 8.0]})
    with pytest.raises(DataError, match="holds no tickets"):
        cx.recovery(window, survey, "cid", ["CUSA1"])


@pytest.mark.parametrize("change, message, shown", [
    (lambda f: f.assign(closed=["2025-12-31 10:00", "", "", ""]), "closed before they were opened", "row: 1"),
    (lambda f: f.assign(opened=["2026-01-01 10:00", "31.01.2026", "2026-02-01 08:00", "2026-03-01"]),
     "cannot be read", "'31.01.2026'"),
    (lambda f: f.assign(closed=["2026-01-02 10:00", "", "Zhang Wei", ""]), "cannot be read",
     "<text of 9 characters, not a date>"),
    (lambda f: f.assign(ticket_id=["T1", "T2", "T1", "T4"]), "ticket ids are repeated", "rows: 1, 3"),
    (lambda f: f.assign(reopened=["0", "maybe", "", ""]), "not yes/no", "'maybe'"),
    (lambda f: f.drop(columns="channel"), "lacks columns", "channel"),
    (lambda f: f.assign(opened=["2026-01-01 10:00", "", "2026-02-01 08:00", "2026-03-01"]),
     "without an opened timestamp", "row: 2"),
])
def test_bad_logs_are_errors_naming_file_column_row_value(tmp_path, change, message, shown):
    path = write(tmp_path, change(small_frame()))
    with pytest.raises(DataError) as err:
        cx.read_log(path, CODEBOOK)
    text = str(err.value)
    assert message in text and shown in text and str(path) in text


def test_time_zones_are_put_on_one_clock(tmp_path):
    # offsets that differ from ticket to ticket: every time converted to UTC
    # (T1: opened 02:00 UTC, closed 12:00 UTC -> 10 hours; T2: 01:00 UTC -> 23:00 UTC -> 22 hours)
    f = small_frame().iloc[:2].assign(opened=["2026-01-01 10:00+08:00", "2026-01-05 01:00Z"],
                                      closed=["2026-01-01 12:00+00:00", "2026-01-05 18:00-05:00"])
    log = cx.read_log(write(tmp_path, f), CODEBOOK)
    assert log.tickets["hours"].tolist() == [10.0, 22.0]
    assert log.tickets["opened"].iloc[0] == pd.Timestamp("2026-01-01 02:00")
    # an as_of with an offset is put on the same clock: 2026-01-05 12:00 UTC
    log = cx.read_log(write(tmp_path, f), CODEBOOK, as_of="2026-01-05 20:00+08:00")
    assert log.tickets["is_closed"].tolist() == [True, False]
    assert log.tickets["hours"].tolist() == [10.0, 11.0]
    with pytest.raises(DataError, match="has no time zone but the log's timestamps have one"):
        cx.read_log(write(tmp_path, f), CODEBOOK, as_of="2026-01-05 20:00")


@pytest.mark.parametrize("opened, closed", [
    # local times opened, closed with an offset: 10:00 local to 20:00+08:00 is 10 hours, not 2
    (["2026-01-01 10:00", "2026-01-05 12:00"], ["2026-01-01 20:00+08:00", ""]),
    # some cells of one column with an offset and others without
    (["2026-01-01 10:00", "2026-01-05 12:00+08:00"], ["", ""]),
])
def test_timestamps_with_and_without_time_zones_are_refused(tmp_path, opened, closed):
    f = small_frame().iloc[:2].assign(opened=opened, closed=closed)
    path = write(tmp_path, f)
    with pytest.raises(DataError, match="mixed with timestamps without one") as err:
        cx.read_log(path, CODEBOOK)
    assert str(path) in str(err.value) and re.search(r"rows?: 1\b", str(err.value))


def test_as_of_with_a_time_zone_for_a_local_log_is_refused():
    with pytest.raises(DataError, match="has a time zone but the log's timestamps have none"):
        cx.read_log(small_frame(), CODEBOOK, as_of="2026-02-02 08:00+08:00")
    with pytest.raises(DataError, match="as_of is not a date and time"):
        cx.read_log(small_frame(), CODEBOOK, as_of="next tuesday")


@pytest.mark.parametrize("column, value, kind", [
    ("status", "张三 13812345678", "phone numbers"), ("channel", "mail zhang.wei@example.com", "e-mail addresses"),
    ("category", "billing (ID 11010519491231002X)", "identity numbers"),
])
def test_identifiers_inside_category_channel_or_status_text_are_refused(column, value, kind):
    """One value that holds an identifier inside its text is enough: those
    columns' values are shown in tables.  The value itself is never shown."""
    f = small_frame().assign(status=["open"] * 4)
    f[column] = [f[column].iloc[0], value, f[column].iloc[2], f[column].iloc[3]]
    cb = {**CODEBOOK, "status_column": "status"}
    with pytest.raises(DataError, match=f"holds {kind}") as err:
        cx.read_log(f, cb)
    assert value not in str(err.value) and "13812345678" not in str(err.value)


def test_unknown_category_codes_are_named():
    cb = {**CODEBOOK, "categories": {"billing": "Billing", "delivery": "Delivery"}}
    with pytest.raises(DataError, match="category codes the codebook does not list") as err:
        cx.read_log(small_frame(), cb)
    assert "'staff'" in str(err.value) and "row: 4" in str(err.value)


def test_codebook_problems_name_the_key():
    with pytest.raises(DataError, match="category_column: required key is missing"):
        cx.read_log(small_frame(), {k: v for k, v in CODEBOOK.items() if k != "category_column"})
    with pytest.raises(DataError, match="did you mean 'sla_hours'"):
        cx.read_log(small_frame(), {**CODEBOOK, "sla_hour": 3})
    with pytest.raises(DataError, match="sla_hours must be a number"):
        cx.read_log(small_frame(), {**CODEBOOK, "sla_hours": -1})
    with pytest.raises(DataError, match="also the"):
        cx.read_log(small_frame(), {**CODEBOOK, "channel_column": "category"})


def test_personal_values_in_role_columns_are_refused_without_showing_them():
    f = small_frame()
    f["ticket_id"] = ["13812345678", "T2", "T3", "T4"]
    with pytest.raises(DataError, match="ticket id") as err:
        cx.read_log(f, CODEBOOK)
    assert "13812345678" not in str(err.value)
    g = small_frame()
    g["category"] = ["zhang.wei@example.com", "delivery", "billing", "staff"]
    with pytest.raises(DataError, match="e-mail") as err:
        cx.read_log(g, CODEBOOK)
    assert "zhang.wei@example.com" not in str(err.value)


# --------------------------------------------------------------------------- Kaplan-Meier
def test_kaplan_meier_matches_lifelines_and_statsmodels():
    from lifelines import KaplanMeierFitter
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(40, 2000), 0)   # ties on purpose
    e = rng.random(2000) < 0.7
    ours = cx.kaplan_meier(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    ref = kmf.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(ours["survival"], ref.loc[ours["time"]].to_numpy(), rtol=1e-10)
    sm = SurvfuncRight(t, e.astype(int))
    np.testing.assert_allclose(np.interp(sm.surv_times, ours["time"], ours["survival"]), sm.surv_prob,
                               rtol=1e-10)


def test_resolution_medians_equal_lifelines_per_category():
    from lifelines import KaplanMeierFitter

    sim = simulate_log(3000, seed=11, days=60, sigma=1.2)
    log = cx.read_log(sim.frame, sim.codebook)
    res = cx.resolution(log, by="category").set_index("category")
    for cat, grp in log.tickets.groupby("category"):
        kmf = KaplanMeierFitter().fit(grp["hours"], grp["is_closed"])
        assert res.loc[cat, "median_hours"] == pytest.approx(kmf.median_survival_time_, rel=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # lifelines reads it off its step function, as we do
            p90 = kmf.percentile(0.1)
        assert res.loc[cat, "p90_hours"] == pytest.approx(p90, rel=1e-12) or (
            np.isinf(p90) and np.isnan(res.loc[cat, "p90_hours"]))
        assert res.loc[cat, "within_sla_share"] == pytest.approx(1 - kmf.predict(48.0), abs=1e-12)
        assert res.loc[cat, "open"] == (~grp["is_closed"]).sum()


def test_resolution_without_open_tickets_is_the_empirical_quantile():
    f = small_frame().assign(closed=["2026-01-02 10:00", "2026-01-06 12:00", "2026-02-04 08:00",
                                     "2026-03-02 00:00"])
    row = cx.resolution(cx.read_log(f, CODEBOOK)).iloc[0]
    hours = np.array([24, 24, 72, 24.0])
    assert row["median_hours"] == np.quantile(hours, 0.5, method="inverted_cdf")
    assert row["within_sla_share"] == 0.75 and row["open"] == 0


# --------------------------------------------------------------------------- known truth
@pytest.fixture(scope="module")
def big():
    sim = simulate_log(20_000, seed=5, days=120, mu=np.log(30), sigma=1.0, sla_hours=48,
                       reopen_rate=0.12)
    return sim, cx.read_log(sim.frame, sim.codebook)


def test_counts_are_exact(big):
    sim, log = big
    p = cx.pareto(log)
    expected = sim.frame["category"].value_counts()
    assert dict(zip(p["category"], p["count"])) == expected.to_dict()
    assert p["count"].is_monotonic_decreasing and p["cumulative_share"].iloc[-1] == pytest.approx(1)
    ch = cx.pareto(log, by="channel")
    assert dict(zip(ch["channel"], ch["count"])) == sim.frame["channel"].value_counts().to_dict()
    v = cx.volume(log, "M")
    opened = pd.to_datetime(sim.frame["opened"])
    ref = opened.dt.to_period("M").value_counts()
    assert dict(zip(v["period"], v["count"])) == {str(k): n for k, n in ref.items()}
    tab = cx.category_by_period(log, "M")
    ref2 = pd.crosstab(sim.frame["category"], opened.dt.to_period("M").astype(str))
    for r in tab.itertuples():
        assert r.count == ref2.loc[r.category, r.period]


def test_shares_medians_and_sla_are_recovered_within_monte_carlo_error(big):
    sim, log = big
    truth, n = sim.truth, log.n
    p = cx.pareto(log).set_index("category")
    for cat, share in truth["shares"].items():
        assert abs(p.loc[cat, "share"] - share) < 4 * np.sqrt(share * (1 - share) / n)
    row = cx.resolution(log).iloc[0]
    assert row["open"] > 100   # censoring is really there
    # the naive median of closed tickets only is biased low: KM is not
    naive = np.median(log.tickets.loc[log.tickets["is_closed"], "hours"])
    # SE of a log-normal quantile: sqrt(q(1-q)) / (f(x_q)) on the log scale
    for q, key in ((0.5, "median_hours"), (0.9, "p90_hours")):
        z = stats.norm.ppf(q)
        se_log = truth["sigma"] * np.sqrt(q * (1 - q)) / stats.norm.pdf(z) / np.sqrt(n)
        assert abs(np.log(row[key]) - (truth["mu"] + z * truth["sigma"])) < 5 * se_log, key
    assert naive < row["median_hours"]
    pw = truth["within_sla"]
    assert abs(row["within_sla_share"] - pw) < 4 * np.sqrt(pw * (1 - pw) / n)
    assert abs(row["reopen_rate"] - truth["reopen_rate"]) < 4 * np.sqrt(0.12 * 0.88 / row["closed"])


def test_volume_trend_interval_covers_a_known_growth():
    rng = np.random.default_rng(8)
    growth, hits, reps = 0.04, 0, 120
    months = pd.period_range("2024-01", periods=24, freq="M")
    for _ in range(reps):
        counts = rng.poisson(40 * (1 + growth) ** np.arange(24))
        opened = np.repeat(months.start_time + pd.Timedelta(days=3), counts)
        f = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(len(opened))],
                          "opened": opened.strftime("%Y-%m-%d %H:%M"), "closed": "", "category": "a"})
        log = cx.read_log(f, {**{k: CODEBOOK[k] for k in ("id_column", "opened_column", "closed_column",
                                                           "category_column")}}, as_of="2025-12-31 23:59:59")
        tr = cx.volume_trend(log, "M").iloc[0]
        assert tr["periods"] == 24
        hits += tr["ci_lower"] <= growth <= tr["ci_upper"]
    assert 0.88 <= hits / reps <= 0.995


def test_change_test_holds_its_level_and_finds_a_change():
    rng = np.random.default_rng(9)
    cb = {k: CODEBOOK[k] for k in ("id_column", "opened_column", "closed_column", "category_column")}

    def log_with(shares_by_quarter):
        rows = []
        for q, (start, shares) in enumerate(shares_by_quarter):
            cats = rng.choice(list("abcd"), 400, p=shares)
            rows += [(f"T{q}-{i}", f"{start} 12:00", "", c) for i, c in enumerate(cats)]
        return cx.read_log(pd.DataFrame(rows, columns=["ticket_id", "opened", "closed", "category"]), cb)

    same = [0.4, 0.3, 0.2, 0.1]
    quarters = ["2026-01-15", "2026-04-15", "2026-07-15"]
    rejections = np.mean([cx.change_test(log_with([(d, same) for d in quarters]), "Q")["pvalue"].iloc[0] < 0.05
                          for _ in range(200)])
    assert 0.02 <= rejections <= 0.09
    shifted = [(quarters[0], same), (quarters[1], same), (quarters[2], [0.25, 0.3, 0.2, 0.25])]
    res = cx.change_test(log_with(shifted), "Q").iloc[0]
    assert res["pvalue"] < 1e-4 and res["df"] == 6
    cells = cx.category_by_period(log_with(shifted), "Q")
    top = cells.loc[cells["adjusted_residual"].abs().idxmax()]
    assert top["period"] == "2026Q3" and top["category"] in ("a", "d")


# --------------------------------------------------------------------------- recovery
def _recovery_data(rng, effect_late: float, n_customers: int = 1500, n_tickets: int = 500):
    """A log and a survey of the same customers; loyalty lower by ``effect_late``
    for customers whose (single) ticket was resolved late, computed here from
    the raw export (not with csmlib)."""
    ids = np.array([f"C{i:05d}" for i in range(n_customers)], dtype=object)
    who = rng.choice(n_customers, n_tickets, replace=False)
    sim = simulate_log(n_tickets, seed=int(rng.integers(1 << 31)), customers=ids[who], days=60,
                       mu=np.log(40), sigma=0.8)
    f = sim.frame.copy()
    f["customer_id"] = ids[who]   # one ticket per customer
    hours = (pd.to_datetime(f["closed"]) - pd.to_datetime(f["opened"])).dt.total_seconds() / 3600
    late_ids = set(f.loc[hours > 48, "customer_id"])
    loyalty = rng.normal(70, 15, n_customers) + effect_late * np.isin(ids, list(late_ids))
    survey = pd.DataFrame({"respondent_id": ids, "loyalty": loyalty})
    return cx.read_log(f, sim.codebook), survey, f, hours


def test_recovery_groups_and_the_effect_of_late_resolution():
    rng = np.random.default_rng(21)
    log, survey, f, hours = _recovery_data(rng, effect_late=-8.0, n_customers=3000, n_tickets=1200)
    groups = cx.recovery_groups(log, survey, "respondent_id")
    # the groups, counted from the raw export
    expect = {"no complaint": 3000 - 1200, "unresolved": int((f["closed"] == "").sum()),
              "resolved late": int((hours > 48).sum()), "resolved within SLA": int((hours <= 48).sum())}
    assert groups.value_counts().to_dict() == expect
    table = cx.recovery(log, survey, "respondent_id", "loyalty").set_index("group")
    late, within = table.loc["resolved late"], table.loc["resolved within SLA"]
    assert late["ci_lower"] < late["mean"] < late["ci_upper"]
    test = cx.recovery_test(log, survey, "respondent_id", "loyalty").iloc[0]
    assert test["late_ci_lower"] <= -8.0 <= test["late_ci_upper"]
    assert test["late_minus_within"] == pytest.approx(late["mean"] - within["mean"])
    assert test["pvalue"] < 1e-3 and test["late_pvalue"] < 1e-3
    # min_base suppresses small groups' statistics, not their n
    small = cx.recovery(log, survey, "respondent_id", "loyalty", min_base=10_000)
    assert small["mean"].isna().all() and small["suppressed"].all() and small["n"].sum() == 3000


def test_recovery_test_rejects_at_the_nominal_rate_on_null_data():
    rng = np.random.default_rng(22)
    p_anova, p_late = [], []
    for _ in range(200):
        log, survey, _, _ = _recovery_data(rng, effect_late=0.0, n_customers=600, n_tickets=240)
        row = cx.recovery_test(log, survey, "respondent_id", "loyalty").iloc[0]
        p_anova.append(row["pvalue"])
        p_late.append(row["late_pvalue"])
    assert 0.02 <= np.mean(np.array(p_anova) < 0.05) <= 0.09
    assert 0.02 <= np.mean(np.array(p_late) < 0.05) <= 0.09


def test_recovery_needs_linkable_ids():
    log = cx.read_log(small_frame(), CODEBOOK)
    with pytest.raises(DataError, match="no such customer id column"):
        cx.recovery(log, pd.DataFrame({"x": [1]}), "respondent_id", "x")
    no_ids = cx.read_log(small_frame(), {k: v for k, v in CODEBOOK.items() if k != "customer_id_column"})
    with pytest.raises(DataError, match="no customer ids"):
        cx.recovery(no_ids, pd.DataFrame({"respondent_id": ["C1"], "y": [1.0]}), "respondent_id", "y")


def test_customer_hashes_are_salted_per_log():
    a = cx.read_log(small_frame(), CODEBOOK)
    b = cx.read_log(small_frame(), CODEBOOK)
    assert a.tickets["customer"][0] != b.tickets["customer"][0]
    assert a.hash_ids(["C1"])[0] == a.tickets["customer"][0]
    assert a.hash_ids([1001.0])[0] == a.hash_ids(["1001"])[0]   # an id read as a number


# --------------------------------------------------------------------------- privacy
def test_personal_data_never_reaches_any_output(tmp_path):
    sim = simulate_log(600, seed=31, personal_ids=True, days=30)
    path = write(tmp_path, sim.frame)
    seeded = set()
    for col in ("customer_id", "customer_name"):
        seeded |= set(sim.frame[col])
    pii = re.compile(r"\+44 20 7946 \d{4}|138\d{8}|\S+@example\.com|\d{17}[\dX]")
    for text in sim.frame["description"]:
        seeded |= set(pii.findall(text))
    assert sum(bool(pii.search(t)) for t in sim.frame["description"]) > 300
    seeded |= {"Zhang Wei", "王芳", "John Smith", "李娜", "Maria Garcia", "刘洋"}
    seeded = {s for s in seeded if len(s) >= 4}
    log = cx.read_log(path, sim.codebook)
    survey = pd.DataFrame({"respondent_id": sim.frame["customer_id"].unique()})
    survey["loyalty"] = np.arange(len(survey), dtype=float)
    out = io.StringIO()
    for frame in (log.tickets, cx.volume(log), cx.volume_trend(log), cx.pareto(log), cx.pareto(log, "channel"),
                  cx.resolution(log), cx.resolution(log, "category"), cx.category_by_period(log, "W"),
                  cx.change_test(log, "W"), cx.recovery(log, survey, "respondent_id", "loyalty"),
                  cx.recovery_test(log, survey, "respondent_id", "loyalty")):
        frame.to_csv(out)
        out.write(repr(frame))
    out.write(repr(log))
    bad = sim.frame.assign(ticket_id=sim.frame["customer_id"])   # ids that are mobile numbers
    for broken in (bad, sim.frame.assign(opened=sim.frame["description"])):
        with pytest.raises(DataError) as err:
            cx.read_log(broken, sim.codebook)
        out.write(str(err.value))
    text = out.getvalue()
    leaked = sorted(s for s in seeded if s in text)
    assert not leaked, leaked[:5]


# --------------------------------------------------------------------------- fast paths
FAST_CSV = ['a,b,c\n1,2,3\n', 'a,b,c\r\n1,"x, y",3\r\n\r\n4,5,6\r\n', 'a;b\n1;2\n', 'a,b\n"line\nbreak",2\n',
            'a,b\n1,\n,2\n', 'a,b\n"q ""x""",2\n', 'a,b\n1,2,3\n', 'a,b\n1\n', 'a,b\n   \n1,2\n', 'a,b\n1,2,\n',
            'a,b\n"abc"def,2\n', 'a,b\n 1 , 2 \n', 'a,b\nNA,null\n', 'a,b\n1,"unclosed\n', 'x\n1\n2\n',
            'a,b\n,\n', 'a,b\n"x",y\n"1","2"\n', 'a,b\nab"c",2\n', 'a,b\n1,2\n3\n', 'a,b\r\n1,2\r\n',
            'a,b\n"1,2",3\n"\n",4\n', 'a\tb\n"x\ty"\t2\n']


@pytest.mark.parametrize("text", FAST_CSV)
def test_fast_csv_split_is_the_exact_split_or_steps_aside(text):
    """read_log splits a CSV with pandas' C parser; on every text it gives the
    csv module's table, or None (then the exact reader runs, errors included)."""
    from pathlib import Path

    from csmlib.data.readers import _sniff_delimiter, _split_csv, _split_csv_fast

    sep = _sniff_delimiter(text)
    fast = _split_csv_fast(text.encode("utf-8"), sep)
    try:
        exact = _split_csv(Path("x.csv"), text, sep).to_numpy().tolist()
    except DataError:
        exact = None
    if fast is not None:
        assert exact is not None and fast.to_numpy().tolist() == exact[1:]
        last = len(exact[0]) - 1   # one column kept: the same cells of that column
        kept = _split_csv_fast(text.encode("utf-8"), sep, [last])
        assert kept.to_numpy().tolist() == [[r[last]] for r in exact[1:]]


def test_read_log_reads_only_the_role_columns_and_the_same_log_either_way(tmp_path):
    """A log read by the fast split (role columns only) equals the log read
    the exact way (every column), and the PII columns never enter the frame."""
    from csmlib.data import readers

    path = tmp_path / "log.csv"
    path.write_text("ticket,opened,closed,category,note,phone\n"
                    "T1,2026-01-01 10:00,2026-01-02 10:00,billing,\"call me, 张伟\",13812345678\n"
                    "T2,2026-01-03 09:00,,delivery,\"\",+86 138 1234 5678\n"
                    "T3, 2026-01-04 08:00 ,2026-01-04 09:30,billing ,x,\n", encoding="utf-8")
    cb = {"id_column": "ticket", "opened_column": "opened", "closed_column": "closed",
          "category_column": "category", "pii_columns": ["phone", "note"]}
    table = readers.read_raw(path, path.read_bytes(), "csv", fast=True, columns=["ticket", "opened"])
    assert list(table.frame.columns) == ["ticket", "opened"]
    assert table.frame["opened"].tolist() == ["2026-01-01 10:00", "2026-01-03 09:00", " 2026-01-04 08:00 "]
    fast = csm.complaints.read_log(path, cb)
    exact = readers._split_csv_fast
    try:
        readers._split_csv_fast = lambda *a, **k: None   # the exact reader
        slow = csm.complaints.read_log(path, cb)
    finally:
        readers._split_csv_fast = exact
    cols = ["ticket", "opened", "closed", "category", "is_closed", "hours"]
    pd.testing.assert_frame_equal(fast.tickets[cols], slow.tickets[cols])
    assert fast.tickets["category"].tolist() == ["billing", "delivery", "billing"]


def test_personal_value_prefilter_misses_nothing_classify_value_finds():
    from csmlib import privacy

    rng = np.random.default_rng(0)
    alphabet = list("0123456789 -+().@:/XxT")
    values = ["zhang@example.com", "张伟@qq.com", "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ", "+86 138-1234-5678",
              "8613812345678", "008613812345678", "１３８１２３４５６７８", "(010)12345678", "0755-1234567",
              "440524196801010004", "11010519491231002X", "110105491231002", "192.168.1.20", "fe80::1%eth0",
              " 13812345678 "]
    values += ["".join(rng.choice(alphabet, rng.integers(5, 20))) for _ in range(30_000)]
    values += ["".join(rng.choice(list("0123456789"), n)) for n in rng.integers(6, 20, 10_000)]
    # letters of every kind (the prefilter looks at shapes: which letter or digit must not matter)
    mixed = list("0123456789abcxyzXYZTéü张伟 -+().@:/＠１")
    values += ["".join(rng.choice(mixed, rng.integers(3, 25))) for _ in range(30_000)]
    values = list(dict.fromkeys(values))
    found = [v for v in values if privacy.classify_value(v.strip()) is not None]
    assert len(found) > 300
    kept = set(privacy._candidates(values))
    assert set(found) <= kept
    assert len(kept) < len(values)   # it does pass values over


# --------------------------------------------------------------------------- study file
def _study(tmp_path, **complaints):
    import shutil

    import yaml

    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    for f in ("instrument.yml", "wave1.csv", "complaints.csv", "complaints.yml"):
        shutil.copy(demo / f, tmp_path / f)
    study = {"name": "cl", "instrument": "instrument.yml", "model": "acsi",
             "waves": [{"name": "2026Q1", "data": "wave1.csv"}], "notebooks": ["complaints_log"],
             "report": "complaints_log", "output": str(tmp_path / "runs")}
    if complaints:
        study["complaints"] = complaints
    (tmp_path / "study.yml").write_text(yaml.safe_dump(study), encoding="utf-8")
    return tmp_path / "study.yml"


def test_study_file_passes_the_complaint_log_to_its_notebook(tmp_path):
    from csmlib.run.batch import _build_payload, input_hash, plan_runs
    from csmlib.run.study import load_study

    s = load_study(_study(tmp_path, log="complaints.csv", codebook="complaints.yml"))
    assert s.complaints.log == (tmp_path / "complaints.csv").resolve()
    run = plan_runs(s)[0]
    assert run.parameters["complaints_log_path"] == str(s.complaints.log)
    assert run.parameters["complaints_codebook_path"] == str(s.complaints.codebook)
    payload = _build_payload(run)
    assert payload["inputs"]["complaints_log_path"][1] == (tmp_path / "complaints.csv").read_bytes()
    before = input_hash(run)
    with open(tmp_path / "complaints.csv", "a", encoding="utf-8") as fh:
        fh.write("D99999,2026-09-01 10:00,,billing,phone,open,,1,x,y\n")
    assert input_hash(run) != before   # editing the log re-runs the notebook


@pytest.mark.parametrize("block, message", [
    ({}, "no complaints: block"),
    ({"log": "complaints.csv", "codebook": "missing.yml"}, "complaint codebook not found"),
    ({"log": "complaints.csv", "codebook": "complaints.yml", "sheets": 1}, "unknown key"),
    ({"log": "complaints.csv", "codebook": "wave1.csv"}, "complaints.codebook"),
    ({"log": "complaints.csv", "codebook": "complaints.yml", "sheet": "Tickets"},
     r"complaints.sheet: a sheet applies only to Excel files"),
])
def test_study_file_complaint_errors(tmp_path, block, message):
    from csmlib.run.study import load_study

    with pytest.raises(csm.StudyError, match=message):
        load_study(_study(tmp_path, **block))


def test_large_log_read_from_the_bytes_equals_the_exact_reading_and_bad_bytes_are_named(tmp_path):
    """A log beyond the decoded head (1 MiB): the fast reading equals the
    exact one, and an invalid byte near its end is reported with its line."""
    from csmlib.data import readers

    lines = ["ticket,opened,closed,category,note"]
    lines += [f"T{i},2026-01-{1 + i % 28:02d} 10:00,,{'billing' if i % 3 else 'delivery'},\"说明 {i}, ok\""
              for i in range(40_000)]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "big.csv"
    path.write_bytes(text.encode("utf-8"))
    assert path.stat().st_size > 1 << 20
    cb = {"id_column": "ticket", "opened_column": "opened", "closed_column": "closed",
          "category_column": "category", "pii_columns": ["note"]}
    fast = csm.complaints.read_log(path, cb)
    exact = readers._split_csv_fast
    try:
        readers._split_csv_fast = lambda *a, **k: None
        slow = csm.complaints.read_log(path, cb)
    finally:
        readers._split_csv_fast = exact
    cols = ["ticket", "opened", "closed", "category", "is_closed", "hours"]
    pd.testing.assert_frame_equal(fast.tickets[cols], slow.tickets[cols])
    assert fast.n == 40_000
    bad = text.encode("utf-8")
    cut = bad.rindex(b"T39990")
    path.write_bytes(bad[:cut] + b"\xff" + bad[cut:])
    with pytest.raises(DataError, match=r"not valid UTF-8 text \(byte \d+, line 39992\)"):
        csm.complaints.read_log(path, cb)
def test_the_demo_logs_tickets_fall_inside_the_demo_waves_windows():
    from csmlib.run.study import load_study

    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    study = load_study(demo / "study.yml")
    log = cx.read_log(demo / "complaints.csv", demo / "complaints.yml")
    counts = [cx.between(log, w.start, w.end).n for w in study.waves]
    assert all(w.start is not None for w in study.waves) and min(counts) > 50
    assert sum(counts) == log.n   # every ticket in one wave's window, none in two


def _dated_recovery_data(rng, effect_late: float):
    """Customers who answered on a known day; 800 had one ticket before answering
    (some resolved late, some still open then), 600 open one after answering (most
    handled late: it cannot have shaped their answer).  Loyalty is lower by
    ``effect_late`` for those whose ticket before the survey was resolved late by
    then.  Truth computed here from the raw export."""
    n = 2000
    ids = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    answered = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.uniform(0, 30 * 24, n), unit="h").round("min")

    def tickets(who, opened, hours, prefix):
        closed = opened + pd.to_timedelta(hours, unit="h").round("min")
        return pd.DataFrame({"ticket_id": [f"{prefix}{i}" for i in range(len(who))], "opened": opened,
                             "closed": closed, "category": "billing", "customer_id": ids[who]})

    pre_who = rng.choice(n, 800, replace=False)
    pre = tickets(pre_who, answered[pre_who] - pd.to_timedelta(rng.uniform(24, 20 * 24, 800), unit="h").round("min"),
                  np.exp(rng.normal(np.log(40), 0.8, 800)), "P")
    post_who = rng.choice(n, 600, replace=False)
    post = tickets(post_who, answered[post_who] + pd.to_timedelta(rng.uniform(1, 240, 600), unit="h").round("min"),
                   np.exp(rng.normal(np.log(200), 0.5, 600)), "Q")
    as_of = pd.Timestamp("2026-04-20")
    frames = []
    for f in (pre, post):
        f = f.copy()
        f.loc[f["closed"] > as_of, "closed"] = pd.NaT
        frames.append(f)
    pre, post = frames
    # the truth at each answer: the pre-survey ticket's state then
    at = pd.Series(answered[pre_who], index=pre.index)
    resolved = pre["closed"].notna() & (pre["closed"] <= at)
    hours = (pre["closed"] - pre["opened"]).dt.total_seconds() / 3600
    truth = pd.Series("no complaint", index=range(n), dtype=object)
    truth[pre_who] = np.where(~resolved, "unresolved", np.where(hours > 48, "resolved late", "resolved within SLA"))
    loyalty = rng.normal(70, 15, n) + effect_late * (truth == "resolved late").to_numpy()
    survey = pd.DataFrame({"respondent_id": ids, "answered": answered, "loyalty": loyalty})

    def log(f):
        f = f.assign(opened=f["opened"].dt.strftime("%Y-%m-%d %H:%M"),
                     closed=f["closed"].dt.strftime("%Y-%m-%d %H:%M").fillna(""))
        return cx.read_log(f.reset_index(drop=True), {**CODEBOOK, "channel_column": None, "reopened_column": None},
                           as_of=as_of)

    return log(pd.concat([pre, post])), log(pre), survey, truth


def test_recovery_counts_only_complaints_opened_before_the_answer():
    rng = np.random.default_rng(41)
    both, before_only, survey, truth = _dated_recovery_data(rng, effect_late=-8.0)
    groups = cx.recovery_groups(both, survey, "respondent_id", survey_date="answered")
    assert groups.astype(object).tolist() == truth.tolist()
    # complaints opened after the answer do not move the comparison at all
    dated = cx.recovery(both, survey, "respondent_id", "loyalty", survey_date="answered")
    pd.testing.assert_frame_equal(dated, cx.recovery(before_only, survey, "respondent_id", "loyalty",
                                                     survey_date="answered"))
    test = cx.recovery_test(both, survey, "respondent_id", "loyalty", survey_date="answered").iloc[0]
    assert test["late_ci_lower"] <= -8.0 <= test["late_ci_upper"]
    # without the dates every ticket counts: the later ones move respondents out of "no complaint"
    undated = cx.recovery_groups(both, survey, "respondent_id")
    assert (undated.astype(object) != truth).sum() > 300
    assert (undated == "no complaint").sum() < (truth == "no complaint").sum()
    # a respondent without a date cannot be placed
    gap = survey.assign(answered=survey["answered"].where(survey.index != 0))
    assert pd.isna(cx.recovery_groups(both, gap, "respondent_id", survey_date="answered")[0])


def test_late_complaints_after_the_survey_hold_the_level_on_null_data():
    rng = np.random.default_rng(42)
    p = [cx.recovery_test(both, survey, "respondent_id", "loyalty", survey_date="answered").iloc[0]["late_pvalue"]
         for both, _, survey, _ in (_dated_recovery_data(rng, effect_late=0.0) for _ in range(150))]
    assert 0.015 <= np.mean(np.array(p) < 0.05) <= 0.09


def test_recovery_survey_date_must_be_dates():
    log = cx.read_log(small_frame(), CODEBOOK)
    survey = pd.DataFrame({"respondent_id": ["C1"], "y": [1.0], "when": ["2026-01-01"]})
    with pytest.raises(DataError, match="no such date column"):
        cx.recovery(log, survey, "respondent_id", "y", survey_date="answered")
    with pytest.raises(DataError, match="does not hold dates"):
        cx.recovery(log, survey, "respondent_id", "y", survey_date="when")


def test_recovery_with_an_answer_date_column_that_is_empty_says_so():
    # every respondent was 'cannot be told': a table of empty groups, n = 0 each, without a word
    log = cx.read_log(small_frame(), CODEBOOK)
    survey = pd.DataFrame({"respondent_id": ["C1", "C2"], "y": [1.0, 2.0],
                           "when": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")})
    with pytest.raises(DataError, match="no respondent has an answer date"):
        cx.recovery(log, survey, "respondent_id", "y", survey_date="when")


@pytest.mark.parametrize("ids", [["TK-2026-00017", "TK-2026-00018"], ["CASE-00012345", "CASE-00012346"],
                                 ["INC-000123456", "INC-000123457"], ["T-0001234", "T-0001235"]])
def test_usual_ticket_numbers_are_not_taken_for_personal_data(ids):
    """Ticket systems number tickets with digit groups the masking takes for
    phone numbers inside text; such ids are read (a whole value that is
    personal data is still refused, see above), and shown masked in errors."""
    f = small_frame().iloc[:2].copy()
    f["ticket_id"] = ids
    assert cx.read_log(f, CODEBOOK).tickets["ticket"].tolist() == ids
    f["ticket_id"] = [ids[0], ids[0]]
    with pytest.raises(DataError, match="ticket ids are repeated") as err:
        cx.read_log(f, CODEBOOK)
    assert "ticket ids are repeated (2 rows)" in str(err.value)
