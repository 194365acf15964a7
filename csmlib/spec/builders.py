"""seminr-style model builders: a model that reads like the paper.

>>> import csmlib as csm
>>> from csmlib.spec.builders import specify
>>> mm = csm.constructs(
...     reflective("Image", multi_items("IMAG", range(1, 6))),
...     composite("Value", multi_items("PERV", [1, 2]), weights="B"),
...     single_item("Complaints", "CUSCO"),
... )
>>> sm = csm.relationships(
...     paths(from_="Image", to=["Value", "Complaints"]),
...     paths(from_="Value", to="Complaints"),
... )
>>> spec = specify(mm, sm, name="demo")        # or: mm + sm
>>> spec.paths
(('Image', 'Value'), ('Image', 'Complaints'), ('Value', 'Complaints'))

Builders return plain frozen data and fail early with
:class:`~csmlib.errors.SpecError`: empty item lists, a construct defined twice,
an item in two blocks (use lavaan syntax for CB-SEM cross-loadings), a
self-loop, a path to or from an undefined construct, a duplicated path.

A construct of the measurement model that takes part in no path is left out
of the spec, as seminr does since sem-in-r/seminr#101 (so that one
measurement model serves several structural models); :func:`specify` issues a
:class:`~csmlib.errors.CsmWarning` naming it, since it is often a typo.  A
measurement model with no structure at all (``specify(mm)``) is kept whole: a
confirmatory factor model for CB-SEM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import warnings

from ..errors import CsmWarning, SpecError
from .modelspec import Construct, ModelSpec, Relation

__all__ = [
    "multi_items", "single_item", "reflective", "composite", "constructs",
    "paths", "relationships", "specify", "Measurement", "Structure", "mode_A", "mode_B",
]

#: seminr's names for the composite weighting modes.
mode_A = "A"
mode_B = "B"


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{what} must be a non-empty string, got {value!r}", values=[value],
                        hint=f"give the {what} as text, e.g. 'Satisfaction'")
    return value


def _items(name: str, items) -> tuple[str, ...]:
    if isinstance(items, Construct):
        raise SpecError(f"the items of {name!r} are a construct ({items.name!r})", values=[items.name],
                        hint="single_item(name, item) builds a whole construct; pass item names here")
    if isinstance(items, str):
        items = (items,)
    try:
        items = tuple(items)
    except TypeError:
        raise SpecError(f"the items of {name!r} must be a list of names, got {items!r}", values=[items],
                        hint="use multi_items('IMAG', range(1, 6)) or a list of column names") from None
    if not items:
        raise SpecError(f"construct {name!r} has no items", values=[name],
                        hint="give at least one item (column) name")
    for i in items:
        _name(i, f"an item of {name!r}")
    dup = sorted({i for i in items if items.count(i) > 1})
    if dup:
        raise SpecError(f"construct {name!r} lists an item twice", values=dup, hint="list each item once")
    if name in items:
        raise SpecError(f"construct {name!r} is measured by itself", values=[name],
                        hint="give the construct a name different from its items, or use single_item(name, item)")
    return items


def multi_items(prefix: str, numbers: Iterable[int | str], suffix: str = "") -> tuple[str, ...]:
    """Item names ``prefix + number + suffix``, as seminr's ``multi_items``.

    >>> multi_items("IMAG", range(1, 4))
    ('IMAG1', 'IMAG2', 'IMAG3')
    """
    _name(prefix, "the item prefix")
    out = tuple(f"{prefix}{n}{suffix}" for n in numbers)
    if not out:
        raise SpecError(f"multi_items({prefix!r}, ...) got no numbers", values=[prefix],
                        hint="pass e.g. range(1, 6)")
    return out


def reflective(name: str, items: Sequence[str] | str) -> Construct:
    """A reflective construct (lavaan ``=~``; PLS mode A)."""
    name = _name(name, "the construct name")
    return Construct(name, _items(name, items), "reflective")


def composite(name: str, items: Sequence[str] | str, weights: str = "A") -> Construct:
    """A composite construct; ``weights="A"`` (correlation weights) or
    ``"B"`` (regression weights, lavaan ``<~``).  seminr's ``mode_A`` /
    ``mode_B`` are accepted."""
    name = _name(name, "the construct name")
    w = str(weights).upper().replace("MODE_", "").replace("MODE", "").strip()
    if w not in ("A", "B"):
        raise SpecError(f"unknown weights {weights!r} for composite {name!r}", values=[weights],
                        hint='use weights="A" (correlation) or weights="B" (regression)')
    return Construct(name, _items(name, items), w)


def single_item(name: str, item: str | None = None) -> Construct:
    """A single-item construct ``name`` measured by ``item`` (default: the
    column named like the construct)."""
    name = _name(name, "the construct name")
    item = name if item is None else _name(item, f"the item of {name!r}")
    return Construct(name, (item,), "reflective")


@dataclass(frozen=True)
class Measurement:
    """The measurement model: constructs in order."""

    constructs: tuple[Construct, ...]

    def __add__(self, other: "Structure") -> ModelSpec:
        if not isinstance(other, Structure):
            return NotImplemented
        return specify(self, other)


@dataclass(frozen=True)
class Structure:
    """The structural model: ``(predictor, outcome)`` pairs in order."""

    paths: tuple[tuple[str, str], ...]

    def __radd__(self, other: Measurement) -> ModelSpec:
        if not isinstance(other, Measurement):
            return NotImplemented
        return specify(other, self)


def constructs(*blocks: Construct) -> Measurement:
    """Collect constructs into a measurement model (seminr ``constructs``)."""
    if not blocks:
        raise SpecError("constructs() got no constructs", hint="pass reflective(...), composite(...) or single_item(...)")
    names: dict[str, Construct] = {}
    owner: dict[str, str] = {}
    for c in blocks:
        if not isinstance(c, Construct):
            raise SpecError(f"constructs() got {c!r}, which is not a construct", values=[repr(c)[:60]],
                            hint="build each block with reflective(), composite() or single_item()")
        if c.name in names:
            raise SpecError(f"construct {c.name!r} is defined twice", values=[c.name],
                            hint="define each construct once")
        names[c.name] = c
        for i in c.indicators:
            if i in owner:
                raise SpecError(f"item {i!r} is in two blocks ({owner[i]!r} and {c.name!r})", values=[i],
                                hint="give each item to one construct (write CB-SEM cross-loadings in lavaan syntax)")
            owner[i] = c.name
    return Measurement(tuple(blocks))


def paths(from_: str | Sequence[str], to: str | Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Paths from every construct in ``from_`` to every construct in ``to``
    (seminr ``paths(from = , to = )``).

    Returns
    -------
    tuple of (predictor, outcome) pairs
    """
    src = (from_,) if isinstance(from_, str) else tuple(from_)
    dst = (to,) if isinstance(to, str) else tuple(to)
    if not src or not dst:
        raise SpecError("paths() needs at least one construct in from_ and in to", values=[src, dst],
                        hint='write e.g. paths(from_="Image", to=["Expectation", "Satisfaction"])')
    out = []
    for a in src:
        for b in dst:
            _name(a, "a path's predictor")
            _name(b, "a path's outcome")
            if a == b:
                raise SpecError(f"path from {a!r} to itself", values=[a], hint="remove the self-loop")
            out.append((a, b))
    return tuple(out)


