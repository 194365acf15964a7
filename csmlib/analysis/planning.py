"""Sample-size and power planning: how many respondents a wave needs.

Two questions come before fieldwork.

Tracking (:func:`plan_tracking`, :func:`detectable_change`)
    "How many respondents per wave (per segment) do we need to detect a
    change of ``change`` index points between two waves?"  The index of a
    wave is the mean of the respondents' own 0-100 index scores
    (:func:`csmlib.analysis.index.respondent_index`), so the change between
    two waves is a difference of two means with standard error
    ``sd * sqrt(f / n)``: ``f = 2`` for two independent samples of ``n``
    respondents each (``design="independent"``), ``f = 2 (1 - rho)`` for a
    panel of ``n`` respondents interviewed in both waves whose scores
    correlate ``rho`` (``design="paired"``).  With ``test="z"`` (the
    textbook formula; how :func:`csmlib.analysis.tracking.compare_estimates`
    tests a change)::

        n = f * sd**2 * (z[1 - alpha/2] + z[power])**2 / change**2

    rounded up, and conversely ``change = (z[1 - alpha/2] + z[power]) * sd *
    sqrt(f / n)``.  (The formula leaves out the rejections in the wrong
    direction, ``Phi(-z[1 - alpha/2] - change / se)``: below 1e-6 at 80%
    power.)  ``test="t"`` solves the exact power of the two-sample t-test
    (df ``2 n - 2``; the paired t-test, df ``n - 1``) for ``n``, both
    tails counted, as statsmodels' ``TTestIndPower`` / ``TTestPower`` do.
    The respondent-level standard deviation comes from a previous wave:
    :func:`index_sd`.

Model estimates (:func:`plan_sample`)
    "With ``n`` respondents, how often is each path significant, do the
    95% intervals cover, and how precise is the index?"  By Monte Carlo:
    ``reps`` samples of each size are drawn from a known population
    (:class:`csmlib.analysis.simulate.PopulationModel`) and every sample is
    estimated by the batched engines of the bootstrap (the PLS core on a
    stack of covariance matrices; warm-started batched Fisher scoring for
    CB-SEM), which take the samples' moments directly: there is no Python
    loop over fits.

    * CB-SEM (ML): Wald tests and 95% intervals from the expected
      information (:func:`csmlib.estimate.cbsem.refit_standard_errors`), as
      :func:`csmlib.fit_cbsem` reports them.
    * PLS: the inner model's OLS test of each path on the standardized
      construct scores (R plspm's ``inner_model``): ``se_j = sqrt((1 - R2)
      / (n - k - 1) * [C^-1]_jj)`` with ``C`` the correlations of the
      outcome's ``k`` predictors, and t quantiles with ``n - k - 1`` df.
      It takes the weights as given, which the bootstrap would not.

    *Power* is the share of samples in which the path differs from 0 at
    ``alpha`` (two-sided).  *Coverage* is the share of 95% intervals that
    contain the estimator's *target*: the estimator applied to the
    population's exact moments
    (:meth:`~csmlib.analysis.simulate.PopulationModel.expected_item_covariance`).
    *true* is the population's standardized parameter.  CB-SEM estimates
    are unstandardized (the first loading of each construct fixed to 1), so
    on continuous answers with equal marker loadings the target is the true
    path; Likert answers attenuate it a little (the discretization), and PLS
    targets include PLS's known attenuation of paths between reflectively
    measured constructs.  A sample whose estimation fails (a refit that does
    not converge, a constant item, a path without a standard error) is counted in ``n_failed`` and left out
    of the means, power and coverage.  The index's interval half-width is
    ``z[0.975]`` times the standard deviation of the index over the samples:
    the half-width of a correct 95% interval at that ``n``.

    :func:`min_n_inverse_sqrt` gives the inverse-square-root minimum sample
    size of Kock & Hadaya (2018) for PLS beside the simulation:
    ``n_min = ((z[1 - alpha] + z[power]) / |beta_min|)**2`` (one-tailed test,
    as in the paper: ``(2.486 / |beta_min|)**2`` at 5% and 80%).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, optimize
from scipy import stats as sps

from ..errors import DataError, SpecError
from ..estimate.ram import one_blas_thread
from ..estimate.statistics import check_power as _check_power
from ..estimate.statistics import check_probability as _check_probability
from ..estimate.statistics import min_n_inverse_sqrt
from .simulate import PopulationModel, simulate_survey

__all__ = [
    "plan_tracking",
    "detectable_change",
    "index_sd",
    "plan_sample",
    "SamplePlan",
    "min_n_inverse_sqrt",
    "population_from_fit",
]

DESIGNS = ("independent", "paired")
TESTS = ("z", "t")
METHODS = ("pls", "cbsem")
#: Respondents of the pilot sample whose fit sets up the batched estimator (its start values).
PILOT_N = 5_000
#: Largest number of simulated answers (rows x items) held at once.
CHUNK_CELLS = 1_000_000


# ---------------------------------------------------------------- tracking
def _check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise SpecError(f"{name} must be one of {list(choices)}.", values=[value])
    return str(value)


def _design_factor(design: str, correlation: float | None) -> float:
    """``f`` of ``se = sd * sqrt(f / n)`` (see the module docstring)."""
    _check_choice(design, "design", DESIGNS)
    if design == "independent":
        if correlation is not None:
            raise SpecError("correlation applies to design='paired' only (a panel).", values=[correlation],
                            hint="leave correlation out for independent samples")
        return 2.0
    if correlation is None:
        raise SpecError("design='paired' needs the correlation of a respondent's index between waves.",
                        hint="e.g. correlation=0.5 (estimate it from a panel's two waves)")
    rho = float(correlation)
    if not -1.0 < rho < 1.0:
        raise SpecError("correlation must be strictly between -1 and 1.", values=[correlation])
    return 2.0 * (1.0 - rho)


def _sd_frame(sd: Any) -> pd.DataFrame:
    """``sd`` as a frame ``segment, sd`` (and ``n`` when given)."""
    if isinstance(sd, pd.DataFrame):
        if not {"segment", "sd"} <= set(sd.columns):
            raise DataError("a frame of standard deviations needs columns 'segment' and 'sd'",
                            column=[c for c in ("segment", "sd") if c not in sd.columns],
                            hint="pass the frame index_sd returns, a number, or a mapping segment -> sd")
        out = sd[[c for c in ("segment", "sd", "n") if c in sd.columns]].copy()
    elif isinstance(sd, (Mapping, pd.Series)):
        items = dict(sd).items()
        out = pd.DataFrame({"segment": [str(k) for k, _ in items], "sd": [v for _, v in items]})
    else:
        out = pd.DataFrame({"segment": ["all"], "sd": [sd]})
    out["segment"] = out["segment"].astype(str)
    vals = pd.to_numeric(out["sd"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(vals) & (vals > 0))
    if len(out) == 0 or bad.any():
        raise DataError("every standard deviation must be a positive number", column="sd",
                        values=list(out["sd"][bad]) if len(out) else [],
                        hint="use the respondent-level SD of the index (index_sd) of a previous wave")
    out["sd"] = vals
    return out.reset_index(drop=True)


def _planning_inputs(sd: Any, alpha: Any, power: Any, design: str, correlation: float | None,
                     test: str) -> tuple[pd.DataFrame, float, float, float]:
    """The checked inputs of :func:`plan_tracking` and :func:`detectable_change`:
    the frame of standard deviations, alpha, power and the design factor ``f``."""
    _check_choice(test, "test", TESTS)
    return (_sd_frame(sd), *_check_power(alpha, power), _design_factor(design, correlation))


def _t_power(n: float, shift: float, alpha: float, design: str, f: float) -> float:
    """Two-sided power of the t-test at ``n`` (respondents per wave or
    panel members), true change ``shift`` in SD units."""
    df = 2.0 * n - 2.0 if design == "independent" else n - 1.0
    nc = shift / math.sqrt(f / n)
    tc = sps.t.ppf(1.0 - alpha / 2.0, df)
    with np.errstate(all="ignore"):
        p = float(sps.nct.sf(tc, df, nc) + sps.nct.cdf(-tc, df, nc))
    if math.isfinite(p):
        return p
    # scipy's noncentral t fails (NaN) for a large shift at few degrees of freedom:
    # integrate over the chi-square of the denominator instead (df >= 1 here)
    def rejects(v: float) -> float:
        r = tc * math.sqrt(v / df)
        return float((sps.norm.sf(r - nc) + sps.norm.cdf(-r - nc)) * sps.chi2.pdf(v, df))

    return float(integrate.quad(rejects, 0.0, np.inf, limit=200)[0])


def _z_sum(alpha: float, power: float) -> float:
    return float(sps.norm.ppf(1.0 - alpha / 2.0) + sps.norm.ppf(power))


def plan_tracking(
    sd: float | Mapping[str, float] | pd.Series | pd.DataFrame,
    change: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    design: str = "independent",
    correlation: float | None = None,
    test: str = "z",
) -> pd.DataFrame:
    """Respondents per wave needed to detect an index change between two waves.

    Parameters
    ----------
    sd : float, mapping, Series or DataFrame
        Respondent-level standard deviation of the 0-100 index (from a
        previous wave: :func:`index_sd`); a mapping / Series segment -> sd,
        or the frame :func:`index_sd` returns, plans each segment.
    change : float
        The change to detect, in index points (its sign does not matter).
    alpha : float
        Two-sided significance level of the test of the change.
    power : float
        Probability of detecting a true change of ``change`` points.
    design : {"independent", "paired"}
        Two independent samples per wave, or one panel interviewed twice.
    correlation : float, optional
        ``design="paired"``: correlation of a respondent's index between the
        two waves.
    test : {"z", "t"}
        The closed-form normal formula, or the exact t-test power.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment, sd, change, design, correlation,
        alpha, power, n_exact`` (the solution, not rounded) and ``n``
        (respondents per wave -- panel members for ``"paired"`` -- rounded
        up).
    """
    frame, alpha, power, f = _planning_inputs(sd, alpha, power, design, correlation, test)
    delta = abs(float(change))
    if not (math.isfinite(delta) and delta > 0):
        raise SpecError("change must be a non-zero number of index points.", values=[change])
    exact = []
    for s in frame["sd"]:
        n_z = f * (s * _z_sum(alpha, power) / delta) ** 2
        if test == "z":
            exact.append(n_z)
            continue
        lo = 2.0   # the t-tests need 2 respondents per wave (independent) or 2 pairs
        hi = max(4.0, n_z + 2.0)
        while _t_power(hi, delta / s, alpha, design, f) < power:   # the t-test needs a little more than z
            hi *= 1.5
        if _t_power(lo, delta / s, alpha, design, f) >= power:
            exact.append(lo)
        else:
            exact.append(optimize.brentq(lambda n: _t_power(n, delta / s, alpha, design, f) - power,
                                         lo, hi, xtol=1e-10))
    out = pd.DataFrame({
        "segment": frame["segment"], "sd": frame["sd"], "change": delta, "design": design,
        "correlation": np.nan if correlation is None else float(correlation), "alpha": alpha,
        "power": power, "n_exact": np.asarray(exact, dtype=float)})
    out["n"] = np.ceil(out["n_exact"] - 1e-9).astype(int)
    return out


def detectable_change(
    sd: float | Mapping[str, float] | pd.Series | pd.DataFrame,
    n: int | Mapping[str, int] | pd.Series | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    design: str = "independent",
    correlation: float | None = None,
    test: str = "z",
) -> pd.DataFrame:
    """The smallest index change a wave of ``n`` respondents detects (the
    inverse of :func:`plan_tracking`).

    Parameters
    ----------
    sd : float, mapping, Series or DataFrame
        As in :func:`plan_tracking`; the frame of :func:`index_sd` also
        gives each segment's base (``n``) when ``n`` is not given.
    n : int, mapping or Series, optional
        Respondents per wave (panel members for ``"paired"``), one number or
        segment -> number.
    alpha, power, design, correlation, test
        As in :func:`plan_tracking`.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment, sd, n, design, correlation, alpha,
        power, change`` (index points detected with probability ``power``).
    """
    frame, alpha, power, f = _planning_inputs(sd, alpha, power, design, correlation, test)
    if n is None:
        if "n" not in frame.columns:
            raise SpecError("detectable_change needs n, the respondents per wave.",
                            hint="pass n=, or the frame index_sd returns (it holds each segment's base)")
        bases = frame["n"].to_numpy()
    elif isinstance(n, (Mapping, pd.Series)):
        given = {str(k): v for k, v in dict(n).items()}
        absent = [s for s in frame["segment"] if s not in given]
        if absent:
            raise DataError("no base given for some segments", values=absent,
                            hint="give n for every segment of sd")
        bases = np.array([given[s] for s in frame["segment"]])
    elif np.ndim(n) != 0:
        raise DataError("n must be one number, or a mapping segment -> number", column="n",
                        values=list(np.ravel(n))[:6],
                        hint="for several bases of one segment, call detectable_change once per base, "
                             "or name the segments: n={'North': 300, 'South': 500} with sd per segment")
    else:
        bases = np.full(len(frame), n, dtype=object)
    bases = pd.to_numeric(pd.Series(bases), errors="coerce").to_numpy(dtype=float)
    smallest = 2.0
    bad = ~(np.isfinite(bases) & (bases >= smallest) & (np.floor(bases) == bases))
    if bad.any():
        raise DataError("every base n must be a whole number of at least 2 respondents", column="n",
                        values=list(bases[bad]))
    changes = []
    for s, nn in zip(frame["sd"], bases):
        if test == "z":
            changes.append(_z_sum(alpha, power) * s * math.sqrt(f / nn))
            continue
        hi = _z_sum(alpha, power) * math.sqrt(f / nn)   # the z answer, in SD units
        while _t_power(nn, hi, alpha, design, f) < power:   # the t-test needs a little more
            hi *= 1.5
        changes.append(s * optimize.brentq(lambda d: _t_power(nn, d, alpha, design, f) - power,
                                           1e-12, hi, xtol=1e-14))
    return pd.DataFrame({
        "segment": frame["segment"], "sd": frame["sd"], "n": bases.astype(int), "design": design,
        "correlation": np.nan if correlation is None else float(correlation), "alpha": alpha,
        "power": power, "change": np.asarray(changes, dtype=float)})


def index_sd(
    results: Any,
    construct: str = "Satisfaction",
    *,
    data: Any = None,
    by: str | None = None,
    scale_limits: Any = None,
) -> pd.DataFrame:
    """Respondent-level mean and standard deviation of the 0-100 index, overall
    and per segment: the input of :func:`plan_tracking` and
    :func:`detectable_change`.

    Parameters
    ----------
    results : Results
        A fit of the previous wave (its raw outer weights define the index).
    construct : str
        The index's construct.
    data : Survey or DataFrame, optional
        Respondents to describe (default the fit's data); must hold ``by``
        when given.
    by : str, optional
        A segment column of ``data``.
    scale_limits : optional
        As in :func:`csmlib.satisfaction_index`.

    Returns
    -------
    pandas.DataFrame
        Columns ``segment, n, n_scored, mean, sd``: a row ``"all"``, then one
        row per segment value (as text, in order of first appearance); ``n``
        counts the respondents (the base), ``n_scored`` those who answered
        every item of the block, whose scores give ``mean`` and ``sd``
        (unweighted: case weights of a weighted fit shape the index's
        weights, not this spread).
    """
    from .index import respondent_index

    frame = None if data is None else (data.data if hasattr(data, "data") else data)
    if by is not None:
        if frame is None:
            raise DataError("index_sd by segment needs the data with the segment column",
                            column=by, hint="pass data= (the survey the fit was made on)")
        if by not in frame.columns:
            raise DataError("the segment column is not in the data", column=by,
                            hint="name a column of the survey that holds the segments")
    scores = respondent_index(results, construct, data=frame, scale_limits=scale_limits)
    ok = scores.notna().to_numpy()
    rows = [("all", np.ones(len(scores), dtype=bool))]
    if by is not None:
        seg = frame[by]
        rows += [(str(value), (seg == value).to_numpy()) for value in pd.unique(seg.dropna())]
    parts = [(name, mask, scores[mask & ok]) for name, mask in rows]
    return pd.DataFrame({
        "segment": [p[0] for p in parts],
        "n": [int(p[1].sum()) for p in parts],
        "n_scored": [int(len(p[2])) for p in parts],
        "mean": [float(p[2].mean()) if len(p[2]) else np.nan for p in parts],
        "sd": [float(p[2].std(ddof=1)) if len(p[2]) > 1 else np.nan for p in parts]})


def population_from_fit(results: Any, *, scale_limits: Any = None, name: str | None = None) -> PopulationModel:
    """A population like the one a CB-SEM fit describes: what :func:`plan_sample`
    simulates from to plan the next wave of a running study.

    The constructs and items are the fit's; the standardized loadings,
    paths and correlations between exogenous constructs are its
    completely standardized estimates (``std_all``); every item is a Likert
    item with its instrument's number of answer points, centred and spread
    like this sample's answers (its mean and SD, shifted so the lowest answer
    is 1).

    Parameters
    ----------
    results : CbsemResults
        A single-group :func:`csmlib.fit_cbsem` fit of reflective constructs.
    scale_limits : DataFrame or dict, optional
        Theoretical item limits (default the fit's, from the instrument);
        whole numbers.
    name : str, optional
        The population's name (default the model's).

    Returns
    -------
    PopulationModel

    Raises
    ------
    SpecError
        Not a CB-SEM fit, composites, a multi-group fit, a standardized
        loading outside (0, 1] (a Heywood case or a reversed item), or what a
        PopulationModel does not describe: second-order constructs, residual
        covariances, covariances between endogenous constructs, observed
        regressors.
    DataError
        Items without whole-number scale limits.
    """
    from ..estimate.statistics import resolve_scale_limits

    spec = getattr(results, "spec", None)
    if getattr(results, "method", None) != "cbsem" or spec is None:
        raise SpecError("population_from_fit needs a csm.fit_cbsem fit.",
                        values=[type(results).__name__], hint="fit the model with csm.fit_cbsem first")
    est = results.estimates
    if "group" in est.columns:
        raise SpecError("population_from_fit takes a single-group fit.", hint="fit each group on its own")
    if any(r.op == "<~" for r in spec.relations):
        raise SpecError("population_from_fit needs reflective constructs (=~); the model has composites.")
    if spec.higher_order:
        raise SpecError("population_from_fit cannot describe second-order constructs: "
                        + ", ".join(spec.higher_order), values=list(spec.higher_order),
                        hint="plan from a first-order model (the constructs with their items)")
    names = set(spec.construct_names)
    exo = set(spec.exogenous)
    rel = est[est["op"].isin(["~", "~~"]) & (est["lhs"] != est["rhs"])]
    unfit = [f"{lhs} {op} {rhs}" for lhs, op, rhs, v in zip(rel["lhs"], rel["op"], rel["rhs"], rel["est"])
             if not (lhs in names and rhs in names and (op == "~" or (lhs in exo and rhs in exo)))
             and not (op == "~~" and v == 0.0)]
    if unfit:
        # a PopulationModel has paths between constructs and correlations between exogenous ones only:
        # these would be left out of the simulated population without a word
        raise SpecError("population_from_fit cannot describe these relations of the fit: " + ", ".join(unfit[:6])
                        + (", ..." if len(unfit) > 6 else ""), values=unfit[:6],
                        hint="plan from a model without residual covariances, covariances between "
                             "endogenous constructs and observed regressors")
    items = list(spec.indicators)
    lim = resolve_scale_limits(results, scale_limits)
    absent = [] if lim is None else [i for i in items if i not in lim.index]
    if lim is None or absent:
        raise DataError("population_from_fit needs the items' theoretical scale limits",
                        column=absent or items, hint="fit on a Survey read with its instrument, or pass scale_limits=")
    lo, hi = lim.loc[items, "min"].to_numpy(float), lim.loc[items, "max"].to_numpy(float)
    if not (np.all(lo == np.round(lo)) and np.all(hi == np.round(hi)) and np.all(hi > lo)):
        raise DataError("the scale limits must be whole numbers with max > min", column=items)
    std = {(lhs, op, rhs): v for lhs, op, rhs, v in zip(est["lhs"], est["op"], est["rhs"], est["std_all"])}
    loadings = {i: float(std[(c.name, "=~", i)]) for c in spec.constructs for i in c.indicators}
    bad = {i: v for i, v in loadings.items() if not 0.0 < v <= 1.0}
    if bad:
        raise SpecError("standardized loadings outside (0, 1] cannot describe a population",
                        values=[f"{i}: {v:.3f}" for i, v in bad.items()],
                        hint="check reversed items and Heywood cases in the fit first")
    paths = {(rhs, lhs): float(v) for (lhs, op, rhs), v in std.items()
             if op == "~" and lhs in names and rhs in names}
    corr = {(lhs, rhs): float(v) for (lhs, op, rhs), v in std.items()
            if op == "~~" and lhs != rhs and lhs in exo and rhs in exo}
    data = results.data
    X = data[items].to_numpy(dtype=float)
    return PopulationModel(
        constructs={c.name: tuple(c.indicators) for c in spec.constructs}, loadings=loadings, paths=paths,
        scale_points={i: int(h - l + 1) for i, l, h in zip(items, lo, hi)},
        item_means={i: float(np.nanmean(X[:, j]) - lo[j] + 1.0) for j, i in enumerate(items)},
        item_sds={i: float(np.nanstd(X[:, j], ddof=1)) for j, i in enumerate(items)},
        exogenous_correlations=corr, name=name or spec.name or "fit")


# ------------------------------------------------------------ plan_sample
@dataclass(frozen=True, eq=False)
class SamplePlan:
    """What :func:`plan_sample` found.

    Attributes
    ----------
    paths : pandas.DataFrame
        One row per sample size and structural path: ``n, lhs, op, rhs``
        (``outcome ~ predictor``), ``true`` (population standardized path),
        ``target`` (the estimator at the population's moments),
        ``mean_est, sd_est`` (over the samples), ``mean_se``, ``power``,
        ``coverage``, ``n_ok`` (samples estimated), ``n_failed`` and
        ``min_n_inverse_sqrt`` (Kock & Hadaya's minimum n for the true path).
    index : pandas.DataFrame
        One row per sample size and construct with an index (Likert items):
        ``n, construct, true`` (population index, equal item weights),
        ``target, mean_est, sd_est, halfwidth`` (``z[0.975] * sd_est``),
        ``n_ok``.
    method : str
        ``"pls"`` or ``"cbsem"``.
    reps : int
        Samples drawn per size.
    seed : int
        The seed.
    alpha : float
        Significance level of the power.
    """

    paths: pd.DataFrame
    index: pd.DataFrame
    method: str
    reps: int
    seed: int
    alpha: float


def _sizes(n: Any, n_items: int) -> list[int]:
    vals = list(np.atleast_1d(np.asarray(n, dtype=object)))
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer, float)) or v != int(v):
            raise SpecError("n must be whole numbers of respondents.", values=[v])
        out.append(int(v))
    if not out or min(out) <= n_items:
        raise SpecError(f"every sample size must exceed the number of items ({n_items}).",
                        values=out, hint="plan samples larger than the questionnaire's item count")
    return out


def _scale_limits(pop: PopulationModel) -> pd.DataFrame | None:
    lik = [i for i in pop.items if pop.scale_points[i] is not None]
    if not lik:
        return None
    return pd.DataFrame({"min": 1.0, "max": [float(pop.scale_points[i]) for i in lik]}, index=lik)


def _population_moments(pop: PopulationModel) -> tuple[np.ndarray, np.ndarray]:
    """Exact means and covariance of the recorded answers in the population."""
    items = list(pop.items)
    return (pop.expected_item_means().reindex(items).to_numpy(dtype=float),
            pop.expected_item_covariance().loc[items, items].to_numpy(dtype=float))


def _sample_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means (R, p) and covariances (R, p, p; divisor n - 1) of a stack of samples (R, n, p)."""
    m = X.mean(axis=1)
    Xc = X - m[:, None, :]
    S = np.matmul(np.swapaxes(Xc, 1, 2), Xc) / (X.shape[1] - 1.0)
    return m, S


def _inverses(C: np.ndarray) -> np.ndarray:
    """Inverses of a stack of matrices; NaN for a singular one (not the whole stack)."""
    try:
        return np.linalg.inv(C)
    except np.linalg.LinAlgError:
        out = np.full(C.shape, np.nan)
        for i, c in enumerate(C):
            try:
                out[i] = np.linalg.inv(c)
            except np.linalg.LinAlgError:
                pass
        return out


class _PlsPlanner:
    """PLS estimates, OLS inner-model standard errors and the index of a stack of samples."""

    def __init__(self, pilot: Any, limits: pd.DataFrame | None) -> None:
        from ..estimate.bootstrapping import PlsEngine

        self.engine = PlsEngine(pilot, ("estimates", "index"), limits)
        self.items = list(self.engine.cs.items)

    def estimate(self, m: np.ndarray, S: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        eng = self.engine
        f = eng.fit_moments(m, S)
        draws, failed, _ = eng.stats_from_fit(f)
        se = np.full(draws.shape, np.nan)
        df = np.full(draws.shape[1], np.inf)
        for col, (kind, arg) in enumerate(eng.getters):
            if kind != "p":
                continue
            out, pred = arg
            preds = eng.cs.predecessors(out)
            k = len(preds)
            C = f["cc"][:, preds[:, None], preds[None, :]]
            with np.errstate(all="ignore"):
                inv = _inverses(np.where(failed[:, None, None], np.eye(k), C))
                j = int(np.flatnonzero(preds == pred)[0])
                var = (1.0 - f["r2"][:, out]) / (n - k - 1.0) * inv[:, j, j]
                se[:, col] = np.sqrt(np.where(var > 0, var, np.nan))
            df[col] = n - k - 1.0
        return draws, se, failed, df


class _CbPlanner:
    """ML estimates, expected-information standard errors and the index of a stack of samples."""

    def __init__(self, pilot: Any, limits: pd.DataFrame | None) -> None:
        from ..estimate.bootstrapping import CbEngine

        self.pilot = pilot
        self.engine = CbEngine(pilot, ("estimates", "index"), limits)
        self.items = list(self.engine.items)

    def estimate(self, m: np.ndarray, S: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        from ..estimate.cbsem import refit_standard_errors

        eng = self.engine
        out = eng.refit_moments(m, S, np.full(len(m), float(n)))
        se_theta = refit_standard_errors(self.pilot, out["theta"], n)
        draws = out["draws"]
        se = np.full(draws.shape, np.nan)
        for col, (kind, arg) in enumerate(eng.getters):
            if kind == "theta":
                se[:, col] = se_theta[:, arg]
        return draws, se, out["failed"], np.full(draws.shape[1], np.inf)


def _planner(population: PopulationModel, method: str, scheme: str, seed: int,
             limits: pd.DataFrame | None) -> Any:
    """The batched estimator, set up from one fit of a pilot sample."""
    import warnings

    items = list(population.items)
    pilot_data = simulate_survey(population, PILOT_N, seed=seed).data[items]
    spec = population.spec()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "pls":
            from ..estimate.pls import fit_pls

            return _PlsPlanner(fit_pls(spec, pilot_data, scheme=scheme), limits)
        from ..estimate.cbsem import fit_cbsem

        return _CbPlanner(fit_cbsem(spec, pilot_data), limits)


@one_blas_thread   # small matrices in large stacks: BLAS threads only add synchronisation
def plan_sample(
    population: PopulationModel,
    n: int | Sequence[int],
    *,
    reps: int = 500,
    seed: int,
    method: str = "pls",
    alpha: float = 0.05,
    scheme: str = "path",
    n_jobs: int = 2,
) -> SamplePlan:
    """Power, coverage and index precision of a model at given sample sizes, by Monte Carlo.

    ``reps`` samples of every size are drawn from ``population`` (complete
    answers) and the population's model (reflective constructs, its paths:
    :meth:`PopulationModel.spec`) is estimated on each, batched (see the
    module docstring for the tests, intervals and targets).

    Parameters
    ----------
    population : PopulationModel
        The assumed truth, e.g. :func:`csmlib.analysis.simulate.acsi_population`.
    n : int or sequence of int
        Sample sizes to evaluate.
    reps : int
        Samples per size.
    seed : int
        Seed; the same seed gives the same plan.
    method : {"pls", "cbsem"}
        The estimator (PLS path modelling, or CB-SEM by ML).
    alpha : float
        Significance level of the power (two-sided); the intervals are 95%.
    scheme : str
        PLS inner weighting scheme.
    n_jobs : int
        Threads estimating chunks of samples at once (the plan does not
        depend on it).

    Returns
    -------
    SamplePlan
        ``.paths`` (per size and path: ``n, lhs, op, rhs, true, target,
        mean_est, sd_est, mean_se, power, coverage, n_ok, n_failed,
        min_n_inverse_sqrt``) and ``.index`` (per size and construct: ``n,
        construct, true, target, mean_est, sd_est, halfwidth, n_ok``).
    """
    if not isinstance(population, PopulationModel):
        raise SpecError("plan_sample needs a PopulationModel (csm.simulate.acsi_population(), ...).",
                        values=[type(population).__name__])
    _check_choice(method, "method", METHODS)
    alpha = _check_probability(alpha, "alpha")
    if isinstance(reps, bool) or int(reps) != reps or reps < 2:
        raise SpecError("reps must be a whole number of at least 2.", values=[reps])
    reps = int(reps)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecError("plan_sample needs an integer seed (the same seed gives the same plan).",
                        values=[seed])
    items = list(population.items)
    sizes = _sizes(n, len(items))
    limits = _scale_limits(population)
    children = np.random.SeedSequence(int(seed)).spawn(len(sizes) + 1)
    seed_of = [int(np.random.default_rng(c).integers(0, 2**63 - 1)) for c in children]
    planner = _planner(population, method, scheme, seed_of[0], limits)
    eng = planner.engine
    keys = eng.keys
    # the estimator at the population's moments
    m_pop, S_pop = _population_moments(population)
    order = [items.index(i) for i in planner.items]
    m_pop, S_pop = m_pop[order], S_pop[np.ix_(order, order)]
    # (divisor n - 1 in, so that the ML fit sees the population covariance itself)
    big = 10**9
    target = planner.estimate(m_pop[None], S_pop[None] * big / (big - 1.0), big)[0][0]
    path_cols = [j for j, (g, lhs, op, rhs) in enumerate(keys.itertuples(index=False))
                 if g == "estimates" and op == "~"]
    index_cols = [j for j, g in enumerate(keys["group"]) if g == "index"]
    true_index = population.true_index()
    path_rows, index_rows = [], []
    z975 = float(sps.norm.ppf(0.975))
    # chunks of samples, seeded up front: the same plan whatever n_jobs is
    jobs = []
    for k, (size, s_seed) in enumerate(zip(sizes, seed_of[1:])):
        per_chunk = max(1, min(reps, CHUNK_CELLS // (size * len(items))))
        rng = np.random.default_rng(s_seed)
        jobs += [(k, size, min(per_chunk, reps - start), int(rng.integers(0, 2**63 - 1)))
                 for start in range(0, reps, per_chunk)]

    def chunk(job: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        _, size, r, chunk_seed = job
        X = simulate_survey(population, r * size, seed=chunk_seed).data
        X = X[planner.items].to_numpy(dtype=float).reshape(r, size, len(items))
        m, S = _sample_moments(X)
        est, se, failed, df = planner.estimate(m, S, size)
        failed = failed | ~np.isfinite(se[:, path_cols]).all(axis=1)   # no test without a standard error
        return est, se, failed, df

    workers = max(1, min(int(n_jobs), len(jobs)))
    if workers == 1:
        done = [chunk(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:   # numpy releases the GIL in the heavy parts
            done = list(pool.map(chunk, jobs))
    for k, size in enumerate(sizes):
        parts = [d for j, d in zip(jobs, done) if j[0] == k]
        est = np.concatenate([p[0] for p in parts])
        se = np.concatenate([p[1] for p in parts])
        failed = np.concatenate([p[2] for p in parts])
        df = parts[0][3]
        ok = ~failed
        n_ok = int(ok.sum())
        for j in path_cols:
            _, lhs, op, rhs = keys.iloc[j]
            e, s = est[ok, j], se[ok, j]
            crit_p = sps.t.ppf(1.0 - alpha / 2.0, df[j]) if np.isfinite(df[j]) else sps.norm.ppf(1.0 - alpha / 2.0)
            crit_95 = sps.t.ppf(0.975, df[j]) if np.isfinite(df[j]) else z975
            with np.errstate(invalid="ignore", divide="ignore"):
                power = float(np.mean(np.abs(e / s) > crit_p)) if n_ok else np.nan
                cover = float(np.mean(np.abs(e - target[j]) <= crit_95 * s)) if n_ok else np.nan
            true = population.paths.get((rhs, lhs), 0.0)
            path_rows.append({
                "n": size, "lhs": lhs, "op": op, "rhs": rhs, "true": float(true), "target": float(target[j]),
                "mean_est": float(np.mean(e)) if n_ok else np.nan,
                "sd_est": float(np.std(e, ddof=1)) if n_ok > 1 else np.nan,
                "mean_se": float(np.nanmean(s)) if n_ok else np.nan,
                "power": power, "coverage": cover, "n_ok": n_ok, "n_failed": int(failed.sum()),
                "min_n_inverse_sqrt": min_n_inverse_sqrt(true, alpha=alpha) if true != 0 else np.nan})
        for j in index_cols:
            construct = keys.iloc[j]["lhs"]
            e = est[ok, j]
            sd_e = float(np.std(e, ddof=1)) if n_ok > 1 else np.nan
            index_rows.append({
                "n": size, "construct": construct, "true": float(true_index.get(construct, np.nan)),
                "target": float(target[j]), "mean_est": float(np.mean(e)) if n_ok else np.nan,
                "sd_est": sd_e, "halfwidth": z975 * sd_e, "n_ok": n_ok})
    paths = pd.DataFrame(path_rows, columns=[
        "n", "lhs", "op", "rhs", "true", "target", "mean_est", "sd_est", "mean_se", "power", "coverage",
        "n_ok", "n_failed", "min_n_inverse_sqrt"])
    index = pd.DataFrame(index_rows, columns=["n", "construct", "true", "target", "mean_est", "sd_est",
                                              "halfwidth", "n_ok"])
    return SamplePlan(paths=paths, index=index, method=method, reps=reps, seed=int(seed), alpha=alpha)
