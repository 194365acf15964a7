"""The results object shared by every estimator.

A :class:`Results` is immutable: its frames are handed out as copies, so a
caller can never change the estimates another part of a report relies on.
CB-SEM and PLS results expose the same tidy frames with one naming style.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..spec.modelspec import ModelSpec

__all__ = ["Results", "PlsResults", "CbsemResults", "Summary", "ESTIMATE_COLUMNS", "EFFECT_COLUMNS", "FIT_INDEX_NAMES"]

#: Columns of :attr:`Results.estimates`, in order.
ESTIMATE_COLUMNS = (
    "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all",
)
#: Leading columns of :attr:`Results.effects`.
EFFECT_COLUMNS = ("lhs", "rhs", "direct", "indirect", "total")
#: Index of :attr:`Results.fit_indices` (PLS reports the subset that applies).
FIT_INDEX_NAMES = (
    "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
    "srmr", "aic", "bic",
)


def empty_estimates() -> pd.DataFrame:
    """An estimates frame with the standard columns and no rows."""
    df = pd.DataFrame({c: pd.Series(dtype=object if c in ("lhs", "op", "rhs", "label") else float)
                       for c in ESTIMATE_COLUMNS})
    return df


def tidy_estimates(df: pd.DataFrame) -> pd.DataFrame:
    """Put an estimates frame into the standard form: the standard columns
    in order (missing ones filled with NaN / ""), float dtypes, a fresh
    RangeIndex."""
    out = pd.DataFrame(index=range(len(df)))
    for c in ESTIMATE_COLUMNS:
        if c in df.columns:
            col = df[c].to_numpy()
        else:
            col = np.full(len(df), "" if c == "label" else np.nan, dtype=object if c == "label" else float)
        if c in ("lhs", "op", "rhs", "label"):
            out[c] = pd.Series(col, dtype=object).fillna("").astype(str).to_numpy()
        else:
            out[c] = pd.to_numeric(pd.Series(col), errors="raise").astype(float).to_numpy()
    return out


@dataclass(frozen=True, eq=False)
class Results:
    """Estimates of a model on one data set.

    Attributes
    ----------
    spec : ModelSpec
        The specification that was estimated.
    method : str
        ``"cbsem"`` or ``"pls"``.
    estimates : DataFrame
        Columns ``lhs, op, rhs, label, est, se, z, pvalue, ci_lower,
        ci_upper, std_all``; NaN where not applicable.  Loadings are
        ``F =~ x``, PLS outer weights ``F <~ x``, paths ``outcome ~
        predictor``, covariances ``x ~~ y``, intercepts ``x ~1``, defined
        parameters ``name := expression``.
    r2 : Series
        R-squared by endogenous construct.
    effects : DataFrame
        Columns ``lhs`` (outcome), ``rhs`` (predictor), ``direct``,
        ``indirect``, ``total`` (and, where the estimator has them, standard
        errors ``direct_se, indirect_se, total_se``).
    fit_indices : Series
        ``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower,
        rmsea_ci_upper, srmr, aic, bic``; NaN where not applicable.
    scores : DataFrame
        Construct scores, one column per construct, one row per respondent.
    converged : bool
    n_iter : int
    message : str
        The estimator's account of how estimation ended.
    n_obs : int
        Rows used in estimation.
    data_info : dict
        Rows dropped and why (``{"rows_read": ..., "rows_used": ...,
        "dropped": {reason: count}}``).
    warnings : tuple of str
        Estimation trouble worth a reader's attention (Heywood cases, ...).
    options : dict
        Estimator options actually used (scheme, estimator, seed, ...).
    data : DataFrame
        The indicator data estimation used (not for reports: it is
        respondent-level).  Used by bootstrap and measurement analyses.
    scale_limits : DataFrame or None
        Theoretical ``min``/``max`` per item (index = item), from the
        instrument when the data came as a :class:`~csmlib.data.survey.Survey`.
    extra : dict
        Estimator-specific internals (implied covariance, unstandardized
        weights, ...), for library code.
    """

    spec: ModelSpec
    method: str
    _estimates: pd.DataFrame
    _r2: pd.Series
    _effects: pd.DataFrame
    _fit_indices: pd.Series
    _scores: pd.DataFrame
    converged: bool
    n_iter: int
    message: str
    n_obs: int
    data_info: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    _data: pd.DataFrame | None = None
    _scale_limits: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    # Frames are handed out as (copy-on-write) copies: the results never change.
    @property
    def estimates(self) -> pd.DataFrame:
        return self._estimates.copy()

    @property
    def r2(self) -> pd.Series:
        return self._r2.copy()

    @property
    def effects(self) -> pd.DataFrame:
        return self._effects.copy()

    @property
    def fit_indices(self) -> pd.Series:
        return self._fit_indices.copy()

    @property
    def scores(self) -> pd.DataFrame:
        return self._scores.copy()

    @property
    def data(self) -> pd.DataFrame | None:
        return None if self._data is None else self._data.copy()

    @property
    def scale_limits(self) -> pd.DataFrame | None:
        return None if self._scale_limits is None else self._scale_limits.copy()

    def _view(self, op: str) -> pd.DataFrame:
        e = self._estimates
        return e[e["op"] == op].reset_index(drop=True)

    @property
    def specific_effects(self) -> pd.DataFrame:
        """Every specific indirect effect (one row per chain of paths with at
        least one mediator): columns ``path`` (``"COMP -> CUSA -> CUSL"``),
        ``from``, ``to``, ``n_mediators``, ``est`` (the product of the chain's
        path estimates).  :attr:`csmlib.BootstrapResults.specific_effects`
        adds bootstrap intervals.  Recursive models only (a loop is a
        :class:`~csmlib.errors.SpecError`)."""
        from .effects import path_matrix, specific_effects_table

        names = list(self.spec.construct_names)
        names += [t for t in self.spec.interactions if t not in names]   # "x:m" terms start chains only
        return specific_effects_table(path_matrix(self.paths, names), names)

    @property
    def paths(self) -> pd.DataFrame:
        """Structural paths (``op == "~"``) among constructs, interaction
        terms (rhs ``"x:m"``) included."""
        e = self._view("~")
        names = set(self.spec.construct_names)
        return e[e["lhs"].isin(names) & e["rhs"].isin(names | set(self.spec.interactions))].reset_index(drop=True)

    @property
    def loadings(self) -> pd.DataFrame:
        """Loadings (``op == "=~"``)."""
        return self._view("=~")

    @property
    def weights(self) -> pd.DataFrame:
        """Outer weights (``op == "<~"``; PLS, and CB composites)."""
        return self._view("<~")

    @property
    def covariances(self) -> pd.DataFrame:
        """Variances and covariances (``op == "~~"``)."""
        return self._view("~~")

    @property
    def defined(self) -> pd.DataFrame:
        """Defined parameters (``op == ":="``)."""
        return self._view(":=")

    def summary(self) -> "Summary":
        """A summary that renders as HTML in a notebook and as text with ``str()``."""
        return Summary(self)

    @property
    def outer_op(self) -> str:
        """The operator of the rows that tie items to their construct:
        ``"<~"`` (PLS outer weights) or ``"=~"`` (CB-SEM loadings)."""
        return "<~" if self.method == "pls" else "=~"

    def indicator_signs(self) -> dict[str, np.ndarray]:
        """The :attr:`outer_op` estimates of each construct, in the order of
        its indicators (NaN where absent): what a resample's signs are
        compared with.

        Returns
        -------
        dict
            Construct name -> float array, one value per indicator.
        """
        e = self._estimates
        sel = e[e["op"] == self.outer_op]
        return {c.name: sel[sel["lhs"] == c.name].set_index("rhs")["est"]
                .reindex(list(c.indicators)).to_numpy(float) for c in self.spec.constructs}

    def refit(self, data: pd.DataFrame) -> "Results":
        """Fit the same model with the same options to other rows (a
        resample); only the results of ``csm.fit_pls`` / ``csm.fit_cbsem``
        can do this.

        Returns
        -------
        Results
            Of the same class as ``self``.
        """
        from ..errors import EstimationError

        raise EstimationError("refitting needs the results of csm.fit_pls or csm.fit_cbsem",
                              values=[type(self).__name__])

    def bootstrap_engine(self, groups: tuple[str, ...], scale_limits: Any, engine: str) -> Any:
        """The batched bootstrap engine for these results and statistic
        groups, or None where only refitting every resample
        (``engine="loop"``) can do it (``engine="batched"`` then raises a
        :class:`~csmlib.errors.SpecError` saying why).

        Returns
        -------
        object or None
            An engine with ``keys`` (the statistic key table), ``n``, ``X``
            and ``stats(counts) -> (draws, failed, sign_flipped)``.
        """
        return None

    def __repr__(self) -> str:
        name = self.spec.name or "model"
        state = "converged" if self.converged else "NOT converged"
        return f"<{type(self).__name__} {self.method} {name}: n={self.n_obs}, {state} after {self.n_iter} iterations>"


#: Options of a PLS fit that a refit passes on to :func:`csmlib.fit_pls`.
PLS_REFIT_OPTIONS = ("scheme", "standardize", "consistent", "missing", "max_iter", "tol",
                     "weights", "interaction", "hoc")


@dataclass(frozen=True, eq=False, repr=False)   # the base repr: no data in it
class PlsResults(Results):
    """Results of :func:`csmlib.fit_pls` (``method == "pls"``)."""


    def refit(self, data: pd.DataFrame) -> "PlsResults":
        from .pls import fit_pls

        opts = dict(self.options or {})
        return fit_pls(self.spec, data, **{k: opts[k] for k in PLS_REFIT_OPTIONS if k in opts})

    def bootstrap_engine(self, groups: tuple[str, ...], scale_limits: Any, engine: str) -> Any:
        from ..errors import SpecError

        if self.spec.interactions or self.spec.higher_order:
            # interaction terms / higher-order constructs: every resample redoes every stage
            from .bootstrap_stages import StagedPlsEngine, supports

            if supports(self):
                return StagedPlsEngine(self, groups, scale_limits)
            if engine == "batched":
                raise SpecError('engine="batched" bootstraps interaction and higher-order models fitted on '
                                "standardized items without PLSc only", hint='use engine="auto" or "loop"')
            return None
        from .bootstrapping import PlsEngine

        return PlsEngine(self, groups, scale_limits)


@dataclass(frozen=True, eq=False, repr=False)
class CbsemResults(Results):
    """Results of :func:`csmlib.fit_cbsem` (``method == "cbsem"``)."""


    def refit(self, data: pd.DataFrame) -> "CbsemResults":
        from .cbsem import fit_cbsem

        opts = self.options or {}
        if opts.get("ordered"):      # an ordered-item fit refits with its estimator and items
            return fit_cbsem(self.spec, data, estimator=opts["estimator"], ordered=list(opts["ordered"]),
                             missing=opts.get("missing", "listwise"), group=opts.get("group"),
                             group_equal=tuple(opts.get("group_equal", ())))
        return fit_cbsem(self.spec, data, missing=opts.get("missing", "listwise"))

    def bootstrap_engine(self, groups: tuple[str, ...], scale_limits: Any, engine: str) -> Any:
        from ..errors import SpecError

        extra = self.extra or {}
        data = self._data
        fiml = (self.options or {}).get("missing") == "fiml" and data is not None \
            and bool(data[list(self.spec.indicators)].isna().to_numpy().any())
        if "free_index" not in extra or "ram" not in extra or fiml or (self.options or {}).get("ordered"):
            if engine == "batched":
                raise SpecError('engine="batched" needs a complete-data (or listwise) csm.fit_cbsem fit',
                                hint='use engine="loop"')
            return None
        from .bootstrapping import CbEngine

        return CbEngine(self, groups, scale_limits)


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, (float, np.floating)):
        return "" if np.isnan(x) else f"{x:.{digits}f}"
    return str(x)


class SectionedSummary:
    """Text and HTML rendering of a summary made of titled sections.

    Subclasses provide ``_sections()``: ``(title, body)`` pairs, the body a
    string, a Series or a DataFrame (numbers shown with three decimals; text
    HTML-escaped).
    """

    def _sections(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def as_text(self) -> str:
        out = []
        for title, body in self._sections():
            if title:
                out.append(f"\n{title}\n{'-' * len(title)}")
            if isinstance(body, str):
                out.append(body)
            elif isinstance(body, pd.Series):
                out.append(body.to_string(float_format=lambda v: f"{v:.3f}"))
            else:
                out.append(body.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        out = ['<div class="csm-summary">']
        for title, body in self._sections():
            if title:
                out.append(f"<h4>{html.escape(title)}</h4>")
            if isinstance(body, str):
                out.append("<p>" + html.escape(body).replace("\n", "<br>") + "</p>")
            elif isinstance(body, pd.Series):
                out.append(body.to_frame("value").to_html(float_format=lambda v: f"{v:.3f}", escape=True))
            else:
                out.append(body.to_html(index=False, float_format=lambda v: f"{v:.3f}", escape=True))
        out.append("</div>")
        return "\n".join(out)


class Summary(SectionedSummary):
    """Text and HTML summary of a :class:`Results`, lavaan style: it opens
    with how estimation ended, then fit, paths, measurement and R-squared."""

    def __init__(self, results: Results) -> None:
        self.results = results

    def _sections(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        r = self.results
        status = (
            f"{'ended normally' if r.converged else 'DID NOT converge'} after {r.n_iter} iterations"
        )
        head = (
            f"Method: {r.method}   Model: {r.spec.name or '-'}   Observations used: {r.n_obs}\n"
            f"Estimation {status}. {r.message}".rstrip()
        )
        secs: list[tuple[str, Any]] = [("", head)]
        if r.warnings:
            secs.append(("Warnings", "\n".join(f"- {w}" for w in r.warnings)))
        fi = r._fit_indices.dropna()
        if len(fi):
            secs.append(("Fit", fi))
        cols = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
        if "group" in r._estimates.columns:   # a multi-group fit: which group each row is
            cols.insert(3, "group")
        for title, frame in (("Structural paths", r.paths), ("Loadings", r.loadings),
                             ("Weights", r.weights), ("Defined parameters", r.defined)):
            if len(frame):
                secs.append((title, frame[cols].dropna(axis=1, how="all")))
        if len(r._r2):
            secs.append(("R-squared", r._r2))
        return secs
