"""The parameter table of a covariance-based model, as lavaan's ``lavaanify()``.

One reading of a :class:`~csmlib.spec.ModelSpec` for any number of groups:
every CB-SEM fit (single or multi-group, ML or FIML) estimates the table
:func:`build_partable` returns, and nothing else reads the spec.

lavaan's defaults for ``sem()`` / ``cfa()``:

- ``auto.fix.first``: the first loading of every construct is fixed to 1
  unless the user put a value or ``NA`` on that first loading (a value on
  another loading, ``F =~ x1 + 0.5*x2``, keeps ``x1`` the marker); a start
  value on the marker, ``F =~ start(0.5)*x1 + x2``, is the value it is fixed
  at (lavaan's ``ustart``);
- ``auto.fix.single``: the residual variance of the only indicator of a
  construct is fixed to 0;
- ``auto.var``: residual variances of the observed variables (but the
  exogenous covariates) and variances of the constructs are free;
- ``auto.cov.lv.x``: covariances among exogenous constructs (constructs that
  are no outcome of a regression and no indicator of another construct);
- ``auto.cov.y``: covariances among the residuals of pure outcomes
  (variables regressed on others that predict nothing and, for observed
  ones, are no indicator);
- ``fixed.x``: observed exogenous covariates (observed variables that only
  predict) have their variances, covariances and means fixed at the sample
  values; they are not free parameters and their moments are not counted
  in the degrees of freedom;
- with a mean structure (``~ 1`` in the model, FIML, several groups):
  intercepts of the observed variables free, construct means fixed to 0
  (free in every group but the first when intercepts are held equal).

Labels: rows sharing a label share one free parameter (within and across
groups, as lavaan); ``a == b`` merges the two; ``c(a, b)*x`` gives each
group its label or fixed value; ``group_equal`` ties a parameter class
across groups except the ``group_partial`` exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..spec.modelspec import ModelSpec, Relation

__all__ = ["GROUP_EQUAL", "Param", "ParTable", "build_partable"]

#: Parameter classes ``group_equal`` can hold equal across groups (lavaan's names).
GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions", "thresholds")


@dataclass(frozen=True)
class Param:
    """One row of the parameter table.

    ``free`` is the index into the free-parameter vector (-1 when fixed);
    ``value`` the fixed value of a fixed row or the start value of a free
    one; ``matrix`` is ``"A"`` (directed effect of variable ``j`` on ``i``),
    ``"S"`` ((residual) covariance of ``i`` and ``j``), ``"M"`` (intercept
    or mean of variable ``i``), ``"T"`` (threshold ``j`` (0-based) of the
    ordered item ``i``, op ``"|"``) or ``"D"`` (the scaling factor
    ``~*~`` of an ordered item, fixed to 1: lavaan's delta
    parameterization); positions index ``observed + latent``.  The
    covariance structure (:class:`~csmlib.estimate.ram.RamModel`) reads the
    ``A``, ``S`` and ``M`` rows.
    """

    id: int
    lhs: str
    op: str
    rhs: str
    group: int
    free: int
    value: float
    label: str
    plabel: str
    matrix: str
    i: int
    j: int
    user: bool = True
    exo: bool = False
    cls: str = ""


@dataclass(frozen=True)
class ParTable:
    """A model's parameter table for ``G`` groups.

    Attributes
    ----------
    rows : tuple of Param
        Every parameter of every group, group by group.
    observed, latent : tuple of str
        Variables; the sample moments are in the order of ``observed``.
    exogenous_x : tuple of str
        Observed covariates with variances, covariances and means fixed at
        their sample values (``fixed.x``).
    n_groups : int
    meanstructure : bool
    k : int
        Number of free parameters (distinct free indices).
    defined : tuple
        The spec's defined parameters.
    """

    rows: tuple[Param, ...]
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    exogenous_x: tuple[str, ...]
    n_groups: int
    meanstructure: bool
    k: int
    defined: tuple = field(default=())

    def group_rows(self, g: int) -> tuple[Param, ...]:
        """Rows of group ``g`` (1-based)."""
        return tuple(r for r in self.rows if r.group == g)

    def n_moments(self) -> int:
        """Sample moments the model fits (all groups), without those of the
        fixed covariates."""
        p, nx = len(self.observed), len(self.exogenous_x)
        per = p * (p + 1) // 2 - nx * (nx + 1) // 2
        if self.meanstructure:
            per += p - nx
        return per * self.n_groups

    def to_frame(self) -> pd.DataFrame:
        """The table as lavaan's ``parTable()``.

        Returns
        -------
        DataFrame
            Columns ``id, lhs, op, rhs, group, free, ustart, label, plabel,
            start, exo, user`` (``free`` 1-based, 0 when fixed, as lavaan).
        """
        return pd.DataFrame([{
            "id": r.id, "lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": r.group,
            "free": r.free + 1, "ustart": r.value if r.free < 0 else np.nan, "label": r.label,
            "plabel": r.plabel, "start": r.value, "exo": int(r.exo), "user": int(r.user)}
            for r in self.rows])


# ---------------------------------------------------------------------------
# variables
# ---------------------------------------------------------------------------
def _variables(spec: ModelSpec):
    """Observed and latent variables and lavaan's classes of them."""
    if not isinstance(spec, ModelSpec):
        raise SpecError(f"fit_cbsem needs a ModelSpec, got {type(spec).__name__}",
                        hint="build one with csm.ModelSpec.from_lavaan(text) or csm.models.acsi()")
    if spec.interactions:
        raise SpecError(
            "CB-SEM does not estimate interaction terms: " + ", ".join(spec.interactions),
            values=list(spec.interactions),
            hint="estimate the moderated model with csm.fit_pls(spec, data, interaction='two_stage'), "
                 "or compare groups of the moderator with a multi-group CB-SEM (group=)")
    composites = [c.name for c in spec.constructs if c.mode == "B" and not c.single_item]
    if composites or any(r.op == "<~" for r in spec.relations):
        names = composites or sorted({r.lhs for r in spec.relations if r.op == "<~"})
        raise SpecError("CB-SEM cannot estimate composites (mode B, '<~'): " + ", ".join(names),
                        values=names,
                        hint="use csm.fit_pls for composite constructs, or declare them reflective ('=~')")
    measured = {r.lhs for r in spec.relations if r.op == "=~"}
    latent = [c.name for c in spec.constructs if c.indicators != (c.name,) or c.name in measured]
    lat = set(latent)
    observed: list[str] = []
    for c in spec.constructs:
        for x in c.indicators:
            if x not in lat and x not in observed:
                observed.append(x)
    for r in spec.relations:
        for v in (r.lhs, r.rhs):
            if r.op in ("~~", "~1", "~") and v and v not in lat and v not in observed:
                observed.append(v)
    indicator_of = {x for c in spec.constructs if c.name in lat for x in c.indicators if x != c.name}
    eqs_y = {r.lhs for r in spec.relations if r.op == "~"}
    eqs_x = {r.rhs for r in spec.relations if r.op == "~"}
    ov_x = [v for v in observed if v in eqs_x and v not in eqs_y and v not in indicator_of]
    ov_y = [v for v in observed if v in eqs_y and v not in eqs_x and v not in indicator_of]
    lv_y = [f for f in latent if f in eqs_y and f not in eqs_x]
    lv_x = [f for f in latent if f not in eqs_y and f not in indicator_of]
    return observed, latent, ov_x, ov_y, lv_x, lv_y


