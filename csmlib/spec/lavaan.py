"""lavaan model syntax: parse it into a :class:`~csmlib.spec.ModelSpec` and
render a spec back.

Supported syntax (as lavaan reads it)
-------------------------------------
* ``F =~ x1 + x2``    reflective construct ``F`` measured by ``x1, x2``;
* ``F <~ x1 + x2``    composite (formative, PLS mode B) construct;
* ``y ~ x1 + x2``     structural paths (``lhs`` is the outcome); several
  outcomes at once: ``y1 + y2 ~ x``;
* ``y ~ x + m + x:m`` an interaction (moderation) term ``x:m``: the product
  of two (or more) constructs or observed variables, allowed only on the
  right of a structural ``~`` (PLS estimates it, see
  :func:`csmlib.fit_pls`'s ``interaction``);
* ``x ~~ y``          (residual) covariance, ``x ~~ x`` a variance;
* ``y ~ 1``           intercept (a relation with ``op="~1"`` and ``rhs=""``);
* ``ind := a*b``      defined parameter, an arithmetic expression
  (``+ - * / ^``, parentheses, numbers and ``sqrt exp log abs``) over labels
  and other defined parameters;
* modifiers, chained with ``*``: ``a*x`` or ``"a"*x`` or ``label("a")*x``
  (label; ``equal("a")*x`` is the same), ``0*x`` / ``-1.5*x`` / ``fix(1)*x``
  (fixed value), ``NA*x`` (explicitly free), ``start(0.5)*x`` (start value);
* a statement continues on the next line when its line ends in ``+``, ``*``
  or an operator, when a parenthesis is open, or when the next line starts
  with ``+`` or ``*``; ``;`` separates statements on one line; ``#`` and
  ``!`` start comments; blank lines are ignored;
* a construct may be defined over several statements (``F =~ x1`` then
  ``F =~ x2``); its indicators are appended in order.

Interpretation
--------------
* Constructs are ordered: first the measured ones (``=~`` / ``<~``) in the
  order their first statement appears, then the observed ones (below).
* A name used in a structural ``~`` that is neither a construct nor an
  indicator of one is an *observed variable*, as in lavaan.  It is
  represented as a single-item construct ``Construct(name, (name,),
  "reflective")`` *without* a ``=~`` relation, so that the estimators see it
  in the structural model.  Names that occur only in ``~~`` or ``~1`` do not
  become constructs.
* Second-order constructs (``F =~ F1 + F2``) parse: their indicators are
  construct names (all of them, or none: a block mixing items and
  constructs is an error).  :attr:`ModelSpec.higher_order` lists them; PLS
  estimates them (``fit_pls(..., hoc=)``), CB-SEM as second-order factors.
* An interaction term ``x:m`` is not a construct: it appears in the
  relations (``y ~ x:m``) and in :attr:`ModelSpec.interactions`.
* An indicator may load on several constructs (cross-loadings, allowed in
  lavaan and CB-SEM); the constructs then share it.  :func:`shared_indicators`
  lists such items; PLS estimators should reject them.
* lavaan has no syntax for a PLS composite estimated in mode A.  A comment
  line ``# csm: mode A: Image, Value`` (ignored by lavaan) marks ``=~``
  constructs as mode-A composites; :func:`render_lavaan` writes it, so that
  every spec round-trips.
* ``a == b`` holds two labelled parameters equal (a :class:`Constraint`);
  other constraints (``a > 0``, ``a == 2*b``, ``a == 0.5``) are refused.
* ``c(a, b)*x`` / ``c(1, NA)*x`` give one label or fixed value per group of
  a multi-group model (``Relation.groups``).

Errors
------
Every malformed statement raises :class:`~csmlib.errors.SpecError` whose
message names the line number and shows the text of the line at fault.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from ..errors import SpecError
from .modelspec import Constraint, Construct, Defined, ModelSpec, Relation

__all__ = ["parse_lavaan", "render_lavaan", "shared_indicators"]

# relational operators, longest first where prefixes overlap
_REL_OPS = ("=~", "<~", "~~", ":=", "==", "<=", ">=", "~", "<", ">", "=")
_OPS2 = ("=~", "<~", "~~", ":=", "==", "<=", ">=")
_OPS1 = "~<>=+-*/^(),"
# a line may not end a statement when its last token is one of these
_CONTINUE_AFTER = {"+", "-", "*", "/", "^", ",", "(", *_REL_OPS}
# a line starting with one of these continues the previous statement
_CONTINUE_BEFORE = {"+", "*"}
_FUNCTIONS = {"sqrt", "exp", "log", "abs", "sin", "cos", "tan", "pnorm", "qnorm"}
_MODIFIER_FUNCTIONS = {"start", "label", "equal", "fix", "fixed"}

_NAME_RE = re.compile(r"(?:[^\W\d]|\.)[\w.]*(?::(?:[^\W\d]|\.)[\w.]*)*")
_NUM_RE = re.compile(r"[0-9.]+(?:[eE][+-]?[0-9]+)?[\w.]*")
_PRAGMA_RE = re.compile(r"^\s*#\s*csm\s*:\s*mode\s+(\S+)\s*:\s*(.*?)\s*$")
_PLAIN_NAME_RE = re.compile(r"^(?:[^\W\d]|\.(?![0-9]))[\w.]*$")


@dataclass(frozen=True)
class _Tok:
    kind: str  # NAME, NUM, STR, OP, SEP
    text: str
    line: int


class _Source:
    """The source lines, to quote the line at fault in error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def error(self, line: int | None, problem: str, hint: str) -> SpecError:
        text = self.lines[line - 1].strip() if line and line <= len(self.lines) else ""
        where = f"line {line}" if line else "model syntax"
        return SpecError(f"lavaan syntax, {where}: {problem}", values=[text], hint=hint)