def relationships(*groups: Sequence[tuple[str, str]]) -> Structure:
    """Collect paths into a structural model (seminr ``relationships``)."""
    out: list[tuple[str, str]] = []
    for g in groups:
        for p in g:
            if not (isinstance(p, tuple) and len(p) == 2):
                raise SpecError(f"relationships() got {p!r}, which is not a path", values=[repr(p)[:60]],
                                hint="build the paths with paths(from_=..., to=...)")
            if p in out:
                raise SpecError(f"path {p[0]} -> {p[1]} is given twice", values=[f"{p[0]} -> {p[1]}"],
                                hint="list each path once")
            if (p[1], p[0]) in out:
                raise SpecError(f"paths {p[0]} -> {p[1]} and {p[1]} -> {p[0]} form a loop", values=[p[0], p[1]],
                                hint="keep one direction: the estimators need a recursive (acyclic) model")
            out.append(p)
    if not out:
        raise SpecError("relationships() got no paths", hint='pass paths(from_="A", to="B")')
    return Structure(tuple(out))


def specify(measurement: Measurement, structure: Structure | None = None, name: str | None = None) -> ModelSpec:
    """Combine a measurement and a structural model into a
    :class:`~csmlib.spec.ModelSpec`.

    Relations are the loadings (``=~``, or ``<~`` for mode-B composites) in
    construct order, then the paths (``outcome ~ predictor``) in the order
    given.

    Constructs that take part in no path are left out (with a
    :class:`~csmlib.errors.CsmWarning`), as in seminr.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        A path names an undefined construct, or the paths form a loop.
    """
    if isinstance(measurement, (tuple, list)):
        measurement = constructs(*measurement)
    if not isinstance(measurement, Measurement):
        raise SpecError("specify() needs the measurement model from constructs(...)", values=[repr(measurement)[:60]],
                        hint="specify(constructs(...), relationships(...))")
    if structure is not None and not isinstance(structure, Structure):
        raise SpecError("specify() needs the structural model from relationships(...)", values=[repr(structure)[:60]],
                        hint="specify(constructs(...), relationships(...))")
    blocks = measurement.constructs
    names = [c.name for c in blocks]
    relations = [Relation(c.name, "<~" if c.mode == "B" else "=~", i) for c in blocks for i in c.indicators]
    if structure is not None:
        for a, b in structure.paths:
            for v in (a, b):
                if v not in names:
                    raise SpecError(f"the path {a} -> {b} names {v!r}, which is not a construct", values=[v],
                                    hint=f"define {v!r} in constructs() or use one of: {', '.join(names)}")
        used = {v for p in structure.paths for v in p}
        idle = [n for n in names if n not in used]
        if idle:
            warnings.warn(
                f"construct(s) {', '.join(map(repr, idle))} take part in no path and are left out of the model; "
                "add their paths in relationships() if they belong in it",
                CsmWarning,
                stacklevel=2,
            )
            blocks = tuple(c for c in blocks if c.name not in idle)
            names = [c.name for c in blocks]
        _check_acyclic(names, structure.paths)
        relations = [Relation(c.name, "<~" if c.mode == "B" else "=~", i) for c in blocks for i in c.indicators]
        relations += [Relation(b, "~", a) for a, b in structure.paths]
    return ModelSpec(constructs=tuple(blocks), relations=tuple(relations), name=name)


def _check_acyclic(names: list[str], edges: Sequence[tuple[str, str]]) -> None:
    preds = {n: {a for a, b in edges if b == n} for n in names}
    done: set[str] = set()
    while len(done) < len(names):
        ready = [n for n in names if n not in done and preds[n] <= done]
        if not ready:
            loop = [n for n in names if n not in done]
            raise SpecError("the paths form a loop (a non-recursive model)", values=loop,
                            hint="remove a path so that no construct is its own predecessor")
        done.update(ready)