def _check_fixed_x_rows(rows: Sequence[Relation], x_set: set[str]) -> None:
    """Refuse a ``~~`` or ``~ 1`` statement on an observed covariate of
    ``fixed.x``: its variance, covariances and mean are the sample values,
    so the statement could only be ignored or half-honoured.  lavaan 0.6.14
    instead turns the variables named into random ones, one by one, which
    leaves the other covariates' covariances with them fixed at 0 (a
    different model, chi-square 120.8 on 1 df for ``y1 ~ x1 + x2`` plus
    ``x1 ~~ x1`` on PoliticalDemocracy, where the statement-free model is
    saturated)."""
    for r in rows:
        if r.op not in ("~~", "~1"):
            continue
        hit = [v for v in (r.lhs, r.rhs) if v in x_set]
        if hit:
            text = f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} ~~ {r.rhs}"
            raise SpecError(
                f"'{text}' names the observed covariate {hit[0]!r}, whose variance, covariances and "
                "mean are fixed at their sample values (it only predicts: lavaan's fixed.x); csmlib "
                "does not estimate them",
                values=[text], hint=(f"remove the statement (line {r.line}), or measure {hit[0]} by a "
                                     f"single-item construct (e.g. {hit[0].upper()}_ =~ {hit[0]}) to estimate "
                                     "its variance and covariances" if r.line else
                                     f"remove the statement, or measure {hit[0]} by a single-item construct"))