# -- tokens and statements --------------------------------------------------------
def _tokenize_line(raw: str, lineno: int, src: _Source) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c.isspace():
            i += 1
        elif c in "#!":
            break
        elif c in "\"'":
            j = raw.find(c, i + 1)
            if j < 0:
                raise src.error(lineno, f"unterminated quote {c}", "close the quoted label")
            toks.append(_Tok("STR", raw[i + 1 : j], lineno))
            i = j + 1
        elif c.isdigit() or (c == "." and i + 1 < n and raw[i + 1].isdigit()):
            m = _NUM_RE.match(raw, i)
            text = m.group()
            try:
                float(text)
            except ValueError:
                raise src.error(
                    lineno,
                    f"{text!r} is not a number",
                    "write numbers like 0.5 or 1e-3; names may not start with a digit",
                ) from None
            toks.append(_Tok("NUM", text, lineno))
            i = m.end()
        elif _NAME_RE.match(raw, i):
            m = _NAME_RE.match(raw, i)
            toks.append(_Tok("NAME", m.group(), lineno))
            i = m.end()
        elif raw[i : i + 2] in _OPS2:
            toks.append(_Tok("OP", raw[i : i + 2], lineno))
            i += 2
        elif c in _OPS1:
            toks.append(_Tok("OP", c, lineno))
            i += 1
        elif c == ";":
            toks.append(_Tok("SEP", ";", lineno))
            i += 1
        else:
            raise src.error(
                lineno,
                f"unexpected character {c!r}",
                "use the lavaan operators =~ <~ ~ ~~ := and names made of letters, digits, '_' and '.'",
            )
    return toks


