"""Open-ended feedback: the themes of verbatim answers, Chinese and English.

A verbatim answer ("What should we improve?") is masked
(:func:`csmlib.privacy.mask_text`), cut into words -- Chinese with jieba,
English with a word pattern -- and stripped of the shared stopword lists
(``data/stopwords/en.txt``, ``data/stopwords/zh.txt``; provenance in their
headers and ``data/PROVENANCE.md``).  The answers' TF-IDF matrix is
factorised with non-negative matrix factorisation (scikit-learn's ``NMF``,
seeded); each factor is a theme, named by its most characteristic terms.

>>> result = themes(texts, seed=0)                     # doctest: +SKIP
>>> result[["theme", "label", "share"]]                # doctest: +SKIP
>>> result.assignments["theme"]                        # doctest: +SKIP

Which answer belongs to which theme, and which themes are reported
-----------------------------------------------------------------
An answer's theme is the factor with its largest weight, provided at least
:data:`ASSIGN_SHARE` (30%) of the answer's TF-IDF weight lies on that
theme's :data:`TOP_TERMS` top terms; otherwise (and when the answer has no
word of the vocabulary) it has no theme.
A theme is reported when it is the theme of at least ``min_share``
(default :data:`MIN_SHARE`, 5%) of the answers AND its
:data:`COHERENCE_TERMS` top terms are used together more often than chance:
their mean normalised pointwise mutual information (NPMI, Bouma 2009; the
topic-coherence measure of Lau, Newman & Baldwin 2014), computed from their
co-occurrence in the answers, is above 0.  The answers of a theme not
reported have no theme.  So noise -- answers on no common subject, whose
words do not co-occur -- cannot make a theme of its own above ``min_share``.

How the number of themes is chosen (``n_themes=None``)
------------------------------------------------------
Themes are added one at a time, from 2 up to :data:`MAX_THEMES` (at most a
tenth of the answers); the coverage of ``k`` themes is the share of the
answers whose theme is reported.  Adding stops at the first theme that
raises the coverage by less than twice ``min_share`` (10% by default; at
least 2%), and the number before it is kept: a theme that was missing
brings its whole share of the answers, a theme that only splits another
(two wordings of one complaint) brings little.  On simulated answers
(:func:`csmlib.analysis.simulate.simulate_verbatims`: three seeded themes,
20% noise, 500 answers) the rule gives exactly the three seeded themes, each
its own, in 39 of 40 sets (seeds 10-29, English and Chinese; the one miss,
in Chinese, found waiting time and staff attitude but not price).

Words only used with a capital letter (never written in lower case in the
answers: names, places, brands) and Chinese words taken for names
(:func:`_zh_words`) are left out of the vocabulary, so a name cannot become
a theme's term.

Personal data in quotes
-----------------------
:func:`example_quotes` quotes an answer only after masking it, and drops
(never quotes) an answer that after masking still has

* an ``@`` or a number of five digits or more (with or without separators),
  also in Chinese numerals (一三八一二三四五六七八), or an e-mail address with
  its ``@`` and dots spelled out (``bob at example dot com``): an identifier
  the masking may have missed;
* one of the ``names`` given (e.g. the respondents' own name-column values,
  :func:`names_in_file`), in any letter case, as a word (names in Chinese
  characters anywhere);
* an English word with a capital letter inside a sentence (other than "I"
  and a few common words; see :data:`_CAPITALISED_OK`), or a title and name
  ("Mr Smith", "Dr. Lee"), or "my name is", "I am"/"I'm" followed by a
  capitalised word;
* a word that begins with one of the 100 commonest surnames and that
  jieba's dictionary tags as a person name (``nr``) or does not know
  (:func:`_zh_words`), a surname followed by a title
  (王先生, 李女士, 张经理), a surname after 小 / 老 / 阿 (小王, 老李), one of the
  commonest compound surnames (欧阳, 司马, 诸葛, ...) followed by a character, or
  我叫 / 我的名字 / 名叫 / 姓 followed by a character.

What is NOT caught: names written in lower case ("ask for john"); Chinese
names that jieba's dictionary knows as ordinary words or whose surname is
not among the 100 commonest, when they come without a title; names in
Pinyin written in lower case; postal addresses, licence plates and account
numbers shorter than five digits.  Quotes are examples for a report; when a
study's answers are likely to hold such details, quote none (the feedback
notebook's ``n_quotes=0``).
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from dataclasses import dataclass
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..bundled import bundled_dir
from ..errors import DataError
from ..privacy import column_kind, mask_text

__all__ = [
    "COHERENCE_TERMS", "MAX_THEMES", "MIN_SHARE", "TOP_TERMS", "ThemeTable", "detect_language",
    "example_quotes", "names_in_file", "quotable", "stopwords", "theme_scores", "theme_shares", "themes", "tokenize",
    "theme_waves", "theme_change", "THEME_WAVE_COLUMNS", "THEME_CHANGE_COLUMNS",
]

#: Share of the answers a theme must hold to be reported.
MIN_SHARE = 0.05
#: Most themes tried when the number is chosen.
MAX_THEMES = 10
#: Terms listed per theme (and that an answer must use one of to belong to it).
TOP_TERMS = 10
#: Share of an answer's TF-IDF weight that must lie on its theme's top terms.
ASSIGN_SHARE = 0.3
#: Top terms whose co-occurrence measures a theme's coherence.
COHERENCE_TERMS = 8
#: Longest quote (characters, after masking) before it is cut.
QUOTE_LIMIT = 160

_LANGS = ("auto", "en", "zh")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
_MASKED = re.compile(r"<(?:e-mail address|phone number|identity number|IP address) removed>")
# identifiers the masking may have missed: an @, five digits or more with or without separators
_LEFTOVER = re.compile(r"@|\d(?:[\s().\-/]*\d){4,}")
# the same written out: five digits or more in Chinese numerals (一三八一二三四五六七八, 幺 for one in
# phone numbers), and an e-mail address with its @ and dots spelled (bob at example dot com, bob(at)example.com)
_ZH_DIGIT = "〇零一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖"
_LEFTOVER_SPELLED = re.compile(
    rf"[{_ZH_DIGIT}](?:[\s\-]*[{_ZH_DIGIT}]){{4,}}"
    r"|(?:\bat\b|[(\[]at[)\]])\s*[\w\-]+(?:\s*(?:\bdot\b|[(\[]dot[)\]]|\.)\s*[\w\-]+)*?"
    r"\s*(?:\bdot\b|[(\[]dot[)\]]|\.)\s*(?:com|net|org|edu|gov|info|io|cn|hk|tw|uk|de|fr)\b",
    re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？;:\n]\s*|[\"'(]\s*)$")
_CAPITALISED_OK = {"I", "I'm", "I've", "I'd", "I'll", "OK", "Ok", "TV", "App", "APP", "PIN", "SMS", "VIP",
                   "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
                   "January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December", "English", "Chinese"}
_EN_NAME_CUE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\b\.?\s+[A-Z]"
    r"|\b(?:my name is|name's|i am|i'm|this is|signed|regards|thanks|thank you),?\s+[A-Z][a-z]",
    re.IGNORECASE)
# a common surname followed by a title, or "my name is" / "surname ..."
_ZH_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_ZH_NAME_CUE = re.compile(
    rf"[{_ZH_SURNAMES}](?:先生|女士|小姐|老师|经理|师傅|主任|总|工|同学|阿姨|大哥|姐)"
    r"|我叫|我的名字|名叫|姓[\u4e00-\u9fff]"
    # 小王, 老李, 阿张: a surname after 小 / 老 / 阿 (not 小于 "less than", 小程序, 小/老毛病, 小龙虾)
    rf"|(?!小于|小程序|[小老]毛病|小龙虾)[小老阿][{_ZH_SURNAMES}]"
    # the commonest compound surnames followed by a given name
    r"|(?:欧阳|司马|诸葛|慕容|令狐|皇甫|尉迟|公孙|夏侯|长孙|宇文|司徒|端木|独孤|申屠|澹台)[\u4e00-\u9fff]")


# ------------------------------------------------------------------ words
@lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    """The shared stopword list of ``lang`` (``"en"`` or ``"zh"``).

    Returns
    -------
    frozenset of str
        The words of ``data/stopwords/<lang>.txt`` (English lower-cased).
    """
    if lang not in ("en", "zh"):
        raise DataError(f"there is no stopword list for language {lang!r}", values=[lang],
                        hint="use 'en' or 'zh'")
    path = bundled_dir("data") / "stopwords" / f"{lang}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    """jieba's part-of-speech segmenter (its word tags) on its default
    dictionary, built in memory: no cache file is read or written (jieba's own start writes one
    into the temporary folder and logs to stderr), so segmenting is quiet
    and the same on every machine."""
    import jieba
    import jieba.posseg

    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as f:
        tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(f)
    tokenizer.initialized = True
    return jieba.posseg.POSTokenizer(tokenizer)


def _zh_words(text: str) -> list[tuple[str, bool]]:
    """jieba's words of ``text`` (its default dictionary and HMM for unknown
    words), each with whether it is taken for a person's name: two to four
    characters beginning with one of the 100 commonest surnames
    (:data:`_ZH_SURNAMES`) that the dictionary tags as a name (``nr``) or
    does not know (jieba's HMM finds names as unknown words).  Cheaper than
    jieba's part-of-speech tagger, and stricter: that one also tags ordinary
    words such as 太贵 as names."""
    seg = _segmenter()
    tags = seg.word_tag_tab
    out = []
    for word in seg.tokenizer.cut(text):
        tag = tags.get(word)
        name = 2 <= len(word) <= 4 and word[0] in _ZH_SURNAMES and _CJK.fullmatch(word[1]) is not None \
            and (tag is None or tag.startswith("nr"))
        out.append((word, name))
    return out


def detect_language(text: str) -> str:
    """``"zh"`` when at least a quarter of the letters of ``text`` are Chinese
    characters, else ``"en"``."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk >= 0.25 * (cjk + latin) else "en"


def _normalise(text: str) -> str:
    """NFKC (full-width letters and digits as ASCII) with masked identifiers
    removed, and with what the masking does not see but :func:`quotable`
    refuses: numbers in Chinese numerals, e-mail addresses spelled out, and
    Chinese names with a title or after 小 / 老 / 阿 (a phone number in
    Chinese numerals left in many answers became a theme's terms)."""
    plain = _MASKED.sub(" ", unicodedata.normalize("NFKC", mask_text(text)))
    return _ZH_NAME_CUE.sub(" ", _LEFTOVER_SPELLED.sub(" ", plain))


def _en_words(text: str) -> list[tuple[str, bool]]:
    """English words of ``text`` with whether each is capitalised."""
    return [(w.lower().strip("'"), w[0].isupper()) for w in _EN_WORD.findall(text)]


def tokenize(text: str, lang: str = "auto") -> list[str]:
    """The words of one answer that can name a theme.

    The text is masked (:func:`csmlib.privacy.mask_text`) first; Chinese is
    segmented with jieba (person names, tagged ``nr``, left out), English
    split into words of letters and lower-cased; stopwords, one-letter
    English words and numbers are dropped.

    Parameters
    ----------
    text : str
        One answer.
    lang : {"auto", "en", "zh"}
        Its language; ``"auto"`` decides per text (:func:`detect_language`).

    Returns
    -------
    list of str
    """
    return _tokens(text, lang)[0]


def _tokens(text: str, lang: str) -> tuple[list[str], set[str], set[str]]:
    """(tokens, English words seen capitalised, words seen in lower case or
    tagged as names) of one answer."""
    clean = _normalise(text)
    if lang == "auto":
        lang = detect_language(clean)
    en_stop, zh_stop = stopwords("en"), stopwords("zh")
    tokens: list[str] = []
    capitalised: set[str] = set()
    lower: set[str] = set()
    if lang == "zh":
        for word, is_name in _zh_words(clean):
            word = word.strip()
            if not word or is_name:
                continue
            if _CJK.search(word):
                if word not in zh_stop:
                    tokens.append(word)
            elif _LATIN.search(word):
                for w, cap in _en_words(word):
                    (capitalised if cap else lower).add(w)
                    if len(w) > 1 and w not in en_stop:
                        tokens.append(w)
    else:
        for w, cap in _en_words(clean):
            (capitalised if cap else lower).add(w)
            if len(w) > 1 and w not in en_stop:
                tokens.append(w)
    return tokens, capitalised, lower


# ----------------------------------------------------------------- themes
class ThemeTable(pd.DataFrame):
    """The themes found in a set of answers: a DataFrame (one row per theme)
    that also carries the answers' assignments.

    Attributes
    ----------
    assignments : DataFrame
        One row per answer, indexed like the texts given: ``lang`` (``"en"``,
        ``"zh"``, or ``None`` for an empty answer), ``theme`` (``Int64``, <NA>
        for no theme), ``weight`` (the answer's normalised weight on its
        theme, 0-1).
    n_themes_rule : str
        How the number of themes was chosen.
    tried : DataFrame
        ``k, coverage, n_reported`` of every number of themes tried: the
        share of the answers whose theme is reported, and how many themes are.
    """

    _metadata = ["assignments", "n_themes_rule", "tried"]

    @property
    def _constructor(self) -> type[ThemeTable]:
        return ThemeTable


_THEME_COLUMNS = ["theme", "label", "terms", "lang", "n", "share", "coherence"]


def _check_texts(texts: Any) -> pd.Series:
    if isinstance(texts, pd.DataFrame):
        raise DataError("themes() takes one column of answers, not a table",
                        hint="pass the text column, e.g. survey.data['comment']")
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise DataError(f"the answers must be a list or Series of texts, got {type(texts).__name__}",
                        hint="pass the text column, e.g. survey.data['comment']")
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts))
    if series.index.has_duplicates:
        raise DataError("the answers' index has duplicated labels, so assignments could not be "
                        "matched back to respondents", hint="reset the index or use respondent ids")
    bad = [i for i, v in series.items() if not (isinstance(v, str) or v is None
                                                 or (isinstance(v, float) and math.isnan(v)))]
    if bad:
        raise DataError(f"{len(bad)} answer(s) are not text (first at index {bad[0]!r})",
                        column=str(series.name) if series.name is not None else None,
                        hint="a text item holds strings; leave an unanswered question empty")
    return series.map(lambda v: v if isinstance(v, str) else "")


