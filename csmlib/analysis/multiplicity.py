"""Adjusting a family of tests for multiplicity.

When a table tests many segments against the total, many items for a gap,
or many groups against the rest, some tests come out "significant" by
chance alone: twenty segments with the same true index, each tested at 5%,
flag about one segment.  Every such table in csm workbench reports the raw
p-value beside an adjusted one and flags on the adjusted one.

Methods (``statsmodels.stats.multitest.multipletests``):

* ``"holm"`` (the default): Holm's step-down method; controls the
  familywise error rate -- the chance of flagging any segment whose true
  value equals the reference -- at ``alpha``, under any dependence.
* ``"fdr_bh"``: Benjamini-Hochberg; controls the false discovery rate (the
  expected share of false flags among the flags), with more power when
  many comparisons are real differences.
* ``"none"``: no adjustment (the adjusted p equals the raw p).

A study chooses with the key ``multiplicity:`` in its study file, which
reaches the notebooks as the parameter ``multiplicity``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError

__all__ = ["MULTIPLICITY_METHODS", "DEFAULT_MULTIPLICITY", "check_multiplicity", "adjust_pvalues"]

#: the methods a study may choose (``multiplicity:`` in the study file)
MULTIPLICITY_METHODS = ("holm", "fdr_bh", "none")

#: the adjustment used unless the study chooses another
DEFAULT_MULTIPLICITY = "holm"


def check_multiplicity(method: str) -> str:
    """Return ``method`` when it is one of :data:`MULTIPLICITY_METHODS`.

    Raises
    ------
    DataError
        Any other value, naming the methods to choose from.
    """
    if method not in MULTIPLICITY_METHODS:
        raise DataError(f"unknown multiplicity adjustment {method!r}", values=[method],
                        hint="use one of: " + ", ".join(MULTIPLICITY_METHODS)
                             + " (holm: familywise error rate; fdr_bh: false discovery rate)")
    return method


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray,
                   method: str = DEFAULT_MULTIPLICITY) -> np.ndarray:
    """Adjust a family of p-values for multiplicity.

    Parameters
    ----------
    pvalues : sequence of float
        One p-value per test of the family; NaN (a test not made: a
        suppressed segment, a missing estimate) stays NaN and is not counted
        in the family.
    method : {"holm", "fdr_bh", "none"}
        See the module docstring.

    Returns
    -------
    numpy.ndarray
        The adjusted p-values, same length and order; compare them with
        ``alpha`` as the raw ones would be.
    """
    check_multiplicity(method)
    try:
        p = np.asarray(pvalues, dtype=float)
    except (TypeError, ValueError):
        raise DataError("p-values must be numbers", values=[v for v in pvalues][:5],
                        hint="pass the raw p-values of the family's tests (NaN for a test not made)") from None
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    outside = ok & ~((p >= 0) & (p <= 1))   # also an infinite p: not a test not made, a wrong input
    if outside.any():
        raise DataError("p-values must lie between 0 and 1", values=list(p[outside][:5]),
                        hint="pass the raw p-values of the family's tests")
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    from statsmodels.stats.multitest import multipletests

    out[ok] = multipletests(p[ok], method=method)[1]
    return out