def _statements(text: str, src: _Source) -> tuple[list[list[_Tok]], dict[str, tuple[str, int]]]:
    """Split the source into statements (lists of tokens); collect pragmas."""
    stmts: list[list[_Tok]] = []
    pragmas: dict[str, tuple[str, int]] = {}
    cur: list[_Tok] = []
    opens: list[_Tok] = []  # open parentheses
    pending = False  # cur is complete unless the next line continues it

    def flush() -> None:
        nonlocal cur, pending
        if opens:
            raise src.error(opens[-1].line, "unbalanced parentheses: '(' is never closed", "close every '(' with ')'")
        if cur:
            stmts.append(cur)
        cur, pending = [], False

    for lineno, raw in enumerate(text.splitlines(), start=1):
        m = _PRAGMA_RE.match(raw)
        if m:
            mode = m.group(1)
            if mode != "A":
                raise src.error(lineno, f"unknown mode {mode!r} in a csm pragma", "write '# csm: mode A: Name1, Name2'")
            for nm in (s.strip() for s in m.group(2).split(",")):
                if not nm:
                    raise src.error(lineno, "empty construct name in a csm pragma", "list the constructs separated by commas")
                pragmas[nm] = (mode, lineno)
            continue
        toks = _tokenize_line(raw, lineno, src)
        if not toks:
            continue
        if pending and not (toks[0].kind == "OP" and toks[0].text in _CONTINUE_BEFORE):
            flush()
        for tok in toks:
            if tok.kind == "SEP":
                flush()
                continue
            if tok.kind == "OP" and tok.text == "(":
                opens.append(tok)
            elif tok.kind == "OP" and tok.text == ")":
                if not opens:
                    raise src.error(tok.line, "unbalanced parentheses: ')' without '('", "remove the ')' or add the '('")
                opens.pop()
            cur.append(tok)
        if cur and not opens and not (cur[-1].kind == "OP" and cur[-1].text in _CONTINUE_AFTER):
            pending = True
    if cur and cur[-1].kind == "OP" and cur[-1].text in _CONTINUE_AFTER and not opens:
        raise src.error(
            cur[-1].line,
            f"the model ends in the middle of a statement (after {cur[-1].text!r})",
            "complete the statement or remove the trailing operator",
        )
    flush()
    return stmts, pragmas


def _split(toks: list[_Tok], sep: str) -> list[list[_Tok]]:
    """Split tokens at top-level (outside parentheses) operator ``sep``."""
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "OP" and t.text == "(":
            depth += 1
        elif t.kind == "OP" and t.text == ")":
            depth -= 1
        if depth == 0 and t.kind == "OP" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


# -- one statement ------------------------------------------------------------------
def _parse_modifier(part: list[_Tok], src: _Source, mods: dict) -> None:
    line = part[0].line

    def put(key: str, value) -> None:
        if key in mods:
            raise src.error(line, f"two {key} modifiers on one term", f"give each parameter one {key}")
        mods[key] = value

    def number(ts: list[_Tok]) -> float | None:
        if len(ts) == 1 and ts[0].kind == "NUM":
            return float(ts[0].text)
        if len(ts) == 2 and ts[0].text in "+-" and ts[0].kind == "OP" and ts[1].kind == "NUM":
            return float(ts[1].text) * (-1.0 if ts[0].text == "-" else 1.0)
        return None

    value = number(part)
    if value is not None:
        put("fixed", value)
    elif len(part) == 1 and part[0].kind == "NAME" and part[0].text == "NA":
        put("free", True)
    elif len(part) == 1 and part[0].kind in ("NAME", "STR"):
        if not part[0].text:
            raise src.error(line, "empty label", "write a label such as a*x")
        put("label", part[0].text)
    elif (
        len(part) >= 3
        and part[0].kind == "NAME"
        and part[1].text == "("
        and part[-1].text == ")"
    ):
        fn, args = part[0].text, part[2:-1]
        if fn == "c":
            put("groups", _group_modifiers(args, src, line, number))
            return
        if fn not in _MODIFIER_FUNCTIONS:
            raise src.error(line, f"unknown modifier {fn}(...)", "use start(), label(), equal() or fix()")
        if fn == "start" or fn in ("fix", "fixed"):
            v = number(args)
            if v is None:
                raise src.error(line, f"{fn}() needs one number", f"write e.g. {fn}(0.5)*x")
            put("start" if fn == "start" else "fixed", v)
        else:
            if len(args) != 1 or args[0].kind not in ("NAME", "STR") or not args[0].text:
                raise src.error(line, f"{fn}() needs one label", f'write e.g. {fn}("a")*x')
            put("label", args[0].text)
    else:
        text = " ".join(t.text for t in part)
        raise src.error(line, f"cannot read the modifier {text!r}", "modifiers are a label, a number, NA, start(v) or label(\"a\")")
    if "free" in mods and "fixed" in mods:
        raise src.error(line, "a parameter cannot be both free (NA) and fixed", "remove NA or the fixed value")


