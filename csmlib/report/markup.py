"""The one rendering boundary: text from data, instrument or study file
becomes Markdown or HTML only here.

Notebooks write the words; every value that comes from outside the notebook
(segment values, wave labels, construct and item labels, study name, file
names, notes, numbers) goes in through a placeholder and is escaped for
the context it lands in::

    display(report.md("## {title}\\n\\n**{n} respondents**", title=run.title, n=run.n))
    display(report.html("<p>Mean of x in {segment}: {m:.3f}</p>", segment=seg, m=m))

The template is the notebook's own text (trusted); the values are not.
Placeholders use :meth:`str.format` syntax (``{name}``, ``{x:.1f}``); a
value is formatted first, then escaped, so a format spec never sees escaped
text.  A value that is itself a :class:`Markdown` / :class:`HTML` made here
is inserted as it is (it was escaped when it was made).

What escaping defeats
---------------------
* HTML: ``<script>``, ``<img onerror=...>``, ``</div>``, attribute breaks
  (``"``, ``'``) -- every ``<``, ``>``, ``&``, ``"``, ``'`` becomes an entity;
* Markdown: emphasis, headings, lists, tables, code, links and images
  (``[x](javascript:...)``, ``![x](...)``), raw HTML, autolinks
  (``<http://...>``, bare ``https://...``, ``www.``, e-mail autolinks) and
  setext headings -- every Markdown punctuation character is
  backslash-escaped, and ``<``, ``>``, ``&``, ``:``, ``@``, ``$`` become
  numeric entities, so no renderer finds a link, a tag or math in raw text;
* line breaks and other control or invisible format characters
  (right-to-left overrides, zero-width spaces) are shown as ``\\uXXXX``, so
  a value can neither start a new Markdown block nor reorder what is shown;
* TeX: a value holding ``$`` or ``\\`` sits in a ``<span
  class="tex2jax_ignore mathjax_ignore">`` so MathJax (which JupyterLab
  runs on an executed notebook's Markdown, typesetting ``$...$`` and
  ``\\(...\\)``) leaves it alone.  The HTML reports load no MathJax
  (:data:`csmlib.report.htmlexport.REPORT_TEMPLATE`).

:func:`csmlib.report.tables.table` (table cells and labels) and
:class:`csmlib.report.tables.Findings` use the same :func:`html_escape`.
"""

from __future__ import annotations

import html as _html
import string
from typing import Any

from ..privacy import show_invisible

__all__ = ["HTML", "Markdown", "html", "html_escape", "md", "md_escape", "visible"]

#: class of the span around every value: MathJax 2 and 3 do not typeset inside it
NO_MATH_CLASS = "tex2jax_ignore mathjax_ignore"

_MD_BACKSLASH = set("\\`*_{}[]()#+-.!|~=^\"'")
_MD_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;", ":": "&#58;", "@": "&#64;", "$": "&#36;"}


def visible(text: object) -> str:
    """``text`` with control and invisible format characters (line breaks,
    right-to-left overrides, zero-width spaces) shown as ``\\uXXXX``: for
    text drawn where markup does not apply (chart titles and labels)."""
    return show_invisible(str(text))


def md_escape(text: object) -> str:
    """Text made inert for Markdown: no emphasis, heading, list, table, code,
    link, image, autolink, raw HTML or math can form from it (see the
    module docstring).  Renders as the text itself."""
    out = []
    for ch in show_invisible(str(text)):
        if ch in _MD_ENTITY:
            out.append(_MD_ENTITY[ch])
        elif ch in _MD_BACKSLASH:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def html_escape(text: object) -> str:
    """Text made inert for HTML (element content and quoted attributes):
    ``< > & " '`` as entities, control and format characters as ``\\uXXXX``."""
    return _html.escape(show_invisible(str(text)), quote=True)


class _Rendered:
    """Text already rendered by this module.  ``str()`` gives the markup;
    ``plain`` the same text with the values unescaped, which is what a
    notebook shows where markup is not rendered (``text/plain``)."""

    _mime = ""

    def __init__(self, text: str, plain: str | None = None) -> None:
        self.text = str(text)
        self.plain = self.text if plain is None else plain

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (str, _Rendered)):
            return self.text == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)

    def __contains__(self, part: str) -> bool:
        return part in self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {self._mime: self.text, "text/plain": self.plain}

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.plain)


class Markdown(_Rendered):
    """Markdown made by :func:`md`; displays as Markdown in a notebook (not a
    ``str`` subclass: IPython would show a ``str``'s repr as its text)."""

    _mime = "text/markdown"


class HTML(_Rendered):
    """HTML made by :func:`html`; displays as HTML in a notebook."""

    _mime = "text/html"


class _EscapingFormatter(string.Formatter):
    def __init__(self, escape: Any, kind: type) -> None:
        self.escape, self.kind = escape, kind

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, self.kind):
            return str(value) if self.escape is not show_invisible else value.plain
        raw = super().format_field(value, format_spec)
        text = self.escape(raw)
        if self.escape is show_invisible:
            return text
        if "$" in raw or "\\" in raw:   # what MathJax would take for TeX
            return f'<span class="{NO_MATH_CLASS}">{text}</span>'
        return text

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            # "{x.attr}" / "{x[0]}" would reach into objects from the template
            raise ValueError(f"placeholder {{{field_name}}}: use plain names and pass the values")
        return super().get_field(field_name, args, kwargs)


def _render(kind: type, escape: Any, template: str, values: dict[str, Any]) -> Any:
    return kind(_EscapingFormatter(escape, kind).format(template, **values),
                _EscapingFormatter(show_invisible, kind).format(template, **values))


def md(template: str, /, **values: Any) -> Markdown:
    """Markdown from a notebook's template, every value escaped for Markdown.

    Parameters
    ----------
    template : str
        The notebook's own Markdown with ``{name}`` / ``{name:.1f}`` placeholders.
    **values
        The values, from data, instrument, study file or computation.

    Returns
    -------
    Markdown
        A ``str`` that displays as Markdown; its ``plain`` attribute (shown
        as ``text/plain``) holds the text with the values unescaped.
    """
    return _render(Markdown, md_escape, template, values)


def html(template: str, /, **values: Any) -> HTML:
    """HTML from a notebook's template, every value escaped for HTML.

    Parameters
    ----------
    template : str
        The notebook's own HTML with ``{name}`` / ``{name:.1f}`` placeholders.
    **values
        The values, from data, instrument, study file or computation.

    Returns
    -------
    HTML
        A ``str`` that displays as HTML; its ``plain`` attribute (shown as
        ``text/plain``) holds the template with the values unescaped.
    """
    return _render(HTML, html_escape, template, values)
