"""Mediation analysis from a bootstrap: direct, specific and total indirect
effects and the mediation type of Zhao, Lynch & Chen (2010).

:func:`mediation` reads everything from one :func:`csmlib.bootstrap` run, so
the direct effect, every specific indirect effect and the total indirect
effect have intervals from the same resamples.

Definitions (as seminr 2.3.1 and Hair et al., *A Primer on PLS-SEM*, 3rd ed.,
ch. 7, report them)
------------------------------------------------------------------------
* An effect is *significant* when its percentile bootstrap interval (95 % by
  default) excludes 0.
* Mediation type (Zhao, Lynch & Chen 2010) of an indirect effect ``a`` given
  the direct effect ``c``: ``"complementary"`` (both significant, same
  sign), ``"competitive"`` (both significant, opposite signs),
  ``"indirect-only"`` (only the indirect effect significant; "full
  mediation"), ``"direct-only"`` (only the direct effect; no mediation),
  ``"no effect"`` (neither).
* On a specific chain's row the type compares that chain with the direct
  effect; on the ``direct`` and ``total indirect`` rows it compares the total
  indirect effect with the direct effect.
* Without a direct path ``x -> y`` the direct effect is 0 and not
  significant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import SpecError

__all__ = ["mediation", "mediation_type", "MEDIATION_TYPES"]

#: The five types of Zhao, Lynch & Chen (2010).
MEDIATION_TYPES = ("complementary", "competitive", "indirect-only", "direct-only", "no effect")


def mediation_type(indirect: float, indirect_significant: bool, direct: float, direct_significant: bool) -> str:
    """Zhao, Lynch & Chen (2010) type of an indirect effect given the direct effect.

    Returns
    -------
    str
        One of :data:`MEDIATION_TYPES`.
    """
    if indirect_significant and direct_significant:
        return "complementary" if indirect * direct > 0 else "competitive"
    if indirect_significant:
        return "indirect-only"
    if direct_significant:
        return "direct-only"
    return "no effect"


def mediation(boot: Any, x: str, y: str, *, level: float = 0.95) -> pd.DataFrame:
    """Direct, specific indirect and total indirect effects of ``x`` on ``y``.

    Parameters
    ----------
    boot : BootstrapResults
        From :func:`csmlib.bootstrap` with the default statistics (it needs
        the ``"estimates"``, ``"effects"`` and ``"specific"`` groups).
    x, y : str
        The antecedent and the outcome construct.
    level : float
        Level of the percentile intervals that decide significance.

    Returns
    -------
    DataFrame
        One row for the ``direct`` effect, one per chain from ``x`` to ``y``
        (``effect`` = the chain, e.g. ``"COMP -> CUSA -> CUSL"``) and one for
        the ``total indirect`` effect.  Columns ``x, y, effect, est, se,
        ci_lower, ci_upper`` (percentile interval at ``level``),
        ``significant`` (bool: the interval excludes 0) and ``type`` (see
        the module docstring).

    Raises
    ------
    SpecError
        When ``x`` or ``y`` is not a construct of the model, ``x`` has no
        effect on ``y``, or the bootstrap lacks the statistics needed.
    """
    res = boot.results
    names = list(res.spec.construct_names)
    for role, name in (("x", x), ("y", y)):
        if name not in names:
            raise SpecError(f"mediation: {role}={name!r} is not a construct of the model", values=[name],
                            hint=f"use one of: {', '.join(names)}")
    groups = set(boot.keys["group"])
    need = {"estimates", "effects", "specific"} - groups
    if need:
        raise SpecError(f"mediation needs a bootstrap of the {', '.join(sorted(need))} statistics",
                        values=sorted(need), hint="run csm.bootstrap(fit, ...) with the default statistics")
    tab = boot.conf_int(level=level, ci="percentile")

    def row(group: str, lhs: str, op: str, rhs: str) -> pd.Series | None:
        hit = tab[(tab["group"] == group) & (tab["lhs"] == lhs) & (tab["op"] == op) & (tab["rhs"] == rhs)]
        return None if hit.empty else hit.iloc[0]

    def values(r: pd.Series | None) -> tuple[float, float, float, float]:
        if r is None:
            return 0.0, np.nan, np.nan, np.nan
        return float(r["est"]), float(r["se"]), float(r["ci_lower"]), float(r["ci_upper"])

    sp = res.specific_effects
    sp = sp[(sp["from"] == x) & (sp["to"] == y)]
    direct = values(row("estimates", y, "~", x))
    if direct[0] == 0.0 and sp.empty:
        raise SpecError(f"mediation: {x} has no effect on {y} in the model (no direct path, no chain)",
                        values=[x, y], hint="choose an antecedent that reaches the outcome")
    total_ind = values(row("effects", y, "indirect", x)) if not sp.empty else (0.0, np.nan, np.nan, np.nan)
    entries = [("direct", direct)]
    entries += [(p, values(row("specific", p, "chain", ""))) for p in sp["path"]]
    entries.append(("total indirect", total_ind))

    def sig(v: tuple[float, float, float, float]) -> bool:
        return bool(np.isfinite(v[2]) and np.isfinite(v[3]) and (v[2] > 0 or v[3] < 0))

    d_sig, t_sig = sig(direct), sig(total_ind)
    overall = mediation_type(total_ind[0], t_sig, direct[0], d_sig)
    rows = []
    for effect, v in entries:
        kind = overall if effect in ("direct", "total indirect") else mediation_type(v[0], sig(v), direct[0], d_sig)
        rows.append((x, y, effect, *v, sig(v), kind))
    return pd.DataFrame(rows, columns=["x", "y", "effect", "est", "se", "ci_lower", "ci_upper",
                                       "significant", "type"])