def _group_modifiers(args: list[_Tok], src: _Source, line: int, number) -> tuple:
    """``c(a, b)`` / ``c(1, NA)``: one ``(label, fixed)`` pair per group."""
    out = []
    for arg in _split(args, ","):
        value = number(arg)
        if value is not None:
            out.append((None, value))
        elif len(arg) == 1 and arg[0].kind == "NAME" and arg[0].text == "NA":
            out.append((None, None))
        elif len(arg) == 1 and arg[0].kind in ("NAME", "STR") and arg[0].text:
            out.append((arg[0].text, None))
        else:
            text = " ".join(t.text for t in arg) or "nothing"
            raise src.error(line, f"cannot read {text!r} inside c(...)",
                            "write one label, number or NA per group: c(a, b)*x or c(1, NA)*x")
    return tuple(out)


def _parse_term(term: list[_Tok], lhs: str, op: str, src: _Source, line: int) -> Relation:
    if not term:
        raise src.error(line, "empty term (two '+' in a row, or a '+' at an end)", "remove the extra '+'")
    parts = _split(term, "*")
    mods: dict = {}
    for part in parts[:-1]:
        if not part:
            raise src.error(term[0].line, "empty modifier ('*' with nothing before it)", "write e.g. a*x or 0.5*x")
        _parse_modifier(part, src, mods)
    var = parts[-1]
    tline = term[0].line
    groups = mods.get("groups")
    if groups is not None and ({"label", "fixed", "free"} & set(mods)):
        raise src.error(tline, "c(...) and a plain label or value on one term",
                        "give the group-specific labels and values inside c(...) only")
    if len(var) == 1 and var[0].kind == "NUM" and op == "~" and float(var[0].text) == 1.0:
        return Relation(lhs, "~1", "", mods.get("label"), mods.get("fixed"), mods.get("start"), tline,
                        mods.get("free", False), groups)
    if len(var) != 1 or var[0].kind != "NAME" or var[0].text == "NA":
        text = " ".join(t.text for t in var) or "nothing"
        raise src.error(tline, f"expected a variable name, found {text!r}", "each term is a name, optionally with modifiers: a*x, 0*x, start(1)*x")
    return Relation(lhs, op, var[0].text, mods.get("label"), mods.get("fixed"), mods.get("start"), tline,
                    mods.get("free", False), groups)


def _parse_statement(toks: list[_Tok], src: _Source) -> list[Relation] | tuple[Defined, tuple[str, ...]]:
    line = toks[0].line
    depth, found = 0, []
    for k, t in enumerate(toks):
        if t.kind == "OP" and t.text == "(":
            depth += 1
        elif t.kind == "OP" and t.text == ")":
            depth -= 1
        elif depth == 0 and t.kind == "OP" and t.text in _REL_OPS:
            found.append(k)
    if not found:
        raise src.error(line, "no operator in this statement", "a statement needs one of =~ <~ ~ ~~ :=")
    if len(found) > 1:
        ops = ", ".join(toks[k].text for k in found)
        raise src.error(toks[found[1]].line, f"more than one operator in one statement ({ops})",
                        "put each relation on its own line or separate statements with ';'")
    k = found[0]
    op = toks[k].text
    if op in ("<", ">", "<=", ">="):
        raise src.error(line, f"inequality constraints ({op!r}) are not supported",
                        "remove the constraint; equality between two labels (a == b) is supported")
    if op == "==":
        sides = (toks[:k], toks[k + 1:])
        if not all(len(t) == 1 and t[0].kind == "NAME" and t[0].text != "NA" for t in sides):
            raise src.error(line, "only equalities between two labels (a == b) are supported",
                            "write the constraint as label == label; fix values with 0.5*x in the relation")
        return Constraint(sides[0][0].text, "==", sides[1][0].text, line)
    if op == "=":
        raise src.error(line, "unknown operator '='", "did you mean =~ (measured by) or := (defined parameter)?")
    lhs, rhs = toks[:k], toks[k + 1 :]
    if not lhs:
        raise src.error(line, f"nothing on the left of {op!r}", f"write e.g. F {op} x")
    if not rhs:
        raise src.error(line, f"empty right-hand side of {op!r}", f"write e.g. {lhs[0].text} {op} x")
    if op == ":=":
        if len(lhs) != 1 or lhs[0].kind != "NAME" or lhs[0].text == "NA":
            raise src.error(line, "the left of ':=' must be one name", "write e.g. ind := a*b")
        return _parse_defined(lhs[0].text, rhs, src, line)
    lhs_names = []
    for part in _split(lhs, "+"):
        if len(part) != 1 or part[0].kind != "NAME" or part[0].text == "NA":
            text = " ".join(t.text for t in part) or "nothing"
            raise src.error(line, f"expected a name on the left of {op!r}, found {text!r}",
                            "modifiers go on the right-hand side: F =~ a*x")
        lhs_names.append(part[0].text)
    rels = []
    for name in lhs_names:
        for term in _split(rhs, "+"):
            rel = _parse_term(term, name, op, src, line)
            if rel.op in ("=~", "<~") and rel.rhs == rel.lhs:
                raise src.error(rel.line, f"construct {name!r} is measured by itself",
                                "a construct's indicators must be other names (items)")
            rels.append(rel)
    return rels