def _cls(op: str, lhs: str, rhs: str, latent: set[str]) -> str:
    if op == "=~":
        return "loadings"
    if op == "|":
        return "thresholds"
    if op == "~*~":
        return "scaling"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in latent else "intercepts"
    if lhs == rhs:
        return "lv.variances" if lhs in latent else "residuals"
    return "lv.covariances" if lhs in latent and rhs in latent else "residual.covariances"


def _partial_keys(group_partial) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """``group_partial`` as lavaan syntax (``"x3 ~ 1"``, ``"visual =~ x2"``)
    or ``(class, name)`` pairs."""
    rows, pairs = set(), set()
    for item in group_partial:
        if isinstance(item, str):
            text = item.replace(" ", "")
            for op in ("=~", "~~", "~"):
                if op in text:
                    lhs, rhs = text.split(op, 1)
                    if op == "~" and rhs == "1":
                        rows.add((lhs, "~1", ""))
                    else:
                        rows.add((lhs, op, rhs))
                        if op == "~~":
                            rows.add((rhs, op, lhs))
                    break
            else:
                raise SpecError(f"cannot read the group_partial entry {item!r}", values=[item],
                                hint="write a parameter as lavaan does ('x3 ~ 1', 'visual =~ x2') "
                                     "or a (class, name) pair such as ('intercepts', 'x3')")
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            if item[0] not in GROUP_EQUAL:
                raise SpecError(f"unknown parameter class {item[0]!r} in group_partial", values=[item[0]],
                                hint=f"use one of {', '.join(GROUP_EQUAL)}")
            pairs.add((str(item[0]), str(item[1])))
        else:
            raise SpecError(f"cannot read the group_partial entry {item!r}", values=[item],
                            hint="give lavaan syntax ('x3 ~ 1') or a (class, name) pair")
    return rows, pairs


def _check_partial_known(group_partial, rows: list[dict]) -> None:
    """Refuse a ``group_partial`` entry that names no parameter of the model
    (lavaan ignores it, so a typo such as ``"visual =~ x22"`` left the
    parameter held equal without a word)."""
    keys = {(r["lhs"], r["op"], r["rhs"]) for r in rows}
    probes = [Param(0, r["lhs"], r["op"], r["rhs"], r["group"], 0, 0.0, "", "", "", 0, 0, cls=r["cls"])
              for r in rows]
    for item in group_partial:
        one_rows, one_pairs = _partial_keys([item])
        if one_rows & keys or any(_is_partial(p, set(), one_pairs) for p in probes if one_pairs):
            continue
        raise SpecError(f"the group_partial entry {item!r} names no parameter of the model",
                        values=[str(item)],
                        hint="write it as the model's parameter, e.g. 'visual =~ x2', 'x3 ~ 1', 'x1 ~~ x1', "
                             "or ('intercepts', 'x3')")


