"""Honest comparisons: families of tests adjusted for multiplicity.

References: R's p.adjust (Holm, Benjamini-Hochberg) on a league table made
by data/references/make_r_references_multiplicity.R, and the truth of
simulated segments with one common true index.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from csmlib.analysis import metrics, servqual, tracking
from csmlib.analysis.multiplicity import adjust_pvalues
from csmlib.errors import DataError

REF = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "references"
                  / "league_multiplicity_r.csv")


def _league(method: str) -> pd.DataFrame:
    lg = tracking.league_table(REF[["segment", "est", "se"]], reference=REF["ref_est"].iloc[0],
                               reference_se=REF["ref_se"].iloc[0], multiplicity=method)
    return lg.set_index("segment").loc[REF["segment"]]


@pytest.mark.parametrize("method, column", [("holm", "pvalue_holm"), ("fdr_bh", "pvalue_fdr_bh"),
                                            ("none", "pvalue")])
def test_league_table_adjusted_p_matches_r_p_adjust(method, column):
    lg = _league(method)
    assert_allclose(lg["pvalue"], REF["pvalue"], rtol=1e-10)
    assert_allclose(lg["pvalue_adj"], REF[column], rtol=1e-10)
    assert_allclose(adjust_pvalues(REF["pvalue"], method), REF[column], rtol=1e-10)


def test_league_table_flags_on_the_adjusted_p():
    # West (raw p 0.010) and Hills (0.019) are "significant" unadjusted, not after Holm
    raw = _league("none")["verdict"]
    assert raw["West"] == "below" and raw["Hills"] == "above"
    holm = _league("holm")["verdict"]
    assert (holm == "not different").all()
    # a clear difference survives the adjustment
    t = pd.concat([REF[["segment", "est", "se"]],
                   pd.DataFrame({"segment": ["Far"], "est": [80.0], "se": [0.5]})])
    lg = tracking.league_table(t, reference=72.0, reference_se=0.6).set_index("segment")
    assert lg.loc["Far", "verdict"] == "above" and lg.loc["Far", "pvalue_adj"] < 1e-6


def test_adjustment_leaves_untested_rows_out_of_the_family():
    p = np.array([0.01, np.nan, 0.04])
    assert_allclose(adjust_pvalues(p, "holm"), [0.02, np.nan, 0.04])
    t = pd.DataFrame({"segment": ["A", "B", "C"], "est": [75.0, np.nan, 70.0], "se": [0.5, np.nan, 0.5],
                      "n": [100, 10, 100]})
    lg = tracking.league_table(t, reference=72.0, reference_se=0.3).set_index("segment")
    assert np.isnan(lg.loc["B", "pvalue_adj"]) and lg.loc["B", "verdict"] == ""


def test_league_table_ranks_ties_alike_and_leaves_segments_without_estimate_unranked():
    t = pd.DataFrame({"segment": ["A", "B", "C", "D"], "est": [70.0, 75.0, np.nan, 75.0],
                      "se": [1.0, 1.0, np.nan, 1.0]})
    lg = tracking.league_table(t, reference=72.0, reference_se=0.5).set_index("segment")
    assert lg.loc["B", "rank"] == lg.loc["D", "rank"] == 1 and lg.loc["A", "rank"] == 3
    assert np.isnan(lg.loc["C", "rank"])
    full = tracking.league_table(t.dropna(), reference=72.0, reference_se=0.5)
    assert full["rank"].dtype.kind == "i" and full["rank"].tolist() == [1, 1, 3]
    # a single segment: a family of one, its adjusted p is its raw p
    one = tracking.league_table(t.iloc[:1], reference=72.0, reference_se=0.5)
    assert one["pvalue_adj"].iloc[0] == one["pvalue"].iloc[0] and one["rank"].iloc[0] == 1


@pytest.mark.parametrize("bad, message", [([0.01, np.inf], "between 0 and 1"), ([0.01, -np.inf], "between 0 and 1"),
                                          (["0.01", "n/a"], "must be numbers")])
def test_adjust_pvalues_refuses_what_is_not_a_p_value(bad, message):
    for method in ("holm", "none"):
        with pytest.raises(DataError, match=message):
            adjust_pvalues(bad, method)


def test_unknown_method_is_refused():
    with pytest.raises(DataError, match="holm, fdr_bh, none"):
        adjust_pvalues([0.1], "bonferoni")
    with pytest.raises(DataError, match="multiplicity"):
        tracking.league_table(REF[["segment", "est", "se"]], reference=72, reference_se=1,
                              multiplicity="BH")


def test_gaps_and_complaint_groups_report_adjusted_p():
    rng = np.random.default_rng(3)
    e = rng.integers(1, 8, size=(80, 4)).astype(float)
    p = np.clip(e + rng.integers(-1, 2, size=(80, 4)), 1, 7)
    df = pd.DataFrame(np.hstack([e, p]), columns=[f"E{i}" for i in range(4)] + [f"P{i}" for i in range(4)])
    g = servqual.gaps(df, [f"E{i}" for i in range(4)], [f"P{i}" for i in range(4)],
                      {"all": [f"P{i}" for i in range(4)]})
    items = g[g["level"] == "item"]
    from statsmodels.stats.multitest import multipletests
    assert_allclose(items["pvalue_adj"], multipletests(items["pvalue"], method="holm")[1])
    dim = g[g["level"] == "dimension"]
    assert_allclose(dim["pvalue_adj"], dim["pvalue"])   # a family of one
    y = rng.normal(size=90)
    grp = np.repeat(["a", "b", "c"], 30)
    by = metrics.loyalty_by_complaint_handling(y, grp, multiplicity="fdr_bh")
    assert_allclose(by["pvalue_vs_rest_adj"], multipletests(by["pvalue_vs_rest"], method="fdr_bh")[1])


def _familywise_rate(method: str, reps: int, seed: int) -> float:
    """Share of replications in which a league table of 20 segments with the
    same true index flags any segment (the familywise error rate)."""
    rng = np.random.default_rng(seed)
    n_seg, n_per = 20, 150
    any_flag = 0
    for _ in range(reps):
        # 0-100 scores of respondents; every segment has the true mean 70
        scores = np.clip(rng.normal(70.0, 18.0, size=(n_seg, n_per)), 0, 100)
        est = scores.mean(axis=1)
        se = scores.std(axis=1, ddof=1) / np.sqrt(n_per)
        total = scores.ravel()
        t = pd.DataFrame({"segment": [f"S{i:02d}" for i in range(n_seg)], "est": est, "se": se})
        lg = tracking.league_table(t, reference=total.mean(),
                                   reference_se=total.std(ddof=1) / np.sqrt(total.size),
                                   multiplicity=method)
        any_flag += bool((lg["verdict"] != "not different").any())
    return any_flag / reps


@pytest.mark.slow
def test_twenty_equal_segments_are_flagged_at_most_at_the_familywise_rate():
    """20 segments with one true index: with Holm at most ~5% of league tables
    flag a segment (binomial margin for 400 replications); unadjusted, most do.

    Slow (about 15 s alone, minutes under load) because statsmodels'
    multipletests runs gc.collect() on every Holm adjustment."""
    reps = 400
    holm = _familywise_rate("holm", reps, seed=20261130)
    # 0.05 + 2.5 binomial standard errors: a true rate of 5% passes, 8% fails
    assert holm <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / reps), holm
    raw = _familywise_rate("none", reps // 4, seed=7)
    assert raw > 0.3, raw   # without the adjustment the table flags by chance


SHARES = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "references" / "shares_change_r.csv")


@pytest.mark.parametrize("case", SHARES["case"])
def test_compare_shares_matches_r_prop_test_and_newcombe(case):
    r = SHARES.set_index("case").loc[case]
    got = metrics.compare_shares(r["x_a"] / r["n_a"], r["n_a"], r["x_b"] / r["n_b"], r["n_b"])
    assert_allclose(got[["diff", "z", "pvalue", "ci_lower", "ci_upper"]].to_numpy(float),
                    r[["diff", "z", "pvalue", "ci_lower", "ci_upper"]].to_numpy(float), rtol=1e-8, atol=1e-12)


def test_compare_shares_with_weights_uses_the_effective_n_and_refuses_percentages():
    # weighted: share 0.2 on n_eff 150 is tested as 30 of 150
    w = metrics.compare_shares(0.2, 150.0, 0.3, 160.0)
    from statsmodels.stats.proportion import proportions_ztest
    z, p = proportions_ztest([48.0, 30.0], [160.0, 150.0])
    assert_allclose([w["z"], w["pvalue"]], [z, p], rtol=1e-10)
    assert np.isnan(metrics.compare_shares(0.2, 1.5, 0.3, 160.0)["pvalue"])   # below MIN_N_EFF
    with pytest.raises(DataError, match="between 0 and 1"):
        metrics.compare_shares(20.0, 150, 0.3, 160)