def _parse_defined(name: str, rhs: list[_Tok], src: _Source, line: int) -> tuple[Defined, tuple[str, ...]]:
    py, names = [], []
    for t in rhs:
        if t.kind == "STR":
            raise src.error(line, "quoted text in a defined parameter", "use labels without quotes: ind := a*b")
        if t.kind == "NAME":
            names.append(t)
            py.append(f"_v{len(names) - 1}")
        elif t.text == "^":
            py.append("**")
        elif t.text in ("~", "=~", "<~", "~~", ":="):
            raise src.error(line, f"operator {t.text!r} in a defined parameter", "use + - * / ^ and parentheses")
        else:
            py.append(t.text)
    try:
        tree = ast.parse(" ".join(py), mode="eval")
    except SyntaxError:
        raise src.error(line, "the expression of the defined parameter is not valid arithmetic",
                        "write e.g. ind := a*b or total := c + a*b") from None
    func_ids = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            if not (isinstance(n.func, ast.Name) and names[int(n.func.id[2:])].text in _FUNCTIONS):
                raise src.error(line, "unknown function in a defined parameter",
                                f"use one of {', '.join(sorted(_FUNCTIONS))}")
            func_ids.add(int(n.func.id[2:]))
    used = tuple(t.text for k, t in enumerate(names) if k not in func_ids)
    return Defined(name, "".join(t.text for t in rhs), line), used


# -- the whole model ------------------------------------------------------------------
def parse_lavaan(text: str, name: str | None = None) -> ModelSpec:
    """Parse lavaan model syntax into a :class:`~csmlib.spec.ModelSpec`.

    Parameters
    ----------
    text : str
        The model in lavaan syntax (see the module docstring for what is
        supported).
    name : str, optional
        A short name for reports.

    Returns
    -------
    ModelSpec
        Constructs (measured ones first, then observed variables used in
        structural paths), the parameter table (one relation per loading,
        path, covariance and intercept, each with its source line) and the
        defined parameters.

    Raises
    ------
    SpecError
        On any malformed statement; the message names the line and quotes it.
    """
    if not isinstance(text, str):
        raise SpecError(f"the model must be lavaan text (a str), got {type(text).__name__}",
                        hint="pass the model syntax as a string, e.g. 'F =~ x1 + x2'")
    src = _Source(text)
    stmts, pragmas = _statements(text, src)
    relations: list[Relation] = []
    defined: list[tuple[Defined, tuple[str, ...]]] = []
    constraints: list[Constraint] = []
    for st in stmts:
        out = _parse_statement(st, src)
        if isinstance(out, tuple):
            defined.append(out)
        elif isinstance(out, Constraint):
            constraints.append(out)
        else:
            relations.extend(out)
    if not relations:
        raise SpecError("the model has no relations", values=[text.strip()[:80]],
                        hint="write at least one statement such as 'F =~ x1 + x2'")
    return _assemble(relations, defined, pragmas, src, text, name, constraints)


