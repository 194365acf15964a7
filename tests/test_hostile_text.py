"""Hostile text (issue 13, class 1): text from data, instrument or study file
never becomes markup in a report.

* the notebooks render through the one boundary (report.md / report.html /
  report.table / Findings) and never format text into Markdown or HTML
  themselves (a scan of notebooks/*.py);
* generated hostile strings (markup, Markdown links and images, autolinks,
  control characters, right-to-left marks, TeX, very long and Chinese text)
  rendered by the boundary and parsed back hold no element or attribute
  that was not in the notebook's own template;
* a small study run with such text in every text field of the instrument,
  the study file and the data, and a real report notebook once: every HTML
  output parsed, no injected element or attribute anywhere.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmlib import report
from csmlib.report.htmlexport import notebook_to_html

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "data" / "demo"
SMOKE = NOTEBOOKS / "_smoke.ipynb"

MARK = "csmx"   # every payload names it, so an injected element or attribute is recognisable
PAYLOADS = [
    f"<script>alert('{MARK}')</script>",
    f'<img src=x onerror="{MARK}()">',
    f"</div></td></table><p {MARK}=1>",
    f"[click](javascript:{MARK}())",
    f"![img](http://{MARK}.example/x.png)",
    f"<http://{MARK}.example>",
    f"https://{MARK}.example/",
    f"www.{MARK}.example",
    f"{MARK}@evil.example",
    f'"><svg onload={MARK}()>',
    f"' onmouseover='{MARK}()",
    f"<iframe src=javascript:{MARK}()>",
    f"$\\href{{javascript:{MARK}()}}{{x}}$",
    f"x$_$ \\({MARK}\\)",
    f"# {MARK}\n\n---\n===\n> quote\n* item\n1. one\n| a | b |",
    f"&lt;script&gt;{MARK}&#x3c;b&#62;",
    f"`code` **bold** _em_ ~~strike~~ {MARK}",
    f"\u202e{MARK}\u200f\u200b\u2066x\u2069",
    f"{MARK}\x00\x07\x1b[31m\r\n\t",
    f"满意度 {MARK} <b>粗体</b> 顾客",
]
_ALPHABET = st.sampled_from(list("<>&\"'`[]()!*_#$\\:@/=|~-+.{} \n\t\u202e\u200f\u200b\x00x满意a1"))
HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(_ALPHABET, max_size=30)),
    st.text(_ALPHABET, min_size=1, max_size=60).map(lambda t: f"{MARK}{t}"),
    st.builds(lambda p, n: (p + " ") * n, st.sampled_from(PAYLOADS), st.integers(20, 60)),   # very long
)


# --------------------------------------------------------------- the checker
class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def injected(html: str) -> list[str]:
    """Elements and attributes in ``html`` that a payload put there."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    bad = []
    for tag, attrs in parser.elements:
        if MARK in tag or tag in {"iframe", "object", "embed", "svg", "math", "form", "base", "meta"} \
                and any(MARK in (v or "") for _, v in attrs):
            bad.append(f"<{tag}>")
        if tag == "img" and not all((v or "").startswith("data:image/png;base64,")
                                    for k, v in attrs if k == "src"):
            bad.append(f"<img {attrs}>")
        for k, v in attrs:
            value = (v or "").strip()
            if value.startswith("data:image/png;base64,"):
                continue   # a figure (its base64 may spell anything)
            if MARK in k or k.startswith("on") or value.lower().startswith(("javascript:", "vbscript:")):
                bad.append(f"<{tag} {k}={v!r}>")
            if k in ("href", "src") and MARK in value and not value.startswith("#"):   # "#": own anchors
                bad.append(f"<{tag} {k}={v!r}>")
    bad += [f"<script>{s[:60]}" for s in parser.scripts if MARK in s]
    return bad


def _tags(html: str) -> list[str]:
    parser = _Elements()
    parser.feed(html)
    return [t for t, _ in parser.elements]


def _visible(text: str) -> str:
    import unicodedata

    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c
                   for c in text)


def _plain(html: str) -> str:
    import html as _html

    return _html.unescape(re.sub(r"<[^>]+>", "", html))


# --------------------------------------------------------------- notebooks render through the boundary
_DISPLAY_CLASSES = {"Markdown", "HTML", "Latex", "Javascript", "SVG", "IFrame", "Math", "JSON"}


def _notebook_sources() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.py"))