def _npmi(terms: np.ndarray, present: Any, n_docs: int) -> np.ndarray:
    """Normalised pointwise mutual information (Bouma 2009) of every pair of
    the term columns ``terms`` of the binary answer-term matrix ``present``:
    -1 for terms never used together, 0 for independent use, 1 for terms
    always used together."""
    sub = present[:, terms]
    p = np.asarray(sub.sum(axis=0)).ravel().astype(float) / n_docs
    p_ij = np.asarray((sub.T @ sub).todense(), dtype=float) / n_docs
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(p_ij / np.outer(p, p))
        out = np.where(p_ij >= 1, 1.0, pmi / -np.log(p_ij))
    return np.where(p_ij > 0, out, -1.0)


def _coherence(top: np.ndarray, present: Any, n_docs: int) -> float:
    """Mean NPMI of all pairs of the terms ``top``."""
    if len(top) < 2:
        return float("nan")
    m = _npmi(top, present, n_docs)
    return float(m[np.triu_indices(len(top), 1)].mean())


def _factorise(matrix: Any, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000, tol=1e-5)
    with warnings.catch_warnings():
        # after 1000 iterations the factors are settled enough to name themes by their top
        # terms; sklearn's warning that the tolerance was not reached says nothing to a reader
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = model.fit_transform(matrix)
    return w, model.components_