def _is_partial(row: Param, rows: set, pairs: set) -> bool:
    if (row.lhs, row.op, row.rhs) in rows:
        return True
    name = row.rhs if row.op == "=~" else row.lhs
    return (row.cls, name) in pairs or (row.op == "~~" and (row.cls, row.rhs) in pairs)


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------
def build_partable(
    spec: ModelSpec,
    n_groups: int = 1,
    *,
    meanstructure: bool = False,
    group_equal: Sequence[str] = (),
    group_partial: Sequence = (),
    moments: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    fixed_x: bool = True,
    ordered: Mapping[str, Sequence[float]] | None = None,
) -> ParTable:
    """Build the parameter table of ``spec`` for ``n_groups`` groups.

    Parameters
    ----------
    spec : ModelSpec
    n_groups : int
        1 for a single-group model.
    meanstructure : bool
        Add intercepts and means (forced when the spec has ``~ 1`` rows or
        ``n_groups > 1``).
    group_equal, group_partial : sequence
        lavaan's ``group.equal`` classes (:data:`GROUP_EQUAL`) and their
        exceptions (``"x3 ~ 1"`` or ``("intercepts", "x3")``).
    moments : sequence of (mean, cov), optional
        Per group, the sample mean and covariance (divisor N) of the
        observed variables in the table's order: values of the fixed
        covariates and start values.  Without them, fixed covariates get
        NaN and start values are generic (the table is then for checking).
    fixed_x : bool
        lavaan's ``fixed.x``.
    ordered : mapping of str to sequence of float, optional
        Ordered items and the start values of their thresholds (one per
        cut: K - 1 for K categories).  As lavaan's delta parameterization:
        a mean structure; threshold rows ``x | t1``, ``x | t2``, ... (free);
        a scaling row ``x ~*~ x`` fixed to 1 (free in groups 2, 3, ... when
        ``"thresholds"`` is in ``group_equal``, with the construct means, as
        lavaan 0.6.14); the intercept ``x ~ 1`` fixed to 0; the residual variance ``x ~~ x`` is no parameter (it is 1
        minus the variance the model explains; fixed here at 0 so that the
        covariance structure gives the explained part).

    Returns
    -------
    ParTable

    Raises
    ------
    SpecError
        For a model lavaan refuses or csmlib cannot estimate, saying why.
    """
    observed, latent, ov_x, ov_y, lv_x, lv_y = _variables(spec)
    lat = set(latent)
    ordered = dict(ordered or {})
    if ordered:
        _check_ordered(spec, ordered, observed, ov_x)
        meanstructure = True
    G = int(n_groups)
    if G > 1 or any(r.op == "~1" for r in spec.relations):
        meanstructure = True
    if not fixed_x:
        ov_x = []
    unknown = sorted(set(group_equal) - set(GROUP_EQUAL))
    if unknown:
        raise SpecError("unknown parameter classes in group_equal", values=unknown,
                        hint=f"use some of {', '.join(GROUP_EQUAL)}")
    clash = sorted(set(observed) & lat)
    if clash:
        raise SpecError("names used both as a construct and as an item: " + ", ".join(clash),
                        values=clash, hint="give the construct a name that is not a column of the data")
    names = observed + latent
    pos = {v: i for i, v in enumerate(names)}
    for r in spec.relations:
        if r.groups is not None and len(r.groups) != G:
            raise SpecError(f"'{r.lhs} {r.op} {r.rhs}' has {len(r.groups)} group modifiers in c(...) "
                            f"but the model has {G} group(s)", values=[r.lhs, r.rhs],
                            hint=f"give one label or value per group (line {r.line})" if r.line else
                            "give one label or value per group")
    user = [r for r in spec.relations if r.op in ("=~", "~", "~~", "~1")]
    for r in user:
        for v in (r.lhs, r.rhs):
            if v and v not in pos:
                raise SpecError(f"{v!r} is neither a construct nor an item of the model", values=[v],
                                hint=f"check the spelling on line {r.line}" if r.line else "check the spelling")
    # measurement relations from the constructs (builders may give no =~ rows)
    loading = {(r.lhs, r.rhs): r for r in user if r.op == "=~"}
    rel_rows: list[Relation] = []
    for c in spec.constructs:
        if c.name not in lat:
            continue
        for x in c.indicators:
            rel_rows.append(loading.get((c.name, x), Relation(c.name, "=~", x)))
    rel_rows += [r for r in user if r.op != "=~"]
    threshold_rows = [(x, "|", f"t{k + 1}", None, False) for x in observed if x in ordered
                      for k in range(len(ordered[x]))]
    # first loadings: markers
    first = {}
    for c in spec.constructs:
        if c.name in lat:
            r0 = loading.get((c.name, c.indicators[0]))
            modified = r0 is not None and (r0.fixed is not None or r0.free or r0.groups is not None)
            first[c.name] = None if modified else c.indicators[0]
            if modified and r0.free and not any(
                    r.op == "~~" and r.lhs == r.rhs == c.name and (r.fixed is not None or r.groups)
                    for r in user) and not any(
                    r.op == "=~" and r.lhs == c.name and r.fixed is not None for r in user):
                raise SpecError(
                    f"the first loading of {c.name!r} is freed (NA*) but nothing fixes the scale of {c.name!r}",
                    values=[c.name], hint=f"fix one loading (1*item) or the variance ({c.name} ~~ 1*{c.name})")
    single = {c.indicators[0] for c in spec.constructs if c.name in lat and len(c.indicators) == 1
              and c.indicators[0] not in lat}
    # one template per group: (lhs, op, rhs, label, fixed, start, user)
    template: list[tuple] = []
    covered: set[tuple[str, str]] = set()
    means_given: set[str] = set()
    for r in rel_rows:
        template.append((r.lhs, r.op, r.rhs, r, True))
        if r.op == "~~":
            covered |= {(r.lhs, r.rhs), (r.rhs, r.lhs)}
        if r.op == "~1":
            means_given.add(r.lhs)
    template += threshold_rows
    x_set = set(ov_x)
    _check_fixed_x_rows(rel_rows, x_set)
    for x in observed:
        if (x, x) not in covered and x not in x_set:
            template.append((x, "~~", x, None, False))
    for f in latent:
        if (f, f) not in covered:
            template.append((f, "~~", f, None, False))
    for block in (lv_x, ov_y + lv_y):
        for a in range(len(block)):
            for b in range(a + 1, len(block)):
                if (block[a], block[b]) not in covered:
                    template.append((block[a], "~~", block[b], None, False))
    for a in range(len(ov_x)):
        for b in range(a, len(ov_x)):
            if (ov_x[a], ov_x[b]) not in covered:
                template.append((ov_x[a], "~~", ov_x[b], None, False))
    template += [(x, "~*~", x, None, False) for x in observed if x in ordered]
    if meanstructure:
        for v in observed + latent:
            if v not in means_given:
                template.append((v, "~1", "", None, False))
    # rows of every group
    rows: list[dict] = []
    for g in range(1, G + 1):
        mean, cov = moments[g - 1] if moments is not None else (None, None)
        for lhs, op, rhs, rel, is_user in template:
            label, fixed = "", None
            if rel is not None:
                if rel.groups is not None:
                    lab, fixed = rel.groups[g - 1]
                    label = lab or ""
                else:
                    label, fixed = rel.label or "", rel.fixed
            exo = False
            if rel is None or (rel.groups is None and rel.fixed is None and not rel.free):
                if op == "=~" and first.get(lhs) == rhs and (rel is None or not rel.free):
                    # lavaan fixes the marker at its start value when one is given
                    # (start(0.5)*x1 fixes the loading at 0.5, not 1)
                    fixed = 1.0 if rel is None or rel.start is None else float(rel.start)
                elif op == "~~" and lhs == rhs and lhs in single and rel is None:
                    fixed = 0.0
            if lhs in x_set and (op == "~1" or (op == "~~" and rhs in x_set)) and fixed is None:
                exo = True
                if mean is None:
                    fixed = np.nan
                elif op == "~1":
                    fixed = float(mean[pos[lhs]])
                else:
                    fixed = float(cov[pos[lhs], pos[rhs]])
            if lhs in ordered and rel is None and (op == "~1" or (op == "~~" and lhs == rhs)):
                fixed = 0.0          # delta parameterization: see the docstring
            if op == "~*~":       # free in groups 2.. once thresholds are equal (lavaan 0.6.14)
                fixed = None if (g > 1 and "thresholds" in group_equal) else 1.0
            if op == "~1" and lhs in lat and rel is None:
                anchor = "thresholds" if ordered else "intercepts"
                free_mean = g > 1 and anchor in group_equal and "means" not in group_equal
                fixed = None if free_mean else 0.0
            if op == "=~":
                mat, i, j = "A", pos[rhs], pos[lhs]
            elif op == "~":
                mat, i, j = "A", pos[lhs], pos[rhs]
            elif op == "~~":
                mat, i, j = "S", pos[lhs], pos[rhs]
            elif op == "|":
                mat, i, j = "T", pos[lhs], int(rhs[1:]) - 1
            elif op == "~*~":
                mat, i, j = "D", pos[lhs], pos[lhs]
            else:
                mat, i, j = "M", pos[lhs], 0
            start = rel.start if (rel is not None and rel.start is not None) else None
            if op == "|":
                start = float(ordered[lhs][j])
            elif op == "~*~":
                start = 1.0
            rows.append(dict(lhs=lhs, op=op, rhs=rhs, group=g, label=label, fixed=fixed, start=start,
                             matrix=mat, i=i, j=j, user=is_user, exo=exo,
                             cls=_cls(op, lhs, rhs, lat)))
    # free indices: labels, ==, group_equal
    partial_rows, partial_pairs = _partial_keys(group_partial)
    _check_partial_known(group_partial, rows)
    alias: dict[str, str] = {}

    def root(lab: str) -> str:
        while lab in alias:
            lab = alias[lab]
        return lab

    for c in spec.constraints:
        a, b = root(c.lhs), root(c.rhs)
        if a != b:
            alias[b] = a
    label_fixed = {}
    for r in rows:
        if r["label"] and r["fixed"] is not None:
            label_fixed.setdefault(root(r["label"]), r["fixed"])
    for r in rows:   # a label fixed anywhere is fixed everywhere (lavaan)
        if r["label"] and r["fixed"] is None and root(r["label"]) in label_fixed:
            r["fixed"] = label_fixed[root(r["label"])]
    blocks = {c.name: [pos[x] for x in c.indicators if pos[x] < len(observed)] for c in spec.constructs
              if c.name in lat}
    key_index: dict[object, int] = {}
    k = 0
    first_group: dict[tuple[str, str, str], int] = {}
    out: list[Param] = []
    for n, r in enumerate(rows, start=1):
        key_rc = (r["lhs"], r["op"], r["rhs"])
        if r["fixed"] is not None:
            free = -1
        else:
            key: object = None
            if r["label"]:
                key = ("label", root(r["label"]))
            elif r["group"] > 1 and r["cls"] in group_equal and key_rc in first_group:
                probe = Param(0, r["lhs"], r["op"], r["rhs"], r["group"], 0, 0.0, "", "", "", 0, 0,
                              cls=r["cls"])
                if not _is_partial(probe, partial_rows, partial_pairs):
                    key = ("equal", key_rc)
            if key is not None and key in key_index:
                free = key_index[key]
            else:
                free = k
                k += 1
                if key is not None:
                    key_index[key] = free
            if r["group"] == 1 and not r["label"]:
                key_index.setdefault(("equal", key_rc), free)
                first_group[key_rc] = free
        if r["group"] == 1 and r["fixed"] is not None:
            first_group.pop(key_rc, None)
        value = r["fixed"] if free < 0 else _start(r, moments, pos, first, observed, blocks)
        out.append(Param(n, r["lhs"], r["op"], r["rhs"], r["group"], free, float(value), r["label"],
                         f".p{n}.", r["matrix"], r["i"], r["j"], r["user"], r["exo"], r["cls"]))
    # free indices renumbered in order of first appearance (already), but a
    # label fixed in one row may have left a gap: compact
    used = sorted({p.free for p in out if p.free >= 0})
    remap = {f: i for i, f in enumerate(used)}
    out = [replace(p, free=remap[p.free]) if p.free >= 0 else p for p in out]
    _check_identified(out, latent, spec)
    return ParTable(rows=tuple(out), observed=tuple(observed), latent=tuple(latent),
                    exogenous_x=tuple(ov_x), n_groups=G, meanstructure=bool(meanstructure),
                    k=len(used), defined=tuple(spec.defined))


