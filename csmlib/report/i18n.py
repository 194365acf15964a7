"""Reports in more than one language: English (the default) and Chinese.

Every heading, sentence, table label and chart text a report shows is
written by hand in each language the workbench supports
(:data:`LANGUAGES`) -- never machine-translated -- and rendered through
the one escaping boundary (:func:`csmlib.report.markup.md`): the templates
are the notebook's or this module's own text (trusted); the values that go
into them (construct labels, segment names, numbers) are escaped.

Which language a report is in
-----------------------------
A study file may say ``language: zh`` (or ``en``); without it, reports use
the instrument's ``language`` when it is one of :data:`LANGUAGES`, English
otherwise.  ``csm run`` passes the resolved language to every notebook as
the ``language`` parameter; a notebook run by hand with ``language = ""``
gets the instrument's (:func:`report_language`, also
:attr:`csmlib.run.notebook.Run.language`).

How a notebook writes text in both languages
--------------------------------------------
Give the template in every language, as a literal ``{language: template}``
dict (or the key of a message in :data:`MESSAGES`); values go in through
placeholders, exactly as with :func:`csmlib.report.md`::

    from csmlib.report import i18n
    lang = run.language
    # a heading or a sentence (Markdown, values escaped)
    display(i18n.md(lang, {"en": "## Drivers of {target}", "zh": "## {target}的驱动因素"},
                    target=run.instrument.construct_label(target, lang)))
    # a finding (plain text: Findings escapes it when it renders)
    findings.add(i18n.text(lang, {"en": "{n} complaints.", "zh": "投诉{n}条。"}, n=n))
    # a chart title or axis label (plain text; plots show it as given)
    ax.set_xlabel(i18n.text(lang, {"en": "Importance", "zh": "重要性"}))
    # a table: plain-language column labels in the report's language
    display(report.table(frame.rename(columns=i18n.labels(frame.columns, lang))))

A language missing from a template falls back to English (so a study in a
language the template lacks still reads), and a template must always give
English.  Construct labels and question texts come from the instrument in
the report's language (:meth:`csmlib.data.instrument.Instrument.construct_label`,
:meth:`~csmlib.data.instrument.Instrument.text`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Number
from typing import Any

from ..errors import CsmError
from .markup import Markdown, md as _md, visible

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "MESSAGES", "COLUMN_LABELS", "check_language",
           "report_language", "template", "md", "text", "label", "labels"]

#: languages every report template is written in; the first is the default
LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"

#: A template in every language: ``{"en": "...", "zh": "..."}`` (or a key of :data:`MESSAGES`).
Texts = Mapping[str, str] | str

#: Messages shared by several notebooks and by the library's own sentences,
#: by key: ``{key: {language: template}}``.  Written by hand in each language.
MESSAGES: dict[str, dict[str, str]] = {
    "respondents": {"en": "{n} respondents", "zh": "样本量 {n}"},
    "model": {"en": "model *{model}*", "zh": "模型 *{model}*"},
    "lavaan_model": {"en": "lavaan model of the study", "zh": "本研究的 lavaan 模型"},
    "suppressed": {
        "en": "{what}: {n} respondents, below the minimum base of {min_base}; results are "
              "suppressed, not estimated.",
        "zh": "{what}：样本量 {n}，低于最低样本量 {min_base}；结果不予估计和报告。"},
}

#: Plain-language labels of the columns csmlib's frames carry, by language.
#: A column not listed keeps its name.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "lhs": {"en": "To", "zh": "结果变量"},
    "rhs": {"en": "From", "zh": "前因变量"},
    "op": {"en": "Type", "zh": "类型"},
    "label": {"en": "Label", "zh": "标签"},
    "est": {"en": "Estimate", "zh": "估计值"},
    "se": {"en": "Std. error", "zh": "标准误"},
    "z": {"en": "z", "zh": "z 值"},
    "pvalue": {"en": "p", "zh": "p 值"},
    "p": {"en": "p", "zh": "p 值"},
    "ci": {"en": "95% interval", "zh": "95% 置信区间"},
    "ci_lower": {"en": "95% interval: lower", "zh": "95% 置信区间下限"},
    "ci_upper": {"en": "95% interval: upper", "zh": "95% 置信区间上限"},
    "std_all": {"en": "Standardized", "zh": "标准化估计值"},
    "construct": {"en": "Construct", "zh": "构念"},
    "item": {"en": "Item", "zh": "题项"},
    "question": {"en": "Question", "zh": "题目"},
    "index": {"en": "Index", "zh": "指数"},
    "n": {"en": "Base (n)", "zh": "样本量"},
    "wave": {"en": "Wave", "zh": "调查期"},
    "segment": {"en": "Segment", "zh": "细分群体"},
    "value": {"en": "Value", "zh": "数值"},
    "importance": {"en": "Importance", "zh": "重要性"},
    "performance": {"en": "Performance (0-100)", "zh": "绩效（0-100）"},
    "rank": {"en": "Rank", "zh": "排序"},
    "direct": {"en": "Direct effect", "zh": "直接效应"},
    "indirect": {"en": "Indirect effect", "zh": "间接效应"},
    "total": {"en": "Total effect", "zh": "总效应"},
    "r2": {"en": "R²", "zh": "R²"},
    "mean": {"en": "Mean", "zh": "均值"},
    "sd": {"en": "Std. deviation", "zh": "标准差"},
    "diff": {"en": "Difference", "zh": "差异"},
    "rule": {"en": "Rule", "zh": "判断标准"},
    "passed": {"en": "Met", "zh": "达标"},
}


def check_language(language: str, *, where: str = "language") -> str:
    """``language`` if it is one of :data:`LANGUAGES`.

    Raises
    ------
    CsmError
        Naming the language given and the languages there are.
    """
    if language not in LANGUAGES:
        raise CsmError(f"{where}: reports cannot be written in {language!r}", values=[language],
                       hint=f"use one of {', '.join(LANGUAGES)} (or leave it out for the instrument's "
                            "language)")
    return language


def report_language(language: str | None = "", instrument: Any = None) -> str:
    """The language a report is written in.

    Parameters
    ----------
    language : str
        The ``language`` parameter (``""`` or None: not given).
    instrument : Instrument, optional
        Its ``language`` is used when ``language`` is not given (its main
        subtag: ``zh-CN`` reads as ``zh``); one that no template is written
        in gives English.

    Returns
    -------
    str
        One of :data:`LANGUAGES`.

    Raises
    ------
    CsmError
        ``language`` is given and is not one of :data:`LANGUAGES`.
    """
    if language:
        return check_language(str(language))
    own = str(getattr(instrument, "language", "") or "").replace("_", "-").split("-")[0].lower()
    return own if own in LANGUAGES else DEFAULT_LANGUAGE


def template(texts: Texts, language: str) -> str:
    """The template of ``texts`` in ``language`` (English when it lacks that language).

    Parameters
    ----------
    texts : dict or str
        ``{language: template}`` (must give ``"en"``), or a key of :data:`MESSAGES`.
    language : str

    Returns
    -------
    str
        A template for :func:`csmlib.report.md` (trusted text).
    """
    if isinstance(texts, str):
        if texts not in MESSAGES:
            raise CsmError(f"no message {texts!r} in csmlib.report.i18n.MESSAGES", values=[texts],
                           hint="give the template in every language as a dict, or add the message")
        texts = MESSAGES[texts]
    if DEFAULT_LANGUAGE not in texts:
        raise CsmError("a report template must give its English text", values=sorted(texts),
                       hint='write {"en": "...", "zh": "..."}')
    return texts.get(language, texts[DEFAULT_LANGUAGE])


def md(language: str, texts: Texts, /, **values: Any) -> Markdown:
    """Markdown in the report's language, every value escaped
    (:func:`csmlib.report.md` of :func:`template`).

    Returns
    -------
    csmlib.report.Markdown
    """
    return _md(template(texts, language), **values)


def text(language: str, texts: Texts, /, **values: Any) -> str:
    """Plain text in the report's language: a finding (:class:`csmlib.report.Findings`
    escapes it where it renders), a chart title or axis label, a table cell.

    Values are formatted into the template (:meth:`str.format` syntax) with
    control and invisible characters shown as ``\\uXXXX``; nothing is
    escaped for markup -- render the result through the boundary.

    Returns
    -------
    str
    """
    return template(texts, language).format(**{k: v if isinstance(v, Number) else visible(v)
                                               for k, v in values.items()})


def label(column: object, language: str) -> str:
    """The plain-language label of a column (:data:`COLUMN_LABELS`), or its name."""
    texts = COLUMN_LABELS.get(str(column))
    return str(column) if texts is None else template(texts, language)


def labels(columns: Iterable[object], language: str) -> dict[object, str]:
    """``{column: label}`` for :meth:`pandas.DataFrame.rename` (:func:`label` of each)."""
    return {c: label(c, language) for c in columns}
