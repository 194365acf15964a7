"""Model specifications: lavaan syntax, seminr-style builders, the model library.

Structure references: data/references/ (SmartPLS ECSI, lavaan political
democracy, plspm satisfaction); see its README.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csmlib as csm
from csmlib import SpecError
from csmlib.spec.builders import (
    composite, constructs, multi_items, paths, reflective, relationships, single_item, specify,
)
from csmlib.spec.lavaan import parse_lavaan, render_lavaan, shared_indicators
from csmlib.spec import Construct, Defined, ModelSpec, Relation

REF = Path(__file__).resolve().parents[1] / "data" / "references"


def rel(spec, lhs, op, rhs):
    out = [r for r in spec.relations if (r.lhs, r.op, r.rhs) == (lhs, op, rhs)]
    assert len(out) == 1, (lhs, op, rhs, spec.relations)
    return out[0]


# -- syntax features -------------------------------------------------------------
def test_reflective_composite_and_relations_agree():
    s = parse_lavaan("F =~ x1 + x2 + x3\nG <~ z1 + z2\nG ~ F\n")
    assert s.constructs == (Construct("F", ("x1", "x2", "x3"), "reflective"), Construct("G", ("z1", "z2"), "B"))
    assert [(r.lhs, r.op, r.rhs) for r in s.relations] == [
        ("F", "=~", "x1"), ("F", "=~", "x2"), ("F", "=~", "x3"),
        ("G", "<~", "z1"), ("G", "<~", "z2"), ("G", "~", "F"),
    ]
    assert s.paths == (("F", "G"),)
    assert s.endogenous == ("G",) and s.exogenous == ("F",)
    assert s.source.startswith("F =~")


def test_several_lhs_and_rhs():
    s = parse_lavaan("A =~ a1 + a2\nB =~ b1\nC =~ c1\nD =~ d1\nC + D ~ A + B")
    assert set(s.paths) == {("A", "C"), ("B", "C"), ("A", "D"), ("B", "D")}
    assert s.predecessors("C") == ("A", "B")


def test_modifiers():
    s = parse_lavaan(
        'F =~ 1*x1 + a*x2 + NA*x3 + start(0.5)*x4 + label("b")*x5 + -1.5*x6 + "c"*x7 '
        "+ d*start(2)*x8 + 2.5e-1*x9 + fix(0)*x10 + equal(\"a\")*x11"
    )
    assert rel(s, "F", "=~", "x1").fixed == 1.0
    assert rel(s, "F", "=~", "x2").label == "a" and rel(s, "F", "=~", "x2").fixed is None
    r3 = rel(s, "F", "=~", "x3")
    assert r3.free and r3.fixed is None and r3.label is None
    assert rel(s, "F", "=~", "x4").start == 0.5
    assert rel(s, "F", "=~", "x5").label == "b"
    assert rel(s, "F", "=~", "x6").fixed == -1.5
    assert rel(s, "F", "=~", "x7").label == "c"
    r8 = rel(s, "F", "=~", "x8")
    assert (r8.label, r8.start) == ("d", 2.0)
    assert rel(s, "F", "=~", "x9").fixed == 0.25
    assert rel(s, "F", "=~", "x10").fixed == 0.0
    assert rel(s, "F", "=~", "x11").label == "a"
    assert not rel(s, "F", "=~", "x1").free


def test_covariances_intercepts_and_defined():
    s = parse_lavaan(
        "F =~ x1 + x2\nG =~ y1 + y2\nG ~ b*F\n"
        "x1 ~~ x2\nF ~~ 1*F\ny1 ~ 1\ny2 ~ i*1\nG ~ 0*1\n"
        "ind := b*2\nsq := b^2 + sqrt(ind) - (b / 3)\n"
    )
    assert rel(s, "x1", "~~", "x2").fixed is None
    assert rel(s, "F", "~~", "F").fixed == 1.0
    assert rel(s, "y1", "~1", "").label is None
    assert rel(s, "y2", "~1", "").label == "i"
    assert rel(s, "G", "~1", "").fixed == 0.0
    assert s.defined == (Defined("ind", "b*2"), Defined("sq", "b^2+sqrt(ind)-(b/3)"))
    # intercepts and covariances do not create constructs
    assert s.construct_names == ("F", "G")


def test_multiline_separators_comments_and_blank_lines():
    text = (
        "# a comment line\n"
        "\n"
        "F =~ x1 +   # trailing comment\n"
        "     x2 +\n"
        "\n"
        "     x3\n"
        "G =~ y1\n"
        "   + y2 ! continues on a line starting with +\n"
        "H =~ z1 + z2; H ~ F ; G ~\n"
        "  F\n"
        "F ~~ G ! bang comment\n"
    )
    s = parse_lavaan(text)
    assert s.construct("F").indicators == ("x1", "x2", "x3")
    assert s.construct("G").indicators == ("y1", "y2")
    assert s.construct("H").indicators == ("z1", "z2")
    assert set(s.paths) == {("F", "H"), ("F", "G")}
    # lines point at the source
    assert rel(s, "F", "=~", "x2").line == 4
    assert rel(s, "F", "=~", "x3").line == 6
    assert rel(s, "G", "=~", "y2").line == 8
    assert rel(s, "H", "~", "F").line == 9
    assert rel(s, "G", "~", "F").line == 10
    assert rel(s, "F", "~~", "G").line == 11


def test_construct_over_several_statements():
    s = parse_lavaan("F =~ x1\nG =~ y1 + y2\nF =~ x2 + x3\nG ~ F")
    assert s.construct("F").indicators == ("x1", "x2", "x3")
    assert s.construct_names == ("F", "G")


def test_second_order_and_cross_loadings():
    s = parse_lavaan("F1 =~ a1 + a2\nF2 =~ b1 + b2 + a2\nH =~ F1 + F2")
    assert s.construct("H").indicators == ("F1", "F2")
    assert shared_indicators(s) == {"a2": ("F1", "F2")}
    assert shared_indicators(csm.models.ecsi()) == {}


def test_observed_variables_in_paths():
    s = parse_lavaan("F =~ x1 + x2\nF ~ age + x1\ny ~ F\nz ~~ age\nw ~ 1")
    # age and y are observed variables in structural paths; x1 is an indicator
    assert s.construct_names == ("F", "age", "y")
    assert s.construct("age") == Construct("age", ("age",), "reflective")
    assert not any(r.op == "=~" and r.lhs == "age" for r in s.relations)
    assert set(s.paths) == {("age", "F"), ("F", "y")}
    assert rel(s, "F", "~", "x1").op == "~"


def test_unicode_names_and_dots():
    s = parse_lavaan("满意度 =~ 满意1 + 满意2\nval.x =~ v_1 + v.2\n满意度 ~ val.x")
    assert s.construct_names == ("满意度", "val.x")
    assert s.paths == (("val.x", "满意度"),)


def test_mode_a_pragma():
    s = parse_lavaan("# csm: mode A: F\nF =~ x1 + x2\nG =~ y1\nG ~ F")
    assert s.construct("F").mode == "A" and s.construct("G").mode == "reflective"


def test_from_lavaan_and_name():
    s = ModelSpec.from_lavaan("F =~ x1 + x2", name="cfa")
    assert s.name == "cfa" and s == parse_lavaan("F =~ x1 + x2")


# -- bad specifications ------------------------------------------------------------
BAD = [
    ("F =~ x1 + x2\nG =- y1\n", 2, "G =- y1", "unknown operator"),
    ("F =~ x1\nG =~\n", 2, "G =~", "ends in the middle"),
    ("F =~ x1\nG =~ y1 + + y2\n", 2, "G =~ y1 + + y2", "empty term"),
    ("F =~ x1\n =~ y1\n", 2, "=~ y1", "nothing on the left"),
    ("F =~ x1\nG =~ G + y1\n", 2, "G =~ G + y1", "measured by itself"),
    ("F =~ x1 + x2\nind := a*b\n", 2, "ind := a*b", "not a label"),
    ("F =~ x1\nF <~ x2\n", 2, "F <~ x2", "both reflective"),
    ("F =~ x1\nG =~ start(0.5*y1\nH =~ z1\n", 2, "G =~ start(0.5*y1", "never closed"),
    ("F =~ x1\nG =~ y1)\n", 2, "G =~ y1)", "unbalanced"),
    ("F =~ x1\nG =~ 1.2.3*y1\n", 2, "G =~ 1.2.3*y1", "not a number"),
    ("F =~ x1\nG =~ 2x*y1\n", 2, "G =~ 2x*y1", "not a number"),
    ("F =~ x1\nG x1 x2\n", 2, "G x1 x2", "no operator"),
    ("F =~ x1\nG =~ y1 ~ F\n", 2, "G =~ y1 ~ F", "more than one operator"),
    ("F =~ x1\na == b\n", 2, "a == b", "constraints"),
    ("F =~ a*x1 + b*x2\na > b\n", 2, "a > b", "inequality constraints"),
    ("F =~ a*x1 + b*x2\na == 2*b\n", 2, "a == 2*b", "only equalities between two labels"),
    ("F =~ x1 + x1\n", 1, "F =~ x1 + x1", "twice"),
    ("F =~ x1\nG =~ y1\nG ~ F\nG ~ F\n", 4, "G ~ F", "twice"),
    ("F =~ x1 + x2\nx1 ~~ x2\nx2 ~~ x1\n", 3, "x2 ~~ x1", "twice"),
    ("F =~ x1\nG =~ c(a, b + 1)*y1\n", 2, "G =~ c(a, b + 1)*y1", "inside c(...)"),
    ("F =~ x1\nG =~ foo(1)*y1\n", 2, "G =~ foo(1)*y1", "unknown modifier"),
    ("F =~ x1\nG =~ NA*0*y1\n", 2, "G =~ NA*0*y1", "both free"),
    ("F =~ x1\nG =~ a*b*y1\n", 2, "G =~ a*b*y1", "two label"),
    ("F =~ a*x1\nd := a +* 2\n", 2, "d := a +* 2", "not valid arithmetic"),
    ("F =~ a*x1\nd := foo(a)\n", 2, "d := foo(a)", "unknown function"),
    ("F =~ a*x1\nd := a\nd := 2*a\n", 3, "d := 2*a", "defined twice"),
    ("F =~ x1\nG =~ y1 $ y2\n", 2, "G =~ y1 $ y2", "unexpected character"),
    ("F =~ x1\nG =~ 'y1\n", 2, "G =~ 'y1", "unterminated quote"),
    ("F =~ x1\nG ~ a*F + 0\n", 2, "G ~ a*F + 0", "expected a variable name"),
    ("F =~ x1\na*G =~ y1\n", 2, "a*G =~ y1", "expected a name on the left"),
    ("# csm: mode A: Q\nF =~ x1\n", 1, "# csm: mode A: Q", "not a construct"),
    ("# csm: mode A: F\nF <~ x1\n", 1, "# csm: mode A: F", "mode-B"),
    ("F =~ x1\nG = y1\n", 2, "G = y1", "unknown operator '='"),
    ("F =~ x1\nF ~ NA\n", 2, "F ~ NA", "expected a variable name"),
    ("F =~ x1\nNA ~~ F\n", 2, "NA ~~ F", "expected a name on the left"),
]


@pytest.mark.parametrize("text,line,bad,what", BAD, ids=[b[3] + str(i) for i, b in enumerate(BAD)])
def test_bad_specs_name_line_and_text(text, line, bad, what):
    with pytest.raises(SpecError) as exc:
        parse_lavaan(text)
    msg = str(exc.value)
    assert f"line {line}" in msg
    assert bad in msg
    assert what in msg
    assert "what to do:" in msg


def test_empty_model_and_non_text():
    with pytest.raises(SpecError, match="no relations"):
        parse_lavaan("# nothing here\n\n")
    with pytest.raises(SpecError, match="lavaan text"):
        parse_lavaan(None)


def test_undefined_label_names_the_labels_available():
    with pytest.raises(SpecError, match="labels defined: a"):
        parse_lavaan("F =~ x1 + a*x2\nind := a*c")


# -- rendering and round trips -----------------------------------------------------------
ROUND_TRIP_TEXT = """\
# csm: mode A: Image
Image =~ IMAG1 + IMAG2 + a*IMAG3
Expectation =~ NA*CUEX1 + CUEX2 + start(0.7)*CUEX3
Value <~ PERV1 + label("w 2")*PERV2
Satisfaction =~ CUSA1 + 1*CUSA2 + -0.25*CUSA3 ; Satisfaction + Value ~ b*Image + age
Expectation ~ c*Image
CUSA1 ~~ CUSA2
Expectation ~~ 1*Expectation
Satisfaction ~ 0*1
ind := b*c
tot := ind + b
"""


def test_round_trip_text():
    s = parse_lavaan(ROUND_TRIP_TEXT)
    text = render_lavaan(s)
    back = parse_lavaan(text)
    assert back == s
    assert back.construct("Image").mode == "A"
    assert rel(back, "Value", "<~", "PERV2").label == "w 2"
    assert render_lavaan(back) == text


def test_render_reads_like_lavaan():
    text = render_lavaan(csm.models.political_democracy())
    assert text.splitlines()[:5] == [
        "ind60 =~ x1 + x2 + x3",
        "dem60 =~ y1 + y2 + y3 + y4",
        "dem65 =~ y5 + y6 + y7 + y8",
        "dem60 ~ ind60",
        "dem65 ~ ind60 + dem60",
    ]


def test_render_rejects_unwritable_names_and_numbers():
    spec = ModelSpec(constructs=(Construct("my construct", ("x1",)),), relations=(Relation("my construct", "=~", "x1"),))
    with pytest.raises(SpecError, match="lavaan name"):
        render_lavaan(spec)
    spec = ModelSpec(constructs=(Construct("F", ("x1",)),), relations=(Relation("F", "=~", "x1", fixed=float("nan")),))
    with pytest.raises(SpecError, match="non-finite"):
        render_lavaan(spec)


_names = st.text("abcXYZ_019.", max_size=5).map(lambda s: "n" + s)
_num = st.one_of(st.none(), st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 4)))


@st.composite
def specs(draw):
    names = draw(st.lists(_names, min_size=1, max_size=5, unique=True))
    items = draw(st.lists(_names.map(lambda s: "i_" + s), min_size=len(names), max_size=3 * len(names), unique=True))
    blocks, k = [], 0
    for j, n in enumerate(names):
        take = 1 if j == len(names) - 1 else draw(st.integers(1, max(1, len(items) - k - (len(names) - j - 1))))
        chunk = items[k : k + take] if j < len(names) - 1 else items[k:]
        k += take
        blocks.append(Construct(n, tuple(chunk), draw(st.sampled_from(["reflective", "A", "B"]))))
    labels = st.one_of(st.none(), _names.map(lambda s: "l" + s))
    rels = []
    for c in blocks:
        for i in c.indicators:
            fixed = draw(_num)
            free = fixed is None and draw(st.booleans())
            rels.append(Relation(c.name, "<~" if c.mode == "B" else "=~", i, draw(labels), fixed, draw(_num), free=free))
    pairs = [(a, b) for ai, a in enumerate(names) for b in names[ai + 1 :]]
    for a, b in draw(st.lists(st.sampled_from(pairs), unique=True, max_size=6)) if pairs else []:
        rels.append(Relation(b, "~", a, draw(labels), draw(_num), draw(_num)))
    if draw(st.booleans()):
        rels.append(Relation(blocks[0].indicators[0], "~~", blocks[0].indicators[0], None, 1.0))
    if draw(st.booleans()):
        rels.append(Relation(names[0], "~1", "", draw(labels), draw(_num)))
    used = sorted({r.label for r in rels if r.label})
    defined = ()
    if used:
        defined = (Defined("dd" + used[0], f"{used[0]}*2+({used[-1]})^2"),)
    return ModelSpec(constructs=tuple(blocks), relations=tuple(rels), defined=defined)


@settings(max_examples=100, deadline=None)
@given(specs())
def test_round_trip_property(spec):
    assert parse_lavaan(render_lavaan(spec)) == spec


# -- builders ---------------------------------------------------------------------
ECSI_LAVAAN = """\
Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Complaints =~ CUSCO
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Expectation + Satisfaction + Loyalty ~ Image
Quality + Value + Satisfaction ~ Expectation
Value + Satisfaction ~ Quality
Satisfaction ~ Value
Complaints + Loyalty ~ Satisfaction
Loyalty ~ Complaints
"""


def ecsi_builders(weights=None):
    def block(name, items):
        return reflective(name, items) if weights is None else composite(name, items, weights=weights)

    mm = constructs(
        block("Image", multi_items("IMAG", range(1, 6))),
        block("Expectation", multi_items("CUEX", range(1, 4))),
        block("Quality", multi_items("PERQ", range(1, 8))),
        block("Value", multi_items("PERV", [1, 2])),
        block("Satisfaction", multi_items("CUSA", range(1, 4))),
        single_item("Complaints", "CUSCO") if weights is None else block("Complaints", "CUSCO"),
        block("Loyalty", multi_items("CUSL", range(1, 4))),
    )
    sm = relationships(
        paths(from_="Image", to=["Expectation", "Satisfaction", "Loyalty"]),
        paths(from_="Expectation", to=["Quality", "Value", "Satisfaction"]),
        paths(from_="Quality", to=["Value", "Satisfaction"]),
        paths(from_="Value", to="Satisfaction"),
        paths(from_="Satisfaction", to=["Complaints", "Loyalty"]),
        paths(from_="Complaints", to="Loyalty"),
    )
    return mm, sm


def test_builders_equal_parsed_lavaan_for_ecsi():
    mm, sm = ecsi_builders()
    built = specify(mm, sm, name="ECSI")
    parsed = parse_lavaan(ECSI_LAVAAN)
    assert built.constructs == parsed.constructs
    assert set(built.relations) == set(parsed.relations)
    assert set(built.paths) == set(parsed.paths)
    assert built == csm.models.ecsi()
    assert (mm + sm) == built
    assert parse_lavaan(render_lavaan(built)) == built


def test_builders_modes():
    mm, sm = ecsi_builders(weights="A")
    spec = specify(mm, sm)
    assert {c.mode for c in spec.constructs} == {"A"}
    assert spec == csm.models.ecsi(mode="A")
    assert composite("V", ["a", "b"], weights="B").mode == "B"
    assert composite("V", ["a", "b"], weights="mode_B").mode == "B"
    spec = specify(constructs(composite("V", ["a", "b"], weights="B"), reflective("S", ["s1"])),
                   relationships(paths(from_="V", to="S")))
    assert [r.op for r in spec.relations] == ["<~", "<~", "=~", "~"]
    assert single_item("sat").indicators == ("sat",)


def test_builders_are_frozen():
    mm, sm = ecsi_builders()
    with pytest.raises(AttributeError):
        mm.constructs = ()  # type: ignore[misc]
    assert isinstance(sm.paths, tuple)


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: reflective("F", []), "no items"),
        (lambda: multi_items("X", []), "no numbers"),
        (lambda: reflective("F", ["x", "x"]), "twice"),
        (lambda: reflective("F", ["F", "x"]), "measured by itself"),
        (lambda: reflective("", ["x"]), "non-empty"),
        (lambda: composite("F", ["x"], weights="C"), "unknown weights"),
        (lambda: composite("F", single_item("Complaints", "CUSCO")), "are a construct"),
        (lambda: constructs(reflective("F", ["x"]), reflective("F", ["y"])), "defined twice"),
        (lambda: constructs(reflective("F", ["x"]), reflective("G", ["x"])), "two blocks"),
        (lambda: constructs("F"), "not a construct"),
        (lambda: paths(from_="F", to="F"), "itself"),
        (lambda: paths(from_=[], to="F"), "at least one"),
        (lambda: relationships(paths(from_="F", to="G"), paths(from_="F", to="G")), "twice"),
        (lambda: relationships(paths(from_="F", to="G"), paths(from_="G", to="F")), "loop"),
        (lambda: relationships(), "no paths"),
        (lambda: specify(constructs(reflective("F", ["x"]), reflective("G", ["y"])),
                         relationships(paths(from_="F", to="H"))), "'H', which is not a construct"),
        (lambda: specify(constructs(*(reflective(n, [n.lower()]) for n in "ABC")),
                         relationships(paths(from_="A", to="B"), paths(from_="B", to="C"),
                                       paths(from_="C", to="A"))), "loop"),
    ],
)
def test_builders_fail_early(build, match):
    with pytest.raises(SpecError, match=match):
        build()


def test_construct_in_no_path_is_left_out_with_a_warning():
    mm = constructs(reflective("F", ["x"]), reflective("G", ["y"]), reflective("H", ["z1", "z2"]))
    with pytest.warns(csm.CsmWarning, match="'H' take part in no path"):
        spec = specify(mm, relationships(paths(from_="F", to="G")))
    assert spec.construct_names == ("F", "G")
    assert spec.indicators == ("x", "y")
    assert not any("H" in (r.lhs, r.rhs) for r in spec.relations)


def test_measurement_only_is_a_cfa():
    spec = specify(constructs(reflective("F", ["x1", "x2"]), reflective("G", ["y1", "y2"])))
    assert spec.paths == () and len(spec.relations) == 4


# -- the model library against the references ---------------------------------------
def smartpls():
    return pd.read_csv(REF / "mobi.reference_smartpls2.csv")


def test_ecsi_matches_smartpls_reference():
    ref = smartpls()
    ref = ref[ref["scheme"] == "pathWeighting"]
    spec = csm.models.ecsi()
    assert spec.name == "ECSI"
    expected = set(ref.loc[ref["type"] == "path", ["from", "to"]].itertuples(index=False, name=None))
    assert len(expected) == 12
    assert set(spec.paths) == expected and len(spec.paths) == 12
    blocks = ref[ref["type"] == "loading"].groupby("from")["to"].apply(set).to_dict()
    assert {c.name: set(c.indicators) for c in spec.constructs} == blocks
    assert spec.construct("Complaints").indicators == ("CUSCO",)
    assert all(c.mode == "reflective" for c in spec.constructs)
    assert all(c.mode == "A" for c in csm.models.ecsi(mode="A").constructs)


def test_acsi_is_ecsi_without_image():
    ref = smartpls()
    ref = ref[(ref["scheme"] == "pathWeighting") & (ref["type"] == "path")]
    expected = {(a, b) for a, b in ref[["from", "to"]].itertuples(index=False, name=None) if a != "Image"}
    spec = csm.models.acsi()
    assert spec.name == "ACSI"
    assert set(spec.paths) == expected and len(spec.paths) == 9
    assert spec.construct_names == ("Expectation", "Quality", "Value", "Satisfaction", "Complaints", "Loyalty")
    assert spec.exogenous == ("Expectation",)


def test_satisfaction_model_matches_plspm_reference():
    ref = pd.read_csv(REF / "satisfaction_plspm.csv")
    expected = set(ref.loc[ref["type"] == "path", ["from", "to"]].itertuples(index=False, name=None))
    spec = csm.models.satisfaction_model()
    assert set(spec.paths) == expected and len(spec.paths) == 10
    assert spec.construct("VAL").indicators == ("val1", "val2", "val3", "val4")
    assert spec.construct("IMAG").indicators == tuple(f"imag{i}" for i in range(1, 6))
    assert set(spec.construct_names) == set(ref.loc[ref["type"] == "r2", "to"]) | {"IMAG"}


def test_political_democracy_matches_lavaan_reference():
    ref = pd.read_csv(REF / "political_democracy.reference_lavaan_params.csv")
    spec = csm.models.political_democracy()
    assert spec.name == "PoliticalDemocracy"

    def key(lhs, op, rhs):
        return (lhs, op, rhs) if op != "~~" else (min(lhs, rhs), op, max(lhs, rhs))

    # the lavaan table lists every free or fixed parameter; the model's
    # relations are its loadings, paths and off-diagonal covariances
    ref_rel = {key(*t) for t in ref[["lhs", "op", "rhs"]].itertuples(index=False, name=None)
               if t[1] != "~~" or t[0] != t[2]}
    ours = {key(r.lhs, r.op, r.rhs) for r in spec.relations}
    assert ours == ref_rel
    assert spec.construct_names == ("ind60", "dem60", "dem65")


def test_chain_and_servqual():
    c = csm.models.chain()
    assert c.paths == (("Quality", "Value"), ("Value", "Satisfaction"), ("Satisfaction", "Loyalty"))
    assert c.name == "Chain"
    sq = csm.models.servqual()
    assert sq.name == "SERVQUAL"
    sq_cols = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "csem_SQ" / "csem_SQ.csv", nrows=1).columns
    sq.check_columns(sq_cols)  # every default item is a column of the cSEM SQ data
    assert sorted(sq.indicators) == sorted(sq_cols)
    dims = ("Tangibles", "Reliability", "Responsiveness", "Assurance", "Empathy")
    assert set(sq.paths) == {(d, "Satisfaction") for d in dims}
    assert sq.construct("Reliability").indicators == ("a05", "a06", "a07", "a08", "a09")
    sv = csm.models.servqual(value_items=["v1", "v2"])
    assert set(sv.paths) == {(d, t) for d in dims for t in ("Value", "Satisfaction")} | {("Value", "Satisfaction")}


def test_library_item_and_mode_arguments():
    s = csm.models.acsi(satisfaction_items=["s1", "s2"], complaints_items="compl", mode={"Value": "B"})
    assert s.construct("Satisfaction").indicators == ("s1", "s2")
    assert s.construct("Complaints").indicators == ("compl",)
    assert s.construct("Value").mode == "B" and s.construct("Quality").mode == "reflective"
    assert rel(s, "Value", "<~", "PERV1").op == "<~"
    with pytest.raises(SpecError, match="unknown measurement mode"):
        csm.models.ecsi(mode="C")
    with pytest.raises(SpecError, match="does not have"):
        csm.models.ecsi(mode={"Imagee": "B"})
    with pytest.raises(SpecError, match="no items"):
        csm.models.chain(value_items=[])


def test_mobi_default_items_are_columns():
    cols = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "mobi" / "mobi.csv", nrows=1).columns
    csm.models.ecsi().check_columns(cols)
    csm.models.acsi().check_columns(cols)
    csm.models.chain().check_columns(cols)


@pytest.mark.parametrize("f", ["acsi", "ecsi", "chain", "servqual", "satisfaction_model", "political_democracy"])
@pytest.mark.parametrize("mode", ["reflective", "A", "B"])
def test_library_round_trips(f, mode):
    spec = getattr(csm.models, f)() if f == "political_democracy" else getattr(csm.models, f)(mode=mode)
    assert parse_lavaan(render_lavaan(spec)) == spec


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("Fxy12 =~<~+*;:()\"'#!\n.-^/aN") + ["NA", "start(", "label(", ":=", "~~", " 1"]),
                max_size=30).map("".join))
def test_any_text_parses_or_raises_spec_error(text):
    try:
        spec = parse_lavaan(text)
    except SpecError as e:
        assert "what to do:" in str(e)
    else:
        assert parse_lavaan(render_lavaan(spec)) == spec