@dataclass
class _Fit:
    """One factorisation into ``k`` themes and the themes it reports."""

    k: int
    w: np.ndarray
    top: list[np.ndarray]
    main: np.ndarray
    assigned: np.ndarray
    counts: np.ndarray
    coherence: np.ndarray
    keep: list[int]

    @property
    def coverage(self) -> float:
        """Share of the answers whose theme is reported."""
        return float(self.counts[self.keep].sum() / len(self.main)) if self.keep else 0.0


def _fit(matrix: Any, present: Any, k: int, seed: int, min_share: float) -> _Fit:
    """Factorise into ``k`` themes; assign answers; keep the themes that hold
    at least ``min_share`` of the answers and whose top terms co-occur more
    often than chance (NPMI > 0)."""
    n_docs = matrix.shape[0]
    w, h = _factorise(matrix, k, seed)
    top = [np.argsort(-row, kind="stable")[:TOP_TERMS] for row in h]
    top = [t[h[j, t] > 0] for j, t in enumerate(top)]
    main = np.argmax(w, axis=1)
    is_top = np.zeros((h.shape[1], k))
    for j, t in enumerate(top):
        is_top[t, j] = 1.0
    on_top = np.asarray(matrix @ is_top)[np.arange(n_docs), main]
    mass = np.asarray(matrix.sum(axis=1)).ravel()
    assigned = (w.sum(axis=1) > 0) & (on_top >= ASSIGN_SHARE * mass) & (mass > 0)
    counts = np.bincount(main[assigned], minlength=k)
    coherence = np.array([_coherence(t[:COHERENCE_TERMS], present, n_docs) for t in top])
    keep = [int(j) for j in np.argsort(-counts, kind="stable")
            if counts[j] > 0 and counts[j] >= min_share * n_docs and coherence[j] > 0]
    return _Fit(k, w, top, main, assigned, counts, coherence, keep)