def _assemble(relations, defined, pragmas, src: _Source, text: str | None, name: str | None,
              constraints=()) -> ModelSpec:
    # duplicates
    seen: dict[tuple, Relation] = {}
    for r in relations:
        key = (r.lhs, r.op, r.rhs)
        if r.op == "~~":
            key = (min(r.lhs, r.rhs), "~~", max(r.lhs, r.rhs))
        if r.op in ("=~", "<~"):
            key = (r.lhs, "measure", r.rhs)
        if key in seen:
            raise src.error(r.line, f"'{r.lhs} {r.op} {r.rhs}' is specified twice (first on line {seen[key].line})",
                            "specify each parameter once")
        seen[key] = r
    # measured constructs
    blocks: dict[str, list] = {}
    for r in relations:
        if r.op not in ("=~", "<~"):
            continue
        mode = "B" if r.op == "<~" else "reflective"
        if r.lhs in blocks and blocks[r.lhs][0] != mode:
            raise src.error(r.line, f"construct {r.lhs!r} is both reflective (=~) and composite (<~)",
                            "define each construct with one operator")
        blocks.setdefault(r.lhs, [mode, []])[1].append(r.rhs)
    for nm, (mode, line) in pragmas.items():
        if nm not in blocks:
            raise src.error(line, f"the csm pragma names {nm!r}, which is not a construct", "define it with =~ first")
        if blocks[nm][0] != "reflective":
            raise src.error(line, f"construct {nm!r} is a mode-B composite (<~) and cannot be mode A",
                            "use =~ for mode-A composites")
        blocks[nm][0] = mode
    constructs = [Construct(n, tuple(ind), mode) for n, (mode, ind) in blocks.items()]
    items = {i for _, ind in blocks.values() for i in ind}
    # interaction terms: only on the right of a structural path
    for r in relations:
        for side, v in (("left", r.lhs), ("right", r.rhs)):
            if ":" in v and not (r.op == "~" and side == "right"):
                raise src.error(r.line, f"the interaction term {v!r} may only appear on the right of a structural '~'",
                                "write e.g. Loyalty ~ Satisfaction + Costs + Satisfaction:Costs")
    # observed variables in structural paths
    for r in relations:
        if r.op != "~":
            continue
        for v in (r.lhs, *r.rhs.split(":")):
            if v not in blocks and v not in items:
                blocks[v] = ["reflective", [v]]
                constructs.append(Construct(v, (v,), "reflective"))
    for r in relations:
        parts = r.rhs.split(":") if r.op == "~" else []
        if len(parts) > 1 and len(set(parts)) != len(parts):
            raise src.error(r.line, f"the interaction term {r.rhs!r} repeats a variable",
                            "an interaction multiplies different constructs, e.g. x:m")
    names_all = set(blocks)
    for nm, (mode, ind) in blocks.items():
        inner = [i for i in ind if i in names_all]
        if inner and len(inner) != len(ind):
            items_only = [i for i in ind if i not in names_all]
            raise SpecError(f"construct {nm!r} is measured by both constructs ({', '.join(inner)}) and items "
                            f"({', '.join(items_only)})", values=[nm],
                            hint="a higher-order construct is measured by constructs only; "
                                 "give the items their own lower-order construct")
    # defined parameters
    labels = {r.label for r in relations if r.label is not None}
    labels |= {lab for r in relations for lab, _ in (r.groups or ()) if lab is not None}
    for c in constraints:
        for side in (c.lhs, c.rhs):
            if side not in labels:
                known = ", ".join(sorted(labels)) or "none"
                raise src.error(c.line, f"constraints relate labels, and {side!r} is not a label of the model",
                                f"label the parameter in its relation (e.g. {side}*x); labels defined: {known}")
    dnames: dict[str, Defined] = {}
    for d, _ in defined:
        if d.name in dnames:
            raise src.error(d.line, f"defined parameter {d.name!r} is defined twice (first on line {dnames[d.name].line})",
                            "give each defined parameter its own name")
        if d.name in labels:
            raise src.error(d.line, f"defined parameter {d.name!r} has the name of a label", "rename one of them")
        dnames[d.name] = d
    for d, names in defined:
        for used in names:
            if used not in labels and used not in dnames:
                known = ", ".join(sorted(labels | set(dnames))) or "none"
                raise src.error(d.line, f"{used!r} in the defined parameter {d.name!r} is not a label of the model",
                                f"label the parameter in its relation (e.g. {used}*x); labels defined: {known}")
    defined = [d for d, _ in defined]
    return ModelSpec(constructs=tuple(constructs), relations=tuple(relations), defined=tuple(defined),
                     constraints=tuple(constraints), source=text, name=name)