@pytest.mark.parametrize("path", _notebook_sources(), ids=lambda p: p.stem)
def test_notebooks_never_format_text_into_markup(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("IPython"):
            problems += [f"imports {a.name}" for a in node.names if a.name in _DISPLAY_CLASSES]
        if isinstance(node, ast.Name) and node.id in _DISPLAY_CLASSES:
            problems.append(f"line {node.lineno}: uses {node.id}")
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_repr_"):
            problems.append(f"line {node.lineno}: defines {node.name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("md", "html") and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "report":
            template = node.args[0] if node.args else None
            if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
                problems.append(f"line {node.lineno}: report.{node.func.attr} template is not a plain "
                                "string literal (an f-string, .format or + puts data into markup)")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("md", "text") and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "i18n":
            # i18n.md(language, {"en": "...", "zh": "..."}, **values) or i18n.md(language, "key")
            texts = node.args[1] if len(node.args) > 1 else None
            literal = isinstance(texts, ast.Constant) and isinstance(texts.value, str) or (
                isinstance(texts, ast.Dict) and all(
                    isinstance(v, ast.Constant) and isinstance(v.value, str) for v in texts.values))
            if not literal:
                problems.append(f"line {node.lineno}: i18n.{node.func.attr} templates are not a literal "
                                "{language: string} dict or message key")
    assert not problems, f"{path.name}: {problems}"


def test_the_scan_finds_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from IPython.display import Markdown\nfrom csmlib import report\n"
                   "display(report.md(f'## {title}'))\nMarkdown('x')\n"
                   "i18n.md(lang, {'en': f'## {title}', 'zh': '## x'})\n")
    with pytest.raises(AssertionError, match="(?=.*imports Markdown)(?=.*report.md template is not a plain)(?=.*i18n.md templates)"):
        test_notebooks_never_format_text_into_markup(bad)


# --------------------------------------------------------------- the boundary itself
def _markdown_renderers():
    from markdown_it import MarkdownIt
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    gfm = MarkdownIt("gfm-like", {"html": True, "linkify": False})
    return {"commonmark": MarkdownIt("commonmark", {"html": True}).render,
            "gfm": gfm.render, "nbconvert": markdown2html_mistune}


_MD_TAGS = {"p", "h2", "strong", "em", "span", "a"}   # "a": nbconvert's own heading anchor


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=HOSTILE, n=st.integers(0, 10 ** 6))
def test_md_renders_any_value_as_its_text(value, n):
    md = report.md("## {value}\n\n**{n} respondents** in {value}.", value=value, n=n)
    for name, render in _markdown_renderers().items():
        html = render(str(md))
        assert not injected(html), (name, value, html)
        assert set(_tags(html)) <= _MD_TAGS, (name, value, html)
        links = [a for t, a in _elements(html) if t == "a"]
        assert all(dict(a).get("class") == "anchor-link" for a in links), (name, html)
        if name != "nbconvert":   # nbconvert's heading anchor repeats the heading text
            assert _visible(value).strip() in _plain(html).replace("\\\\", "\\"), (name, value, html)


def _elements(html: str):
    parser = _Elements()
    parser.feed(html)
    return parser.elements


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(value=HOSTILE, x=st.floats(-1e6, 1e6, allow_nan=False))
def test_html_renders_any_value_as_its_text(value, x):
    html = str(report.html("<p class='r'>Mean in {segment}: {x:.3f}</p>", segment=value, x=x))
    assert not injected(html), (value, html)
    assert set(_tags(html)) <= {"p", "span"}
    assert _plain(html) == f"Mean in {_visible(value)}: {x:.3f}"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(values=st.lists(HOSTILE, min_size=2, max_size=4, unique=True), label=HOSTILE)
def test_tables_and_findings_render_any_text_as_text(values, label):
    frame = pd.DataFrame({"segment": values, label: range(len(values)), "est": 0.5}).set_index("segment")
    html = report.table(frame, 2).to_html()
    assert not injected(html), html
    assert set(_tags(html)) <= {"style", "table", "thead", "tbody", "tr", "th", "td"}
    for v in values + [label]:
        assert _visible(v) in _plain(html)
    f = report.Findings(values, title=label)._repr_html_()
    assert not injected(f) and set(_tags(f)) <= {"div", "h3", "ul", "li"}