def themes(texts: Sequence[str] | pd.Series, lang: str = "auto", n_themes: int | None = None,
           seed: int = 0, *, min_share: float = MIN_SHARE, names: Iterable[str] = ()) -> ThemeTable:
    """Group verbatim answers into themes (TF-IDF and NMF, seeded).

    Parameters
    ----------
    texts : sequence of str or Series
        The answers (empty or missing: no answer); a Series keeps its index
        in :attr:`ThemeTable.assignments`.
    lang : {"auto", "en", "zh"}
        Language of the answers; ``"auto"`` decides per answer, so Chinese and
        English answers can be mixed.
    n_themes : int, optional
        Number of themes to fit; None chooses it by topic coherence (see the
        module docstring).
    seed : int
        Seed of the factorisation: the same answers and seed give the same
        themes.
    min_share : float
        Themes holding fewer of the answers are not reported (0 keeps all).
    names : iterable of str
        Names (e.g. of the respondents) never to use as terms.

    Returns
    -------
    ThemeTable
        One row per theme, largest first: ``theme`` (1, 2, ...), ``label``
        (its three top terms), ``terms`` (list of str, most characteristic
        first, up to :data:`TOP_TERMS`), ``lang`` (language of most of its
        answers), ``n`` (answers with this theme), ``share`` (of the answers
        given), ``coherence`` (NPMI of its top terms).  ``.assignments`` has
        each answer's theme.

    Raises
    ------
    DataError
        When the answers are not texts, ``lang`` or ``n_themes`` is invalid,
        or too few answers share words to find themes in.
    """
    if lang not in _LANGS:
        raise DataError(f"unknown language {lang!r}", values=[lang], hint="use 'auto', 'en' or 'zh'")
    if n_themes is not None and (isinstance(n_themes, bool) or not isinstance(n_themes, (int, np.integer))
                                 or n_themes < 1):
        raise DataError(f"n_themes must be a positive whole number or None, got {n_themes!r}",
                        hint="leave n_themes=None to choose it by coherence")
    if not 0 <= min_share < 1:
        raise DataError(f"min_share must lie in [0, 1), got {min_share!r}")
    series = _check_texts(texts)
    answered = series.str.strip() != ""
    langs = pd.Series([None] * len(series), index=series.index, dtype=object)
    docs: dict[Any, list[str]] = {}
    capitalised: set[str] = set()
    lower: set[str] = set()
    for i, text in series[answered].items():
        one = detect_language(_normalise(text)) if lang == "auto" else lang
        langs[i] = one
        docs[i], cap, low = _tokens(text, one)
        capitalised |= cap
        lower |= low
    if len(docs) < 10:
        raise DataError(f"only {len(docs)} answer(s) were given; themes need at least 10",
                        hint="collect more answers, or read them yourself")
    # words only ever written with a capital (names, places, brands) and given names are no terms
    banned = (capitalised - lower) | {t for n in names for t in re.split(r"\s+", str(n).lower()) if t}
    theme_col = pd.Series(pd.NA, index=series.index, dtype="Int64")
    weight_col = pd.Series(np.nan, index=series.index)
    rows, tried, rules = [], [], []
    for one in sorted(set(langs.dropna())):
        index = langs.index[(langs == one).to_numpy()]
        if len(index) < 10:
            continue   # too few answers in this language to find themes in
        found = _themes_of(index, [[t for t in docs[i] if t not in banned] for i in index],
                           n_themes, seed, min_share)
        if found is None:
            continue
        fit, vocab, rule = found
        rules.append(f"{one}: {rule}")
        tried += [{"lang": one, "k": f.k, "coverage": f.coverage, "n_reported": len(f.keep)}
                  for f in (fit if n_themes is not None else fit[:-1])]
        chosen = fit[-1]
        totals = chosen.w.sum(axis=1)
        main = chosen.main
        weight = np.where(totals > 0, chosen.w[np.arange(len(index)), main] / np.where(totals > 0, totals, 1),
                          np.nan)
        for j in chosen.keep:
            members = chosen.assigned & (main == j)
            terms = [str(t) for t in vocab[chosen.top[j]]]
            key = (one, j)
            theme_col[index[members]] = -len(rows) - 1    # numbered by share below
            weight_col[index[members]] = weight[members]
            rows.append({"key": key, "label": " / ".join(terms[:3]), "terms": terms, "lang": one,
                         "n": int(members.sum()), "share": members.sum() / len(docs),
                         "coherence": float(chosen.coherence[j])})
    if not rows and not tried:
        raise DataError(f"no word is used in two or more of the {len(docs)} answers (of one language), so "
                        "there are no themes to find", hint="check the text column and its language")
    order = sorted(range(len(rows)), key=lambda r: (-rows[r]["n"], rows[r]["lang"], r))
    renumber = {-r - 1: new + 1 for new, r in enumerate(order)}
    theme_col = theme_col.map(lambda v: renumber[int(v)] if pd.notna(v) else pd.NA).astype("Int64")
    table = pd.DataFrame([{**rows[r], "theme": new + 1} for new, r in enumerate(order)],
                         columns=["key", *_THEME_COLUMNS]).drop(columns="key")
    out = ThemeTable(table)
    out.assignments = pd.DataFrame({"lang": langs, "theme": theme_col, "weight": weight_col})
    out.n_themes_rule = "; ".join(rules)
    out.tried = pd.DataFrame(tried, columns=["lang", "k", "coverage", "n_reported"])
    return out