# -- rendering ------------------------------------------------------------------------
def _num(v: float) -> str:
    v = float(v)
    if not math.isfinite(v):
        raise SpecError(f"cannot write the non-finite number {v} in lavaan syntax", values=[v],
                        hint="fix parameters to finite values")
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _name(v: str) -> str:
    if isinstance(v, str) and ":" in v:
        return ":".join(_name(part) for part in v.split(":"))
    if not isinstance(v, str) or not _PLAIN_NAME_RE.match(v) or v == "NA":
        raise SpecError(f"{v!r} cannot be written as a lavaan name", values=[v],
                        hint="use names made of letters, digits, '_' and '.', starting with a letter")
    return v


def _term(r: Relation) -> str:
    mods = []
    if r.groups is not None:
        parts = [_name(lab) if lab is not None else (_num(v) if v is not None else "NA") for lab, v in r.groups]
        mods.append("c(" + ", ".join(parts) + ")")
    if r.label is not None:
        plain = _PLAIN_NAME_RE.match(r.label) and r.label != "NA"
        if plain:
            mods.append(r.label)
        else:
            q = "'" if '"' in r.label else '"'
            if q in r.label or not r.label or any(ch in r.label for ch in "\r\n#!"):
                raise SpecError(f"the label {r.label!r} cannot be written in lavaan syntax", values=[r.label],
                                hint="use labels without quotes, line breaks, '#' or '!'")
            mods.append(f"label({q}{r.label}{q})")
    if r.fixed is not None:
        mods.append(_num(r.fixed))
    if r.free:
        mods.append("NA")
    if r.start is not None:
        mods.append(f"start({_num(r.start)})")
    mods.append("1" if r.op == "~1" else _name(r.rhs))
    return "*".join(mods)


def render_lavaan(spec: ModelSpec) -> str:
    """Write a :class:`~csmlib.spec.ModelSpec` as lavaan syntax.

    Consecutive relations with the same left-hand side and operator share a
    statement (``F =~ x1 + x2``).  Mode-A composites are marked with a
    ``# csm: mode A: ...`` comment line.  Observed variables (single-item
    constructs named after their item, with no ``=~`` relation) appear only in
    their structural paths.  ``parse_lavaan(render_lavaan(spec))`` equals
    ``spec`` for every spec whose relations list the measurement blocks in
    construct order.

    Parameters
    ----------
    spec : ModelSpec

    Returns
    -------
    str
        The model syntax, one statement per line, ending in a newline.
    """
    rels = list(spec.relations)
    measured = {(r.lhs, r.rhs) for r in rels if r.op in ("=~", "<~")}
    missing = []
    for c in spec.constructs:
        observed = c.indicators == (c.name,)
        if observed:
            continue
        op = "<~" if c.mode == "B" else "=~"
        missing += [Relation(c.name, op, i) for i in c.indicators if (c.name, i) not in measured]
    rels = missing + rels
    lines = []
    mode_a = [c.name for c in spec.constructs if c.mode == "A"]
    if mode_a:
        lines.append("# csm: mode A: " + ", ".join(_name(n) for n in mode_a))
    group: list[Relation] = []

    def flush() -> None:
        if group:
            op = group[0].op
            if op == "~1":
                lines.append(f"{_name(group[0].lhs)} ~ {_term(group[0])}")
            else:
                lines.append(f"{_name(group[0].lhs)} {op} " + " + ".join(_term(r) for r in group))
            group.clear()

    for r in rels:
        if group and (r.lhs != group[0].lhs or r.op != group[0].op or r.op == "~1"):
            flush()
        group.append(r)
    flush()
    for d in spec.defined:
        lines.append(f"{_name(d.name)} := {d.expression}")
    for c in spec.constraints:
        lines.append(f"{_name(c.lhs)} == {_name(c.rhs)}")
    return "\n".join(lines) + "\n"


def shared_indicators(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    """Indicators that belong to more than one construct (cross-loadings).

    Returns
    -------
    dict
        item name -> the constructs it loads on (in construct order); empty
        when every item belongs to one block.
    """
    owners: dict[str, list[str]] = {}
    for c in spec.constructs:
        for i in c.indicators:
            owners.setdefault(i, []).append(c.name)
    return {i: tuple(cs) for i, cs in owners.items() if len(cs) > 1}