def test_html_export_sanitizes_what_a_notebook_displays_raw():
    """The second line of defence: markup displayed around the boundary."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    raw = "".join(PAYLOADS[:12])
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": raw, "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": raw, "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": f"<svg onload='{MARK}()'/>",
                                                     "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<h2>kept</h2><table><tr><th>a</th>"
                                                                   "<td>b</td></tr></table>"}),
    ]
    nb.cells = [cell]
    html = notebook_to_html(nb)
    assert not injected(html), injected(html)
    assert "<h2>kept</h2>" in html and "<th>a</th>" in html   # reports keep their structure


# --------------------------------------------------------------- a study run with hostile text everywhere
def _all_html(root: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in root.rglob("*.html")}


@pytest.mark.notebooks
@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(segments=st.lists(HOSTILE, min_size=2, max_size=2, unique_by=lambda s: s.strip()[:40]),
       name=HOSTILE, wave=HOSTILE)
def test_smoke_study_with_hostile_text_everywhere(tmp_path_factory, segments, name, wave):
    from csmlib.run.cli import main

    tmp = tmp_path_factory.mktemp("hostile")
    # a NUL byte makes the reader refuse the file as binary (rightly): the rest of the text stays
    segments = [v.replace("\x00", "") for v in segments]
    frame = pd.DataFrame({"id": range(1, 7), "region": segments * 3, "x": [1, 2, 3, 4, 5, 6],
                          "y": ["a", "b"] * 3})
    frame.to_csv(tmp / "w1.csv", index=False)
    # an instrument must declare its items and segment columns (the study checks both before it runs)
    inst = {"name": name, "id_column": "id", "segment_columns": ["region"],
            "constructs": [{"name": "S", "label": name, "items": [{"name": "x", "scale": [1, 6], "text": wave}]}]}
    (tmp / "instrument.yml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    study = {"name": "hostile", "instrument": "instrument.yml", "model": "S =~ x",
             "waves": [{"name": "W1", "data": "w1.csv"}], "segments": {"column": "region"},
             "notebooks": [str(SMOKE)], "parameters": {"seed": 1}, "min_base": 1,
             "output": str(tmp / "runs")}
    (tmp / "study.yml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    assert main(["run", str(tmp / "study.yml"), "--jobs", "2", "--no-progress"]) == 0
    htmls = _all_html(tmp / "runs" / "hostile")
    assert len(htmls) >= 2
    for p, html in htmls.items():
        assert not injected(html), (p, injected(html))
    # hostile study and wave names are refused by the study file's rules, with exit code 2
    for key, value in (("name", name), ("waves", [{"name": wave, "data": "w1.csv"}])):
        doc = dict(study, **{key: value})
        (tmp / "bad.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        assert main(["validate", str(tmp / "bad.yml")]) == 2


@pytest.mark.notebooks
def test_real_report_notebook_with_hostile_instrument_and_data(tmp_path, csm_run):
    doc = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    doc["name"] = PAYLOADS[0] + PAYLOADS[12]
    for i, c in enumerate(doc["constructs"]):
        c["label"] = {"en": PAYLOADS[i % len(PAYLOADS)] + " " + PAYLOADS[(i + 13) % len(PAYLOADS)]}
        for j, item in enumerate(c["items"]):
            item["text"] = {"en": PAYLOADS[(i + j) % len(PAYLOADS)]}
            item["labels"] = {item["scale"][0]: {"en": PAYLOADS[(i + j + 1) % len(PAYLOADS)]},
                              item["scale"][1]: {"en": PAYLOADS[(i + j + 2) % len(PAYLOADS)]}}
    # a construct the model does not use, with hostile construct and item names
    hostile_items = [f"{MARK}<i>1", f'{MARK}"><b>2']
    doc["constructs"].append({"name": PAYLOADS[1] + PAYLOADS[12], "label": {"en": PAYLOADS[13]},
                              "items": [{"name": n, "scale": [0, 10], "text": {"en": PAYLOADS[2]},
                                         "labels": {0: {"en": PAYLOADS[5]}, 10: {"en": PAYLOADS[9]}}}
                                        for n in hostile_items]})
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    frame = pd.read_csv(DEMO / "wave1.csv", nrows=120, dtype=str, keep_default_na=False)
    frame["region"] = [PAYLOADS[0], PAYLOADS[3] + " 东区" + PAYLOADS[17]] * 60
    for n in hostile_items:
        frame[n] = frame["recommend"]
    frame.to_csv(tmp_path / "w1.csv", index=False)
    study = {"name": "hostile real", "instrument": "instrument.yml", "model": "acsi",
             "waves": [{"name": "W1", "data": "w1.csv"}], "segments": {"column": "region"},
             "notebooks": ["data_quality", "index_drivers"], "parameters": {"seed": 1, "n_boot": 20},
             "min_base": 20, "output": str(tmp_path / "runs")}
    code, root, records = csm_run(tmp_path, study)
    assert code == 0, {str(p): r.get("error") for p, r in records.items()}
    htmls = _all_html(root)
    assert len(htmls) == 6   # (all + 2 segments) x 2 notebooks
    for p, html in htmls.items():
        assert not injected(html), (p, injected(html))
    # the hostile text did reach the reports, as text
    assert any("alert('csmx')" in _plain(h) for h in htmls.values())
    assert any(f"{MARK}<i>1" in _plain(h) for p, h in htmls.items() if p.stem == "data_quality")