def _check_ordered(spec: ModelSpec, ordered: Mapping, observed: list[str], ov_x: list[str]) -> None:
    """Ordered items must be indicators of constructs (as csmlib estimates
    them): no observed predictor or outcome, no variance or intercept of
    their own in the model."""
    unknown = sorted(set(ordered) - set(observed))
    if unknown:
        raise SpecError("ordered items that are not variables of the model: " + ", ".join(unknown),
                        values=unknown, hint="name observed items of the model in ordered=")
    indicators = {x for c in spec.constructs for x in c.indicators if x != c.name}
    bad = sorted({v for r in spec.relations for v in (r.lhs, r.rhs) if v in ordered and (
        r.op == "~" or r.op == "~1" or (r.op == "~~" and r.lhs == r.rhs))} | (set(ordered) - indicators)
        | (set(ordered) & set(ov_x)))
    single = [c.name for c in spec.constructs if len(c.indicators) == 1 and c.indicators[0] in ordered
              and c.indicators[0] != c.name]
    if single:
        raise SpecError("constructs measured by a single ordered item: " + ", ".join(single) + "; with ordered "
                        "items their variance is not identified (lavaan cannot invert the information "
                        "matrix either)", values=single,
                        hint="measure each construct by two or more items, or estimate the model by ML/MLR")
    if bad:
        raise SpecError("ordered items can only be indicators of constructs (with residual covariances "
                        "among them): " + ", ".join(bad), values=bad,
                        hint="measure the variable by a single-item construct ('F =~ x') or leave it "
                             "out of ordered=")


