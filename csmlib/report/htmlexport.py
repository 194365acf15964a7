"""Executed notebook -> consultant-ready HTML: no code, no parameters, no errors.

``nbconvert --no-input`` hides code but keeps the cell papermill injects
(``injected-parameters``: its outputs, if any, and its place), keeps stderr
streams (warnings, progress bars) and error tracebacks.  :func:`notebook_to_html`
runs :class:`CleanReportPreprocessor` first, which removes

* cells tagged ``injected-parameters``, ``parameters`` or ``remove``;
* ``stderr`` stream outputs and ``error`` outputs;
* code cells left with no output;

turns Markdown outputs into HTML (so the sanitizer sees the links and
images Markdown makes),

then nbconvert's :class:`~nbconvert.preprocessors.SanitizeHTML` with the
allow-list :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES` (nbconvert's own
``sanitize_html`` option is off by default, and its allow-list would
escape the headings and table headers of every report), and then
nbconvert's :class:`~nbconvert.HTMLExporter` with ``exclude_input=True``
and no prompts, on the page :data:`REPORT_TEMPLATE` (nbconvert's ``lab``
page without the scripts it loads from a CDN: a report is one
self-contained file).  HTML and Markdown outputs therefore never carry
``<script>``, ``<img>``, ``<iframe>``, ``<style>``, event-handler attributes
or links that leave the page, whatever a notebook displays: a second line of
defence behind the one rendering boundary
(:func:`csmlib.report.markup.md`, :func:`csmlib.report.markup.html`,
:func:`csmlib.report.tables.table`), which escapes text from the data
where it is rendered.  Figures are PNG outputs and kept; SVG outputs are
dropped (SVG can hold scripts).  A notebook that failed is not exported:
:func:`notebook_to_html` raises :class:`~csmlib.errors.StudyError` when it
holds an error output, so a failed run leaves an error record, not a report.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML

from ..privacy import mask_text
from ..errors import StudyError

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "REPORT_CSS", "REPORT_TEMPLATE", "CleanReportPreprocessor",
           "mask_notebook_text", "notebook_to_html", "notebook_error"]

#: cells with any of these tags never reach the report
REMOVE_TAGS = frozenset({"injected-parameters", "parameters", "remove", "remove-cell"})

#: HTML elements a report may hold (everything else is removed, its text kept)
ALLOWED_TAGS = (
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
)
#: attributes a report's elements may carry; links only to the report itself (``href="#..."``)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "title"],
    "a": ["href", "title"],
    "td": ["colspan", "rowspan", "class", "id"],
    "th": ["colspan", "rowspan", "class", "id", "scope"],
    "col": ["span"],
    "ol": ["start"],
}


#: The report's own style sheet (trusted, constant): key-figure cards and the
#: table of contents (:func:`csmlib.report.key_figures`, :func:`csmlib.report.contents`),
#: captions of split tables.  Outputs themselves can carry no ``<style>``.
REPORT_CSS = """
.csm-cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
.csm-card { border: 1px solid #c9d3dc; border-radius: 6px; padding: 10px 16px; min-width: 150px;
            background: #f7f9fb; }
.csm-card-label { font-size: 0.85em; color: #4a5a68; }
.csm-card-value { font-size: 1.9em; font-weight: 600; color: #1f5f8b; line-height: 1.3; }
.csm-card-note { font-size: 0.8em; color: #4a5a68; }
.csm-toc { border-left: 3px solid #1f5f8b; padding: 4px 12px; margin: 8px 0 16px; }
.csm-toc ol { margin: 4px 0 0 0; }
table caption { caption-side: top; font-weight: 600; text-align: left; }
"""


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: the allow-list, and links only within the page."""
    if name == "href":
        return tag == "a" and value.startswith("#")
    return name in ALLOWED_ATTRIBUTES["*"] or name in ALLOWED_ATTRIBUTES.get(tag, ())


def mask_notebook_text(nb_json: str) -> str:
    """An executed notebook (JSON text) with its error and stream outputs
    (tracebacks, warnings, printed text) passed through the masking function
    :func:`csmlib.privacy.mask_text`: what a failing or warning cell
    quotes from the data is recorded masked.

    Parameters
    ----------
    nb_json : str
        The notebook as written by papermill.

    Returns
    -------
    str
        The notebook as JSON text.
    """
    try:
        nb = nbformat.reads(nb_json, as_version=4)
    except Exception:  # noqa: BLE001 - a notebook papermill left unreadable: mask it all
        return mask_text(nb_json)
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if o.get("output_type") == "error":
                o["evalue"] = mask_text(o.get("evalue", ""))
                o["traceback"] = [mask_text(t) for t in o.get("traceback", [])]
            elif o.get("output_type") == "stream":
                o["text"] = mask_text(o.get("text", ""))
    return nbformat.writes(nb)


class CleanReportPreprocessor(Preprocessor):
    """Strip everything a consultant should not see (see the module docstring)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & REMOVE_TAGS:
                continue
            if cell.cell_type == "code":
                outputs = [
                    o for o in cell.get("outputs", [])
                    if o.get("output_type") != "error"
                    and not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                ]
                if not outputs:
                    continue
                for o in outputs:
                    data = o.get("data", {})
                    if "text/markdown" in data:   # rendered here, so the sanitizer sees the HTML
                        data["text/html"] = markdown2html_mistune(data.pop("text/markdown"))
                cell.outputs = outputs
                cell.execution_count = None
                for o in outputs:
                    if "execution_count" in o:
                        o["execution_count"] = None
            cells.append(cell)
        nb.cells = cells
        return nb, resources


def notebook_error(nb: Any) -> str | None:
    """The first error of an executed notebook as ``"Name: message"``, or ``None``."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
    return None


def notebook_to_html(nb: Any, *, title: str | None = None) -> str:
    """Render an executed notebook as an HTML report without code.

    Parameters
    ----------
    nb : nbformat.NotebookNode, str or bytes
        The executed notebook (a node, or its JSON text).
    title : str, optional
        The HTML page title (default: the notebook's title metadata or "Report").

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    StudyError
        The notebook holds an error output (a failed run has no report).
    """
    if isinstance(nb, (str, bytes)):
        nb = nbformat.reads(nb.decode("utf-8") if isinstance(nb, bytes) else nb, as_version=4)
    else:
        nb = copy.deepcopy(nb)
    err = notebook_error(nb)
    if err is not None:
        raise StudyError(
            f"the notebook failed ({err}); a failed notebook has no HTML report",
            hint="fix the error shown and run again",
        )
    resources = {"metadata": {"name": title or nb.metadata.get("title") or "Report"}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return body.replace("</head>", f"<style>{REPORT_CSS}</style>\n</head>", 1)


#: The report's page: nbconvert's ``lab`` template without the scripts its
#: head loads from a CDN (require.js, MathJax, mermaid, the widget manager).
#: A report is one self-contained file: it opens offline, and the client's
#: browser calls no third party.  The reports hold no formulas, so no math
#: renderer is needed; TeX-like text from the data stays plain text.
REPORT_TEMPLATE = """{%- extends "lab/index.html.j2" -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

_EXPORTERS = threading.local()


def _exporter() -> HTMLExporter:
    """This thread's report exporter, made once: making one compiles its
    templates, about half the time of exporting a report.  Its
    preprocessors keep no state between notebooks."""
    exporter = getattr(_EXPORTERS, "exporter", None)
    if exporter is None:
        exporter = HTMLExporter(
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            extra_loaders=[DictLoader({"csm_report.html.j2": REPORT_TEMPLATE})],
            template_file="csm_report.html.j2",
        )
        exporter.register_preprocessor(CleanReportPreprocessor(), enabled=True)
        exporter.register_preprocessor(
            SanitizeHTML(tags=list(ALLOWED_TAGS), attributes=_allowed_attribute, strip=True,
                         safe_output_keys={"metadata", "text/plain", "image/png", "image/jpeg"}),
            enabled=True)
        _EXPORTERS.exporter = exporter
    return exporter