def _themes_of(index: pd.Index, docs: list[list[str]], n_themes: int | None, seed: int,
               min_share: float) -> tuple[list[_Fit], np.ndarray, str] | None:
    """The factorisations tried on the answers of one language (the chosen
    one last), the vocabulary and the rule, or None when no word is shared."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    n_docs = len(docs)
    min_df = max(2, math.ceil(0.005 * n_docs))
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, min_df=min_df, max_df=0.95, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:
        return None
    vocab = np.asarray(vectorizer.get_feature_names_out(), dtype=object)
    if len(vocab) < 2:
        return None
    present = sparse.csr_matrix((matrix > 0).astype(float))
    if n_themes is not None:
        return [_fit(matrix, present, int(min(n_themes, len(vocab))), seed, min_share)], vocab, \
            f"given (n_themes={n_themes})"
    k_max = max(2, min(MAX_THEMES, len(vocab) - 1, n_docs // 10))
    step = max(2 * min_share, 0.02)
    fits = [_fit(matrix, present, 2, seed, min_share)]
    while fits[-1].k < k_max:
        fits.append(_fit(matrix, present, fits[-1].k + 1, seed, min_share))
        if fits[-1].coverage < fits[-2].coverage + step:
            fits.append(fits[-2])   # the last one that was worth it, last
            break
    rule = (f"chosen by coverage: themes added one at a time (from 2, at most {k_max}) while one more "
            f"theme gives a theme to at least {step:.0%} more of the answers; {fits[-1].k} themes")
    return fits, vocab, rule


# ------------------------------------------------------ what comes with them
def _aligned(result: ThemeTable, values: pd.Series, what: str) -> pd.Series:
    if not isinstance(result, ThemeTable):
        raise DataError("expected the result of csm.feedback.themes()", hint="call themes(texts) first")
    if not isinstance(values, pd.Series):
        raise DataError(f"the {what} must be a Series indexed like the answers",
                        hint="pass a column of the same frame as the texts")
    missing = result.assignments.index.difference(values.index)
    if len(missing):
        raise DataError(f"{len(missing)} answer(s) have no {what} (the {what} are not indexed like "
                        "the answers)", hint="pass a column of the same frame as the texts")
    return values.loc[result.assignments.index]


def theme_shares(result: ThemeTable, groups: pd.Series, *, min_base: int = 30) -> pd.DataFrame:
    """Share of each group's answers (segment, wave) that has each theme.

    Parameters
    ----------
    result : ThemeTable
        From :func:`themes`.
    groups : Series
        Each answer's group, indexed like the answers.
    min_base : int
        Groups with fewer answers get no shares (NaN, ``suppressed`` True).

    Returns
    -------
    DataFrame
        One row per group and theme: ``group``, ``theme``, ``label``, ``n``
        (answers in the group), ``n_theme`` (of them with the theme; NaN when
        suppressed), ``share``, ``suppressed``.
    """
    g = _aligned(result, groups, "groups")
    a = result.assignments
    answered = a["lang"].notna().to_numpy()
    rows = []
    for value in pd.unique(g[answered].dropna()):
        members = answered & (g == value).to_numpy()
        n = int(members.sum())
        for _, t in result.iterrows():
            hits = int((a["theme"][members] == t["theme"]).fillna(False).sum())
            small = n < min_base
            rows.append({"group": value, "theme": int(t["theme"]), "label": t["label"], "n": n,
                         "n_theme": np.nan if small else hits,
                         "share": np.nan if small else hits / n, "suppressed": small})
    return pd.DataFrame(rows, columns=["group", "theme", "label", "n", "n_theme", "share", "suppressed"])


#: Columns of the wave-over-wave frame (:func:`theme_waves`).
THEME_WAVE_COLUMNS = ["wave", "theme", "label", "terms", "n", "n_theme", "share"]
#: Columns of the change of theme shares between two waves (:func:`theme_change`).
THEME_CHANGE_COLUMNS = ["theme", "label", "wave_a", "wave_b", "n_a", "n_b", "share_a", "share_b", "diff", "se",
                        "ci_lower", "ci_upper", "pvalue", "pvalue_adj", "suppressed"]
#: How :func:`theme_waves` writes a theme's terms in one cell.
TERM_SEP = " \u00b7 "


def theme_waves(result: ThemeTable, wave: str, previous: pd.DataFrame | None = None, *,
                min_overlap: float = 0.3, max_rows: int = 200) -> pd.DataFrame:
    """This wave's themes beside the earlier waves', each matched to the
    theme of an earlier wave it continues.

    Every wave finds its own themes (:func:`themes` on its own answers), so a
    theme of this wave is the same theme as an earlier one when their top
    terms overlap: Jaccard index of the two term sets (each up to
    :data:`TOP_TERMS`) at least ``min_overlap``, each earlier theme
    continued by at most one theme of this wave (pairs taken from the largest
    overlap down).  An earlier theme's latest terms count.  A theme that
    continues none is new, named by its label.

    Parameters
    ----------
    result : ThemeTable
        This wave's themes (:func:`themes`).
    wave : str
        This wave's label.
    previous : DataFrame, optional
        The frame this function returned for the previous wave (recorded
        by the previous wave's run); None or empty for the first wave.  Its
        rows of ``wave`` (a re-run) are replaced.
    min_overlap : float
        Smallest Jaccard index of the top terms that makes two themes one.
    max_rows : int
        Keep at most this many rows, the oldest waves dropped first.

    Returns
    -------
    DataFrame
        Columns :data:`THEME_WAVE_COLUMNS`: ``wave``, ``theme`` (the name the
        theme is tracked under: its label in the wave it first appeared),
        ``label`` (its label in that wave), ``terms`` (its top terms joined
        by :data:`TERM_SEP`), ``n`` (answers given in the wave), ``n_theme``
        (answers with the theme), ``share``; earlier waves first.
    """
    from .tracking import append_wave

    if not isinstance(result, ThemeTable):
        raise DataError("expected the result of csm.feedback.themes()", hint="call themes(texts) first")
    if not 0 < min_overlap <= 1:
        raise DataError(f"min_overlap must lie in (0, 1], got {min_overlap!r}")
    wave = str(wave)
    before = pd.DataFrame(columns=THEME_WAVE_COLUMNS) if previous is None else pd.DataFrame(previous)
    missing = [c for c in THEME_WAVE_COLUMNS if c not in before.columns]
    if missing:
        raise DataError("the previous waves' themes lack columns", column=missing,
                        hint="pass the frame recorded as 'theme_waves' by the previous wave's run")
    before = before[before["wave"].astype(str) != wave]
    latest = before.drop_duplicates("theme", keep="last")
    earlier = {str(k): set(str(t).split(TERM_SEP)) for k, t in zip(latest["theme"], latest["terms"])}
    mine = [set(terms) for terms in result["terms"]]
    pairs = sorted(((len(a & b) / len(a | b), i, k) for i, a in enumerate(mine) for k, b in earlier.items()
                    if a | b), key=lambda x: (-x[0], x[1], x[2]))
    name: dict[int, str] = {}
    for overlap, i, k in pairs:
        if overlap >= min_overlap and i not in name and k not in name.values():
            name[i] = k
    taken = set(earlier)
    n = int(result.assignments["lang"].notna().sum())
    rows = []
    for i, (_, t) in enumerate(result.iterrows()):
        if i not in name:   # a new theme: its label, told apart from an earlier theme's name
            name[i] = t["label"] if t["label"] not in taken else f"{t['label']} ({wave})"
            taken.add(name[i])
        rows.append({"wave": wave, "theme": name[i], "label": t["label"], "terms": TERM_SEP.join(t["terms"]),
                     "n": n, "n_theme": int(t["n"]), "share": float(t["n"]) / n if n else np.nan})
    current = pd.DataFrame(rows, columns=THEME_WAVE_COLUMNS)
    return append_wave(before if len(before) else None, current, max_rows=max_rows)


def theme_change(frame: pd.DataFrame, *, level: float = 0.95, min_base: int = 30,
                 multiplicity: str = "holm") -> pd.DataFrame:
    """Change of each theme's share from the wave before the last to the last
    wave of :func:`theme_waves`.

    The two waves' answers are independent samples; the difference of the
    shares has the Wald standard error ``sqrt(p_a (1 - p_a) / n_a + p_b (1 -
    p_b) / n_b)``, a normal interval and a two-sided z test.  The shares are
    of the answers each wave's theme model assigns to the theme, so a change
    may also come from the models seeing the theme a little differently:
    read small changes with care.  A theme found in only one of the two waves
    has no share in the other (NaN: its answers were not a theme of their
    own), not a share of zero.

    Parameters
    ----------
    frame : DataFrame
        From :func:`theme_waves`.
    level : float
        Confidence level of the interval.
    min_base : int
        A wave with fewer answers gives no shares and no test (``suppressed``).
    multiplicity : {"holm", "fdr_bh", "none"}
        Adjustment of the family of the themes' tests
        (:func:`csmlib.analysis.multiplicity.adjust_pvalues`).

    Returns
    -------
    DataFrame
        Columns :data:`THEME_CHANGE_COLUMNS`, one row per theme of either
        wave (the last wave's first, by share): ``theme``, ``label`` (the
        latest), ``wave_a``, ``wave_b``, ``n_a``, ``n_b`` (answers given),
        ``share_a``, ``share_b``, ``diff`` (b - a), ``se``, ``ci_lower``,
        ``ci_upper``, ``pvalue``, ``pvalue_adj`` (adjusted for the number of
        themes tested), ``suppressed``.  No rows with fewer than two waves.
    """
    from .metrics import _z
    from .multiplicity import adjust_pvalues, check_multiplicity

    check_multiplicity(multiplicity)
    missing = [c for c in THEME_WAVE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError("the themes by wave lack columns", column=missing,
                        hint="pass the frame returned by feedback.theme_waves")
    z = _z(level)
    waves = list(dict.fromkeys(frame["wave"].astype(str)))
    if len(waves) < 2:
        return pd.DataFrame(columns=THEME_CHANGE_COLUMNS)
    wave_a, wave_b = waves[-2], waves[-1]
    a = frame[frame["wave"].astype(str) == wave_a].set_index("theme")
    b = frame[frame["wave"].astype(str) == wave_b].set_index("theme")
    n_a, n_b = int(a["n"].max()) if len(a) else 0, int(b["n"].max()) if len(b) else 0
    small = n_a < min_base or n_b < min_base
    rows = []
    for theme in [*b.sort_values("share", ascending=False).index, *[t for t in a.index if t not in b.index]]:
        pa = float(a.loc[theme, "share"]) if theme in a.index and not small else np.nan
        pb = float(b.loc[theme, "share"]) if theme in b.index and not small else np.nan
        se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b) if pa == pa and pb == pb else np.nan
        diff = pb - pa
        row = {"theme": theme, "label": (b if theme in b.index else a).loc[theme, "label"],
               "wave_a": wave_a, "wave_b": wave_b, "n_a": n_a, "n_b": n_b, "share_a": pa, "share_b": pb,
               "diff": diff, "se": se, "ci_lower": diff - z * se, "ci_upper": diff + z * se,
               "pvalue": 2 * stats.norm.sf(abs(diff / se)) if se > 0 else np.nan, "suppressed": small}
        rows.append(row)
    out = pd.DataFrame(rows, columns=THEME_CHANGE_COLUMNS)
    out["pvalue_adj"] = adjust_pvalues(out["pvalue"].to_numpy(float), multiplicity)
    return out


def theme_scores(result: ThemeTable, scores: pd.Series, *, min_base: int = 30,
                 level: float = 0.95) -> pd.DataFrame:
    """Mean score (e.g. satisfaction, 0-100) of the respondents whose answer
    has each theme, against those whose answer has not.

    Parameters
    ----------
    result : ThemeTable
        From :func:`themes`.
    scores : Series
        Each respondent's score, indexed like the answers (NaN: no score).
    min_base : int
        Themes with fewer scored answers get no estimates (``suppressed``).
    level : float
        Confidence level of the interval of the mean.

    Returns
    -------
    DataFrame
        One row per theme: ``theme``, ``label``, ``n`` (scored answers with
        the theme), ``mean``, ``ci_lower``, ``ci_upper`` (t interval),
        ``others_mean`` (scored answers without it), ``diff`` (mean -
        others_mean), ``pvalue`` (Welch's t-test), ``suppressed``.
    """
    s = pd.to_numeric(_aligned(result, scores, "scores"), errors="coerce").to_numpy(dtype=float)
    a = result.assignments
    answered = a["lang"].notna().to_numpy() & np.isfinite(s)
    rows = []
    for _, t in result.iterrows():
        has = answered & (a["theme"] == t["theme"]).fillna(False).to_numpy()
        x, y = s[has], s[answered & ~has]
        n = len(x)
        row = {"theme": int(t["theme"]), "label": t["label"], "n": n, "mean": np.nan, "ci_lower": np.nan,
               "ci_upper": np.nan, "others_mean": np.nan, "diff": np.nan, "pvalue": np.nan,
               "suppressed": n < min_base}
        if n >= max(min_base, 2):
            half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
            row.update(mean=x.mean(), ci_lower=x.mean() - half, ci_upper=x.mean() + half)
            if len(y) >= 2:
                row.update(others_mean=y.mean(), diff=x.mean() - y.mean(),
                           pvalue=float(stats.ttest_ind(x, y, equal_var=False).pvalue))
        rows.append(row)
    return pd.DataFrame(rows, columns=["theme", "label", "n", "mean", "ci_lower", "ci_upper",
                                       "others_mean", "diff", "pvalue", "suppressed"])


def _capitalised_inside(text: str) -> bool:
    for m in _EN_WORD.finditer(text):
        word = m.group(0)
        if not word[0].isupper() or word in _CAPITALISED_OK or len(word) == 1:
            continue
        if not _SENTENCE_START.search(text[:m.start()]):
            return True
    return False


def _mentions(text: str, name: Any) -> bool:
    """``text`` holds ``name`` (any letter case): as a word, or anywhere for
    a name in Chinese characters (Chinese is written without spaces)."""
    name = unicodedata.normalize("NFKC", str(name)).strip().casefold()
    if not name:
        return False
    folded = text.casefold()
    if _CJK.search(name):
        return name in folded
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded) is not None


def quotable(text: str, names: Iterable[str] = (), *, limit: int = QUOTE_LIMIT) -> str | None:
    """An answer made fit to quote in a report, or None when it may not be quoted.

    The answer is masked (:func:`csmlib.privacy.mask_text`); it is refused
    when the masked text still holds an identifier or a name as far as the
    checks of the module docstring can tell, and cut after ``limit``
    characters.

    Parameters
    ----------
    text : str
        One answer.
    names : iterable of str
        Names that may not appear (any letter case).
    limit : int
        Longest quote.

    Returns
    -------
    str or None
    """
    if not isinstance(text, str) or not text.strip():
        return None
    masked = " ".join(mask_text(text).split())
    plain = unicodedata.normalize("NFKC", masked)     # full-width letters and digits as ASCII
    unmasked = _MASKED.sub(" ", plain)
    if _LEFTOVER.search(unmasked) or _LEFTOVER_SPELLED.search(unmasked):
        return None
    if any(_mentions(plain, n) for n in names):
        return None
    if _EN_NAME_CUE.search(plain) or _ZH_NAME_CUE.search(plain) or _capitalised_inside(plain):
        return None
    if _CJK.search(plain) and any(is_name for _, is_name in _zh_words(plain)):
        return None
    return masked if len(masked) <= limit else masked[:limit].rstrip() + "..."


def example_quotes(result: ThemeTable, texts: Sequence[str] | pd.Series, *, n: int = 3,
                   names: Iterable[str] = (), limit: int = QUOTE_LIMIT) -> pd.DataFrame:
    """Up to ``n`` quotable answers per theme, the most typical first.

    The answers of a theme are taken in order of their weight on it; each is
    passed through :func:`quotable` (masked; refused when it may still hold
    an identifier or a name) and the first ``n`` that pass are kept.

    Parameters
    ----------
    result : ThemeTable
        From :func:`themes` on the same texts.
    texts : sequence of str or Series
        The answers given to :func:`themes`.
    n : int
        Quotes per theme (0: none).
    names : iterable of str
        Names that may not be quoted (e.g. :func:`names_in_file`).
    limit : int
        Longest quote.

    Returns
    -------
    DataFrame
        ``theme``, ``label``, ``quote`` (masked text), one row per quote.
    """
    series = _check_texts(texts)
    if not series.index.equals(result.assignments.index):
        raise DataError("the texts are not the ones the themes were found in (their index differs)",
                        hint="pass the same texts as to themes()")
    names = [str(x) for x in names if isinstance(x, str) and x.strip()]
    a = result.assignments
    rows = []
    for _, t in result.iterrows():
        members = a[(a["theme"] == t["theme"]).fillna(False).to_numpy()]
        order = members["weight"].sort_values(ascending=False, kind="stable").index
        got = 0
        for i in order:
            if got >= n:
                break
            q = quotable(series[i], names, limit=limit)
            if q is not None:
                rows.append({"theme": int(t["theme"]), "label": t["label"], "quote": q})
                got += 1
    return pd.DataFrame(rows, columns=["theme", "label", "quote"])


def names_in_file(path: str | Any, instrument: Any, *, sheet: str | int | None = None,
                  encoding: str | None = None) -> set[str]:
    """The respondents' own names (and other declared personal data) in a
    survey file, to keep out of quotes and terms (``names=`` of
    :func:`themes` and :func:`example_quotes`).

    :func:`csmlib.read_survey` drops personal-data columns at load, so they
    are read here from the raw file, held only in memory and never returned
    into anything recorded: every value of the instrument's ``pii_columns``
    and of the columns whose name says they hold names
    (:func:`csmlib.privacy.column_kind`), and each word (two letters or
    more) of the values of name columns.

    Parameters
    ----------
    path : path-like
        The survey file (as given to ``read_survey``).
    instrument : Instrument
        Its instrument.
    sheet, encoding
        As for ``read_survey``.

    Returns
    -------
    set of str
    """
    from pathlib import Path

    from ..data.readers import detect_format, read_raw

    path = Path(path)
    if not path.is_file():
        raise DataError("survey file not found", file=str(path), hint="check the path")
    raw = path.read_bytes()
    table = read_raw(path, raw, detect_format(path, raw), sheet=sheet, encoding=encoding)
    frame = table.frame
    declared = [c for c in instrument.pii_columns if c in frame.columns]
    named = [c for c in frame.columns if column_kind(c) == "names"]
    out: set[str] = set()
    for col in dict.fromkeys(declared + named):
        for v in frame[col].dropna().to_numpy(dtype=object):
            text = str(v).strip()
            if not text:
                continue
            out.add(text)
            if col in named or column_kind(col) == "names":
                out.update(w for w in re.split(r"[\s,;]+", text) if len(w) >= 2)
    table.frame = frame.iloc[:0]
    return out
