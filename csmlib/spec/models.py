"""The model library: the customer-satisfaction models of the literature.

Each function returns a :class:`~csmlib.spec.ModelSpec` with ``name`` set.
Item names are keyword arguments (a list of column names, or one name for a
single item) whose defaults are those of the public data sets: the ECSI
mobile-phone survey ``mobi`` (Tenenhaus et al. 2005) for :func:`acsi`,
:func:`ecsi` and :func:`chain`, the cSEM ``SQ`` data for :func:`servqual`,
plspm's ``satisfaction`` data for :func:`satisfaction_model` and lavaan's
``PoliticalDemocracy`` for :func:`political_democracy`.

``mode`` is the measurement mode of every block: ``"reflective"`` (default;
PLS mode A, CB-SEM common factor), ``"A"`` or ``"B"`` (composites); or a
mapping ``{construct: mode}`` for some blocks, the others reflective.

>>> import csmlib as csm
>>> csm.models.ecsi().paths[:3]
(('Image', 'Expectation'), ('Image', 'Satisfaction'), ('Image', 'Loyalty'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .builders import composite, constructs, paths, reflective, relationships, specify
from ..errors import SpecError
from .lavaan import parse_lavaan
from .modelspec import MODES, Construct, ModelSpec

__all__ = ["acsi", "ecsi", "chain", "servqual", "satisfaction_model", "political_democracy"]

Items = Sequence[str] | str

IMAGE = tuple(f"IMAG{i}" for i in range(1, 6))
EXPECTATION = ("CUEX1", "CUEX2", "CUEX3")
QUALITY = tuple(f"PERQ{i}" for i in range(1, 8))
VALUE = ("PERV1", "PERV2")
SATISFACTION = ("CUSA1", "CUSA2", "CUSA3")
COMPLAINTS = "CUSCO"
LOYALTY = ("CUSL1", "CUSL2", "CUSL3")


def _mode_of(mode: str | Mapping[str, str], name: str, names: Sequence[str]) -> str:
    if isinstance(mode, Mapping):
        unknown = [k for k in mode if k not in names]
        if unknown:
            raise SpecError("mode names constructs that the model does not have", values=unknown,
                            hint=f"use some of: {', '.join(names)}")
        m = mode.get(name, "reflective")
    else:
        m = mode
    if m not in MODES:
        raise SpecError(f"unknown measurement mode {m!r}", values=[m],
                        hint='use "reflective", "A" or "B"')
    return m


def _block(name: str, items: Items, mode, names) -> Construct:
    m = _mode_of(mode, name, names)
    return reflective(name, items) if m == "reflective" else composite(name, items, weights=m)


def _build(blocks: list[tuple[str, Items]], edges: Sequence[tuple[str, Sequence[str]]], mode,
           name: str) -> ModelSpec:
    names = [b for b, _ in blocks]
    mm = constructs(*(_block(b, items, mode, names) for b, items in blocks))
    sm = relationships(*(paths(from_=a, to=list(to)) for a, to in edges))
    return specify(mm, sm, name=name)


#: The ACSI's paths (Fornell et al. 1996), each antecedent with its outcomes;
#: the ECSI adds Image's.
_ACSI_PATHS = (
    ("Expectation", ("Quality", "Value", "Satisfaction")),
    ("Quality", ("Value", "Satisfaction")),
    ("Value", ("Satisfaction",)),
    ("Satisfaction", ("Complaints", "Loyalty")),
    ("Complaints", ("Loyalty",)),
)


def acsi(
    *,
    expectation_items: Items = EXPECTATION,
    quality_items: Items = QUALITY,
    value_items: Items = VALUE,
    satisfaction_items: Items = SATISFACTION,
    complaints_items: Items = COMPLAINTS,
    loyalty_items: Items = LOYALTY,
    mode: str | Mapping[str, str] = "reflective",
) -> ModelSpec:
    """The American Customer Satisfaction Index model (Fornell et al. 1996).

    Expectation -> Quality, Value, Satisfaction; Quality -> Value,
    Satisfaction; Value -> Satisfaction; Satisfaction -> Complaints, Loyalty;
    Complaints -> Loyalty.

    Returns
    -------
    ModelSpec
        Named ``"ACSI"``.
    """
    blocks = [
        ("Expectation", expectation_items), ("Quality", quality_items), ("Value", value_items),
        ("Satisfaction", satisfaction_items), ("Complaints", complaints_items), ("Loyalty", loyalty_items),
    ]
    return _build(blocks, _ACSI_PATHS, mode, "ACSI")


def ecsi(
    *,
    image_items: Items = IMAGE,
    expectation_items: Items = EXPECTATION,
    quality_items: Items = QUALITY,
    value_items: Items = VALUE,
    satisfaction_items: Items = SATISFACTION,
    complaints_items: Items = COMPLAINTS,
    loyalty_items: Items = LOYALTY,
    mode: str | Mapping[str, str] = "reflective",
) -> ModelSpec:
    """The European Customer Satisfaction Index model (the ACSI plus Image),
    exactly as in the SmartPLS / semPLS reference on the ``mobi`` data.

    Image -> Expectation, Satisfaction, Loyalty; Expectation -> Quality,
    Value, Satisfaction; Quality -> Value, Satisfaction; Value ->
    Satisfaction; Satisfaction -> Complaints, Loyalty; Complaints -> Loyalty.

    Returns
    -------
    ModelSpec
        Named ``"ECSI"``.
    """
    blocks = [
        ("Image", image_items), ("Expectation", expectation_items), ("Quality", quality_items),
        ("Value", value_items), ("Satisfaction", satisfaction_items), ("Complaints", complaints_items),
        ("Loyalty", loyalty_items),
    ]
    return _build(blocks, (("Image", ("Expectation", "Satisfaction", "Loyalty")), *_ACSI_PATHS), mode, "ECSI")


def chain(
    *,
    quality_items: Items = QUALITY,
    value_items: Items = VALUE,
    satisfaction_items: Items = SATISFACTION,
    loyalty_items: Items = LOYALTY,
    mode: str | Mapping[str, str] = "reflective",
) -> ModelSpec:
    """The service-profit chain: Quality -> Value -> Satisfaction -> Loyalty.

    Returns
    -------
    ModelSpec
        Named ``"Chain"``.
    """
    blocks = [("Quality", quality_items), ("Value", value_items),
              ("Satisfaction", satisfaction_items), ("Loyalty", loyalty_items)]
    edges = [("Quality", ["Value"]), ("Value", ["Satisfaction"]), ("Satisfaction", ["Loyalty"])]
    return _build(blocks, edges, mode, "Chain")


SERVQUAL_DIMENSIONS = ("Tangibles", "Reliability", "Responsiveness", "Assurance", "Empathy")


def servqual(
    *,
    tangibles_items: Items = ("a01", "a02", "a03", "a04"),
    reliability_items: Items = ("a05", "a06", "a07", "a08", "a09"),
    responsiveness_items: Items = ("a10", "a11", "a12", "a13"),
    assurance_items: Items = ("a14", "a15", "a16", "a17"),
    empathy_items: Items = ("a18", "a19", "a20", "a21", "a22"),
    value_items: Items | None = None,
    satisfaction_items: Items = ("sat",),
    mode: str | Mapping[str, str] = "reflective",
) -> ModelSpec:
    """SERVQUAL's five quality dimensions (Parasuraman et al. 1988) as
    drivers of satisfaction.

    Tangibles, Reliability, Responsiveness, Assurance and Empathy each ->
    Satisfaction; with ``value_items`` also each -> Value and Value ->
    Satisfaction.  The defaults are the items of the cSEM ``SQ`` data
    (a01-a22 and the single item ``sat``), which has no value items, so Value
    is left out unless ``value_items`` is given.

    Returns
    -------
    ModelSpec
        Named ``"SERVQUAL"``.
    """
    dims = list(zip(SERVQUAL_DIMENSIONS, (tangibles_items, reliability_items, responsiveness_items,
                                          assurance_items, empathy_items)))
    if value_items is None:
        blocks = dims + [("Satisfaction", satisfaction_items)]
        edges = [(d, ["Satisfaction"]) for d in SERVQUAL_DIMENSIONS]
    else:
        blocks = dims + [("Value", value_items), ("Satisfaction", satisfaction_items)]
        edges = [(d, ["Value", "Satisfaction"]) for d in SERVQUAL_DIMENSIONS] + [("Value", ["Satisfaction"])]
    return _build(blocks, edges, mode, "SERVQUAL")


def satisfaction_model(
    *,
    imag_items: Items = tuple(f"imag{i}" for i in range(1, 6)),
    expe_items: Items = tuple(f"expe{i}" for i in range(1, 6)),
    qual_items: Items = tuple(f"qual{i}" for i in range(1, 6)),
    val_items: Items = tuple(f"val{i}" for i in range(1, 5)),
    sat_items: Items = tuple(f"sat{i}" for i in range(1, 5)),
    loy_items: Items = tuple(f"loy{i}" for i in range(1, 5)),
    mode: str | Mapping[str, str] = "reflective",
) -> ModelSpec:
    """The model of R plspm's ``satisfaction`` data (constructs IMAG, EXPE,
    QUAL, VAL, SAT, LOY).

    IMAG -> EXPE, SAT, LOY; EXPE -> QUAL, VAL, SAT; QUAL -> VAL, SAT;
    VAL -> SAT; SAT -> LOY.

    Returns
    -------
    ModelSpec
        Named ``"satisfaction"``.
    """
    blocks = [("IMAG", imag_items), ("EXPE", expe_items), ("QUAL", qual_items),
              ("VAL", val_items), ("SAT", sat_items), ("LOY", loy_items)]
    edges = [
        ("IMAG", ["EXPE", "SAT", "LOY"]),
        ("EXPE", ["QUAL", "VAL", "SAT"]),
        ("QUAL", ["VAL", "SAT"]),
        ("VAL", ["SAT"]),
        ("SAT", ["LOY"]),
    ]
    return _build(blocks, edges, mode, "satisfaction")


POLITICAL_DEMOCRACY = """\
# Bollen (1989), the lavaan tutorial's SEM example
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""


def political_democracy() -> ModelSpec:
    """Bollen's political democracy model, as in the lavaan tutorial, with the
    residual covariances y1~~y5, y2~~y4, y2~~y6, y3~~y7, y4~~y8, y6~~y8.

    Returns
    -------
    ModelSpec
        Named ``"PoliticalDemocracy"``; ``source`` holds the lavaan text.
    """
    return parse_lavaan(POLITICAL_DEMOCRACY, name="PoliticalDemocracy")