def _start(r: dict, moments, pos: dict[str, int], first: dict, observed: list[str],
           blocks: Mapping[str, list[int]]) -> float:
    """A start value as lavaan's "simple" start (refined by semopy or the
    optimizer): loadings from the marker covariances, half the observed
    variance for residual variances, 0.05 for construct variances, sample
    means for intercepts, 0 for paths and covariances.  The construct's
    variance is taken from the marker's correlations with the construct's
    own items (:func:`_marker_psi`): an item times 1e4 elsewhere in the
    model, or a marker times 1e-3, made the start loadings 1e4 times too
    small and the scoring never converged."""
    if r["start"] is not None:
        return float(r["start"])
    mean, cov = moments[r["group"] - 1] if moments is not None else (None, None)
    op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
    p = len(observed)
    if op == "=~":
        m = first.get(lhs)
        if cov is not None and m is not None and pos[rhs] < p and pos[m] < p:
            return float(cov[pos[rhs], pos[m]] / _marker_psi(cov, pos[m], blocks.get(lhs, ())))
        return 1.0
    if op == "~~" and lhs == rhs:
        if pos[lhs] < p:
            return 0.5 * float(cov[pos[lhs], pos[lhs]]) if cov is not None else 1.0
        m = first.get(lhs)
        if cov is not None and m is not None and pos[m] < p:
            return float(_marker_psi(cov, pos[m], blocks.get(lhs, ())))
        return 0.05
    if op == "~1" and pos[lhs] < p and mean is not None:
        return float(mean[pos[lhs]])
    return 0.0


def _marker_psi(cov: np.ndarray, m: int, block: Sequence[int]) -> float:
    """Start value of a construct's variance: the marker's variance times its
    mean absolute correlation with the construct's other items (the marker's
    reliability when the items are alike), at least 5% of the marker's
    variance (half of it for a single item).  In the marker's units, so
    that the start is the same fit whatever the units of each item."""
    vm = cov[m, m]
    others = [abs(cov[m, j]) / np.sqrt(vm * cov[j, j]) for j in block if j != m and cov[j, j] > 0]
    return vm * max(float(np.mean(others)) if others else 0.5, 0.05)


def _check_identified(rows: list[Param], latent: list[str], spec: ModelSpec) -> None:
    """lavaan refuses a construct without indicators; csmlib says so."""
    have = {r.lhs for r in rows if r.op == "=~"}
    bare = [f for f in latent if f not in have]
    if bare:
        raise SpecError("constructs without indicators: " + ", ".join(bare), values=bare,
                        hint="measure every construct with at least one item ('F =~ x1 + x2')")
