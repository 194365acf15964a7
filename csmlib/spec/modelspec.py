"""Model specifications: one frozen representation for every estimator.

A :class:`ModelSpec` holds the constructs (each with its indicators and its
measurement mode) and a lavaan-style parameter table of relations.  It is
built from lavaan syntax (:meth:`ModelSpec.from_lavaan`), from the
seminr-style builders in :mod:`csmlib.spec.builders`, or from the model library in
:mod:`csmlib.spec.models`, and compiled by each estimator (:mod:`csmlib.estimate.cbsem`,
:mod:`csmlib.estimate.pls`).

Conventions (as lavaan writes them):

* ``F =~ x1 + x2``: reflective construct ``F`` measured by ``x1, x2``.
* ``F <~ x1 + x2``: composite (formative, PLS mode B) construct.
* ``y ~ x``: structural path; ``lhs`` is the outcome.
* ``x ~~ y``: (residual) covariance; ``x ~~ x`` a variance.
* ``x ~ 1``: intercept.
* ``ind := a*b``: defined parameter from labels.
* In a term, ``a*x`` labels the parameter ``a``; ``0.5*x`` fixes it to 0.5.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["Construct", "Relation", "Constraint", "Defined", "ModelSpec", "MODES"]

#: Measurement modes: ``reflective`` (lavaan ``=~``; PLS mode A),
#: ``A`` (composite estimated with correlation weights) and ``B`` (composite
#: estimated with regression weights, lavaan ``<~``).
MODES = ("reflective", "A", "B")
Mode = Literal["reflective", "A", "B"]


@dataclass(frozen=True)
class Construct:
    """A construct and its measurement block.

    Attributes
    ----------
    name : str
        Construct name, e.g. ``"Satisfaction"``.
    indicators : tuple of str
        Item (column) names, in order.
    mode : {"reflective", "A", "B"}
        Measurement mode.  A construct with one indicator is a single-item
        construct whatever its mode.
    """

    name: str
    indicators: tuple[str, ...]
    mode: Mode = "reflective"

    @property
    def single_item(self) -> bool:
        return len(self.indicators) == 1


@dataclass(frozen=True)
class Relation:
    """One row of the lavaan-style parameter table.

    Attributes
    ----------
    lhs, op, rhs : str
        As lavaan writes them; ``op`` is one of ``=~ <~ ~ ~~ ~1``.  For
        ``~`` the ``lhs`` is the outcome; for ``~1`` the ``rhs`` is ``""``.
    label : str or None
        Parameter label (``a`` in ``a*x``), used by defined parameters and
        equality constraints (two relations with the same label are equal).
    fixed : float or None
        Fixed value (``0*x``), or None when the parameter is free.
    start : float or None
        Starting value (``start(0.5)*x``), or None.
    line : int or None
        Line of the lavaan source this came from (1-based), for error
        messages.  Not compared: two relations that differ only in their
        source line are equal.
    free : bool
        True when the syntax frees the parameter explicitly (``NA*x``), e.g.
        a first loading that CB-SEM would otherwise fix to 1 as the scale
        marker.
    groups : tuple of (label, fixed) or None
        Group-specific modifiers of a multi-group model (lavaan
        ``c(a, b)*x``): one ``(label, fixed value)`` pair per group, each
        ``None`` when absent (``NA`` frees the parameter in that group).
    """

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    fixed: float | None = None
    start: float | None = None
    line: int | None = field(default=None, compare=False)
    free: bool = False
    groups: tuple[tuple[str | None, float | None], ...] | None = None


@dataclass(frozen=True)
class Constraint:
    """An equality constraint ``lhs == rhs`` between two parameter labels."""

    lhs: str
    op: str
    rhs: str
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Defined:
    """A defined parameter ``name := expression`` (expression over labels)."""

    name: str
    expression: str
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ModelSpec:
    """A frozen model specification.

    Attributes
    ----------
    constructs : tuple of Construct
        The measurement blocks, in order of first appearance.
    relations : tuple of Relation
        The full lavaan-style parameter table: one relation per loading
        (``F =~ x``) or composite weight (``F <~ x``), agreeing with the
        constructs' indicators and carrying labels / fixed values, plus every
        structural path (``~``), covariance (``~~``) and intercept (``~1``).
    defined : tuple of Defined
        Defined parameters (``:=``).
    constraints : tuple of Constraint
        Equality constraints between labels (``a == b``).
    source : str or None
        The lavaan text this was parsed from, if any (not compared).
    name : str or None
        A short name for reports (``"ACSI"``).
    """

    constructs: tuple[Construct, ...]
    relations: tuple[Relation, ...] = ()
    defined: tuple[Defined, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    source: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)

    # -- views ---------------------------------------------------------------
    @property
    def construct_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constructs)

    @property
    def indicators(self) -> tuple[str, ...]:
        """All indicator (item) names, in block order, without duplicates.

        The constructs that measure a higher-order construct are not items
        and are left out."""
        names = set(self.construct_names)
        seen: dict[str, None] = {}
        for c in self.constructs:
            for i in c.indicators:
                if i not in names or i == c.name:
                    seen.setdefault(i, None)
        return tuple(seen)

    @property
    def higher_order(self) -> tuple[str, ...]:
        """Higher-order constructs: those measured by other constructs
        (``Quality =~ Tangibles + Reliability``), in construct order."""
        names = set(self.construct_names)
        return tuple(c.name for c in self.constructs
                     if c.indicators and all(i in names and i != c.name for i in c.indicators))

    def items_of(self, name: str) -> tuple[str, ...]:
        """The items under construct ``name``: its indicators, or for a
        higher-order construct the items of its dimensions (recursively),
        in order and without duplicates."""
        names = set(self.construct_names)
        out: dict[str, None] = {}
        for i in self.construct(name).indicators:
            for item in (self.items_of(i) if i in names and i != name else (i,)):
                out.setdefault(item, None)
        return tuple(out)

    @property
    def interactions(self) -> tuple[str, ...]:
        """Interaction terms (``x:m``) used on the right of structural paths,
        in order of first appearance; each is the product of the constructs
        ``term.split(":")``."""
        seen: dict[str, None] = {}
        for r in self.relations:
            if r.op == "~" and ":" in r.rhs:
                seen.setdefault(r.rhs, None)
        return tuple(seen)

    def construct(self, name: str) -> Construct:
        for c in self.constructs:
            if c.name == name:
                return c
        from ..errors import SpecError

        raise SpecError(
            f"the model has no construct {name!r}",
            values=[name],
            hint=f"use one of: {', '.join(self.construct_names)}",
        )

    @property
    def paths(self) -> tuple[tuple[str, str], ...]:
        """Structural paths as ``(predictor, outcome)`` pairs among constructs."""
        names = set(self.construct_names)
        return tuple(
            (r.rhs, r.lhs)
            for r in self.relations
            if r.op == "~" and r.lhs in names and r.rhs in names
        )

    @property
    def regressions(self) -> tuple[tuple[str, str], ...]:
        """Every ``~`` as a ``(predictor, outcome)`` pair: the :attr:`paths`
        and the regressions of an indicator (``x3 ~ ageyr``, ``y1 ~ ind60``),
        which :attr:`paths` leaves out."""
        return tuple(dict.fromkeys((r.rhs, r.lhs) for r in self.relations if r.op == "~"))

    @property
    def endogenous(self) -> tuple[str, ...]:
        """Constructs with at least one incoming path, in construct order."""
        outs = {to for _, to in self.paths}
        return tuple(n for n in self.construct_names if n in outs)

    @property
    def exogenous(self) -> tuple[str, ...]:
        """Constructs with no incoming path, in construct order."""
        outs = {to for _, to in self.paths}
        return tuple(n for n in self.construct_names if n not in outs)

    def predecessors(self, name: str) -> tuple[str, ...]:
        """Constructs with a path into ``name``, in construct order."""
        preds = {frm for frm, to in self.paths if to == name}
        return tuple(n for n in self.construct_names if n in preds)

    def without_paths(self, paths: Sequence[tuple[str, str]], *, name: str | None = None) -> "ModelSpec":
        """The same model with some structural paths left out (a nested
        alternative: each left-out path is fixed to zero).

        Parameters
        ----------
        paths : sequence of (predictor, outcome)
            Paths of this model, as :attr:`paths` lists them.
        name : str, optional
            The new model's name (default this one's with ``" (restricted)"``).

        Returns
        -------
        ModelSpec
        """
        from ..errors import SpecError

        drop = {(str(a), str(b)) for a, b in paths}
        unknown = sorted(drop - set(self.paths))
        if unknown:
            raise SpecError("these paths are not in the model", values=[f"{a} -> {b}" for a, b in unknown],
                            hint=f"use paths of the model: {', '.join(f'{a} -> {b}' for a, b in self.paths)}")
        labels = {r.label for r in self.relations if r.op == "~" and (r.rhs, r.lhs) in drop and r.label}
        used = [d.name for d in self.defined
                if any(re.search(rf"(?<!\w){re.escape(lb)}(?!\w)", d.expression) for lb in labels)]
        used += [f"{c.lhs} {c.op} {c.rhs}" for c in self.constraints if {c.lhs, c.rhs} & labels]
        if used:
            raise SpecError("a left-out path carries a label that other parts of the model use",
                            values=used, hint="leave out paths whose labels no constraint or := uses")
        keep = tuple(r for r in self.relations if not (r.op == "~" and (r.rhs, r.lhs) in drop))
        return replace(self, relations=keep, source=None,
                       name=name if name is not None else f"{self.name or 'model'} (restricted)")

    # -- construction and export (implemented in csmlib.spec.lavaan) ---------------
    @classmethod
    def from_lavaan(cls, text: str, *, name: str | None = None) -> "ModelSpec":
        """Parse lavaan model syntax; raises :class:`~csmlib.errors.SpecError`
        naming the line at fault."""
        from .lavaan import parse_lavaan

        return parse_lavaan(text, name=name)

    def to_lavaan(self) -> str:
        """Render as lavaan syntax (round-trips through :meth:`from_lavaan`)."""
        from .lavaan import render_lavaan

        return render_lavaan(self)

    def check_columns(self, columns, *, file: str | None = None) -> None:
        """Raise :class:`~csmlib.errors.SpecError` listing, all at once, the
        indicators that are not among ``columns``."""
        present = set(map(str, columns))
        missing = [i for i in self.indicators if i not in present]
        if missing:
            from ..errors import SpecError

            raise SpecError(
                f"{len(missing)} indicator(s) of the model are not columns of the data",
                file=file,
                column=missing,
                hint="rename the columns in the data or the items in the model so that they agree",
            )
