"""Personal data: which columns hold it, and the one masking function.

Survey exports often carry columns the instrument does not declare as
personal data (``pii_columns``): a respondent's e-mail in a "contact"
column, a phone number, the IP address a web survey logged, a Chinese
mobile number in a 手机 column.  This module

* finds such columns by their name and by their content
  (:func:`detect_personal_columns`), so that
  :func:`csmlib.data.survey.read_survey` drops them at load like the
  declared ones, and role columns (id, wave, segment) holding them are
  refused (:func:`check_role_column`);
* holds the ONE list of column names that say "personal data"
  (:func:`column_kind`), also used by :mod:`csmlib.report.record` to refuse
  recorded tables with such columns;
* masks every value quoted from data into anything recorded -- error
  messages (which reach executed notebooks, run records and study
  summaries), run records, summaries (:func:`mask_text`, :func:`quote`).

What is recognised (and masked)
-------------------------------
* e-mail addresses;
* phone numbers written with a leading ``+``/``00``/``(`` or with
  separators between digit groups (``+44 20 7946 0958``, ``(555) 123-4567``,
  ``079 123 45 67``), 7 to 15 digits -- but not years or months that run
  forward (``2026-2027``, ``12/2025 - 03/2026``: a period), thousands in
  groups of three after one or two digits (``1 200 000``), decimals listed
  with slashes (``0.80/0.90``), or a standard's number after its body
  (``GB/T 19038-2009``);
* Chinese mobile numbers: ``1[3-9]`` and 9 more digits, with or without
  ``+86``/``0086``/``86`` and spaces or dashes (``13812345678``, ``+86 138-1234-5678``,
  ``8613812345678``);
* all of these also when written in full-width characters (``１３８１２３４５６７８``,
  ``ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ``), as Chinese input methods type them; e-mail
  addresses also with letters of any script (``张伟@qq.com``);
* Chinese landlines ``0xx-xxxxxxxx`` / ``0xxx-xxxxxxx`` (area code, separator);
* Chinese resident identity numbers: 18 digits (the last may be ``X``)
  whose ISO 7064 MOD 11-2 check digit is right, and the old 15-digit form
  (digits 7-12 a date ``YYMMDD``);
* IPv4 and IPv6 addresses (not a dotted version number after a ``v``: ``v2.0.1.3``);
* any value quoted from a column whose *name* says it holds personal data
  (names, addresses, birth dates, identity numbers, messenger ids ...; see
  :data:`PII_NAME_PATTERNS`), whatever it looks like: :func:`quote` with
  ``column=`` masks it whole.

What is NOT recognised
----------------------
Personal names (Western or Chinese) and street addresses written in free
text cannot be told from other words reliably and are *not* masked when
they appear in a free-text answer; phone numbers written without any
separator or prefix (``02079460958``, except Chinese mobiles) are not
told from other numbers.  Keep such text out of item columns, and declare
free-text columns in ``pii_columns``.

Only column names and the kind of data are ever recorded, never a value.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CONTENT_SHARE",
    "INVISIBLE_CATEGORIES",
    "PII_NAME_PATTERNS",
    "check_role_column",
    "classify_value",
    "column_kind",
    "detect_personal_columns",
    "is_identifier_name",
    "is_invisible",
    "mask_text",
    "mask_value",
    "quote",
    "show_invisible",
]

#: Share of a column's non-empty cells that must look personal to flag it by content.
CONTENT_SHARE = 0.5

#: Longest quoted value (characters, after masking) before it is cut.
QUOTE_LIMIT = 80

# bounded repetitions (RFC 5321 lengths), so scanning long text stays linear
# (local parts and domains may hold letters of any script: 张伟@qq.com, user@例子.中国)
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[^\W_](?:[\w-]{0,61}[^\W_])?"
                    r"(?:\.[^\W_](?:[\w-]{0,61}[^\W_])?){1,8}")
# digits with the separators phone numbers are written with; checked further in _is_phone
_PHONE = re.compile(r"(?:\+|00)?[\d\s().\-/]{7,24}")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d\s().\-/]{5,22}\d(?!\w)")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_IPV4 = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
# (not after a "v": v2.0.1.3 is a version number)
_IPV4_IN_TEXT = re.compile(r"(?<![\d.vV])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6_IN_TEXT = re.compile(r"(?<![\w:])\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?\]?(?![\w:])")
# years from 1900 to 2099, or months of them (12/2025, 01.2026), joined by - or / ("2026-2027",
# "2025 - 2026", "12/2025 - 03/2026"): a period, not a phone number, when they run forward
# in time (_is_period)
_PERIOD_ITEM = r"(?:(?:0?[1-9]|1[0-2])[./])?(?:19|20)\d\d"
_PERIODS = re.compile(rf"{_PERIOD_ITEM}(?:\s*[-/]\s*{_PERIOD_ITEM})+")
# a whole number in groups of three after one or two digits (1 200 000, 12 345 678): thousands
_THOUSANDS = re.compile(r"\d{1,2}(?:\s\d{3}){2,}")
# decimal numbers listed with slashes (0.80 / 0.90 / 0.95)
_DECIMALS = re.compile(r"\d+\.\d+(?:\s*/\s*\d+\.\d+)+")
# a standard's number and year (GB/T 19038-2009, ISO/IEC 27001-2022) after the prefix of a
# standards body: national and international ones, and Chinese industry standards (XX/T)
_STANDARD_NUMBER = re.compile(r"\d{3,6}(?:\.\d{1,3})*-(?:19|20)\d\d")
_STANDARD_PREFIX = re.compile(r"(?<![A-Za-z])(?:GB|ISO|IEC|EN|DIN|BS|ANSI|JIS|NF|[A-Z]{2,3}/T)"
                              r"(?:/(?:T|Z|IEC))?\s?$")
_CN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# full-width forms (U+FF01-FF5E, typed by Chinese and Japanese input methods) and the
# ideographic space, one for one as ASCII: "１３８－００１３－８０００" is a mobile number
_HALF_WIDTH = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " "})
_CN_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[\s-])\d{7,8}(?!\d)")
_CN_ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
_CN_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_SINGULAR = {"e-mail addresses": "e-mail address", "phone numbers": "phone number",
             "IP addresses": "IP address", "identity numbers": "identity number"}

#: The one list of column names that say a column holds personal data:
#: ``(kind, pattern)``, matched against the name lower-cased with runs of
#: other characters than letters and digits (CJK included) turned into ``_``
#: and ``CamelCase`` split (``IPAddress`` -> ``ip_address``).
PII_NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("e-mail addresses", re.compile(r"e_?mail|(^|_)mail(_?addr(ess)?)?\d*($|_)|邮箱|电子邮件|电邮")),
    ("IP addresses", re.compile(r"^(ip|ipv4|ipv6|remote_?addr(ess)?|client_?ip)\d*$|(^|_)ip_?addr|ip地址")),
    ("phone numbers", re.compile(
        r"(^|_)(phone|telephone|tel|mobile|cell(phone)?|fax|handy)(_?(no|nr|num|number))?\d*($|_)|phone"
        r"|手机|电话|联系方式|座机|传真")),
    ("identity numbers", re.compile(
        r"(^|_)(ssn|passport(_?(no|nr|number))?|national_?id|id_?card(_?(no|number))?|tax_?id)\d*($|_)"
        r"|身份证|证件号|护照")),
    ("messenger ids", re.compile(r"(^|_)(qq|wechat|weixin|whatsapp|skype|telegram)(_?(id|no|number))?\d*($|_)|微信|qq号")),
    ("names", re.compile(
        r"(^|_)(first|last|full|given|family|sur|middle|respondent|customer|contact|recipient|person)_?name$"
        r"|^(name|surname|vorname|nachname|nom|prenom)$|姓名|名字|姓氏|联系人|称呼")),
    ("birth dates", re.compile(r"(^|_)(birth_?(date|day)?|date_?of_?birth|dob|geburtsdatum)($|_)|出生|生日")),
    ("locations", re.compile(r"(^|_)(latitude|longitude|lat|lon|lng|geo_?location)$|经度|纬度")),
    ("postal addresses", re.compile(
        r"(^|_)(street|street_?address|home_?address|postal_?address|mailing_?address|address\d*)($|_)"
        r"|地址|住址|街道")),
    ("postal codes", re.compile(r"^(post_?code|postal_?code|zip|zip_?code|plz)$|邮编|邮政编码")),
)

_IDENTIFIER = re.compile(r"(^|_)(id|uuid|guid|respondent|respondent_?id|response_?id)($|_)|编号|用户id")


def _norm_name(name: Any) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())  # IPAddress -> IP_Address
    return re.sub(r"[\W_]+", "_", s.lower()).strip("_")


def column_kind(name: Any) -> str | None:
    """The kind of personal data a column's *name* says it holds, or None.

    Parameters
    ----------
    name
        A column name (any language; see :data:`PII_NAME_PATTERNS`).

    Returns
    -------
    str or None
        ``"e-mail addresses"``, ``"phone numbers"``, ``"IP addresses"``,
        ``"identity numbers"``, ``"messenger ids"``, ``"names"``, ``"birth
        dates"``, ``"locations"``, ``"postal addresses"``, ``"postal codes"``.
    """
    n = _norm_name(name)
    for kind, pattern in PII_NAME_PATTERNS:
        if pattern.search(n):
            return kind
    return None


def is_identifier_name(name: Any) -> bool:
    """True when a column name says it identifies respondents (``id``,
    ``uuid``, ``respondent_id``, ``ResponseId``, 编号 ...)."""
    return _IDENTIFIER.search(_norm_name(name)) is not None


def _is_period(t: str) -> bool:
    """Years, or months of years, joined by ``-`` or ``/`` that run forward in
    time (``2026-2027``, ``2019 - 2026``, ``12/2025 - 03/2026``): a period, as
    study names and report titles write them."""
    if not _PERIODS.fullmatch(t):
        return False
    when = [(int(y), int(m or 0)) for m, y in re.findall(r"(?:(\d{1,2})[./])?((?:19|20)\d\d)", t)]
    return all(a < b for a, b in zip(when, when[1:]))


def _is_number_text(t: str) -> bool:
    """Numbers written with separators that phone numbers also use: a period
    (:func:`_is_period`), thousands in groups of three (``1 200 000``), or
    decimals listed with slashes (``0.80/0.90``)."""
    return _is_period(t) or _THOUSANDS.fullmatch(t) is not None or _DECIMALS.fullmatch(t) is not None


def _is_phone(t: str) -> bool:
    if not _PHONE.fullmatch(t) or _DATE.match(t.lstrip("(")) or _IPV4.fullmatch(t) or _is_number_text(t):
        return False   # (a date, or a date and time: "2026-01-15 12:30", also in brackets; a period ...)
    digits = sum(c.isdigit() for c in t)
    if not 7 <= digits <= 15:
        return False
    # a plain number (an id, a count) is not a phone number: a phone number is
    # written with a leading + / 00 or with separators between digit groups
    separated = re.search(r"\d[\s().\-/]+\d", t) is not None
    if not (t.startswith(("+", "00", "(")) or separated):
        return False
    # decimal numbers such as 1234.5678 (and 1.234.567) are not phone numbers
    return not re.fullmatch(r"[\d,]+\.\d+|\d{1,3}(?:[.,]\d{3})+", t)


def _is_ip(t: str) -> bool:
    if ":" not in t and not _IPV4.fullmatch(t):
        return False
    if ":" in t and (t.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", t)):
        return False
    try:
        ipaddress.ip_address(t.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _is_personal_ip(t: str) -> bool:
    """An IP address that can point at a person: not this machine's own
    (loopback ``127.0.0.0/8``, ``::1``) nor the unspecified address, which
    are what users type for local servers (``tcp://127.0.0.1:8786``)."""
    if not _is_ip(t):
        return False
    addr = ipaddress.ip_address(t.strip("[]").split("%")[0])
    return not (addr.is_loopback or addr.is_unspecified)


def _is_cn_id(t: str) -> bool:
    """An 18-digit resident identity number with a right check digit, or the
    old 15-digit form with a plausible birth date."""
    if len(t) == 18 and t[:17].isdecimal():   # (isdigit also holds for ² and ①, which int() refuses)
        total = sum(int(d) * w for d, w in zip(t[:17], _ID_WEIGHTS))
        if _ID_CHECK[total % 11] == t[17].upper():
            return True
        # a number read as a float has its last digits rounded, and a borrow or
        # carry can reach the birth day (440524196801010004 -> ...196801009984):
        # a province code (1-8) and a birth year 1900-2099 still say identity number
        return t[0] in "12345678" and t[6:8] in ("19", "20")
    if len(t) == 15 and t.isdecimal():
        month, day = int(t[8:10]), int(t[10:12])
        return 1 <= month <= 12 and 1 <= day <= 31
    return False


def classify_value(value: Any) -> str | None:
    """The kind of personal data a single cell looks like, or None.

    Parameters
    ----------
    value
        A cell as read (str, number or missing).

    Returns
    -------
    str or None
        ``"e-mail addresses"``, ``"phone numbers"`` (Chinese mobiles and
        landlines included), ``"identity numbers"`` (Chinese resident
        identity numbers), ``"IP addresses"`` or None.
    """
    if not isinstance(value, str):
        return None
    t = value.strip().translate(_HALF_WIDTH)
    if not t or len(t) > 254:
        return None
    if "@" in t and _EMAIL.fullmatch(t):
        return "e-mail addresses"
    if _is_ip(t):
        return "IP addresses"
    if _is_cn_id(t):
        return "identity numbers"
    if _CN_MOBILE.fullmatch(t) or _CN_LANDLINE.fullmatch(t) or _is_phone(t):
        return "phone numbers"
    return None


def _removed(kind: str) -> str:
    return f"<{_SINGULAR.get(kind, kind)} removed>"


_REMOVED = re.compile(r"<([^<>]+) removed>")
_PLURAL = {v: k for k, v in _SINGULAR.items()}


def mask_text(text: str) -> str:
    """``text`` with every e-mail address, phone number (international,
    Chinese mobile and landline), Chinese identity number and IP address
    in it replaced by ``<e-mail address removed>`` (etc.).

    The masking function: everything quoted from data into anything
    recorded passes it (directly or through :func:`quote`).  See the
    module docstring for what is and is not recognised.

    Parameters
    ----------
    text : str
        Any text (an error message, a free-text answer).

    Returns
    -------
    str
        The text with personal identifiers replaced.
    """
    original = str(text)
    text = original.translate(_HALF_WIDTH)
    text = _EMAIL.sub(_removed("e-mail addresses"), text)

    def sub_if(pattern: re.Pattern[str], check: Any, kind: str, s: str) -> str:
        return pattern.sub(lambda m: _removed(kind) if check(m.group(0)) else m.group(0), s)

    text = sub_if(_IPV6_IN_TEXT, _is_personal_ip, "IP addresses", text)
    text = sub_if(_IPV4_IN_TEXT, _is_personal_ip, "IP addresses", text)
    text = sub_if(_CN_ID18, _is_cn_id, "identity numbers", text)
    text = sub_if(_CN_ID15, _is_cn_id, "identity numbers", text)
    text = _CN_MOBILE.sub(_removed("phone numbers"), text)
    text = _CN_LANDLINE.sub(_removed("phone numbers"), text)

    def phone(m: re.Match[str]) -> str:
        found = m.group(0).strip()
        standard = (_STANDARD_NUMBER.fullmatch(found) is not None
                    and _STANDARD_PREFIX.search(m.string, max(0, m.start() - 12), m.start()) is not None)
        return _removed("phone numbers") if _is_phone(found) and not standard else m.group(0)

    text = _PHONE_IN_TEXT.sub(phone, text)
    half = original.translate(_HALF_WIDTH)
    return original if text == half else text   # nothing found: the text as it was written


def mask_value(value: Any) -> Any:
    """``value`` itself when nothing in it looks personal, else its text
    passed through :func:`mask_text` (numbers are looked at as text too)."""
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str):
        text = _number_text(value)
        masked = mask_text(text)
        return value if masked == text else masked
    return mask_text(value)


def _number_text(value: Any) -> str:
    """A value as text, a large whole float with all its digits
    (``4.405241968010099e+17`` -> ``440524196801009984``): a mobile or
    identity number read as a number is then recognised."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return f"{value:.0f}"
    return str(value)


#: Unicode categories of the characters text does not show: control, format
#: (right-to-left marks and overrides, zero-width characters, soft hyphen),
#: line and paragraph separators.  Error messages and reports show them as
#: ``\\uXXXX`` (:func:`show_invisible`), folder names replace them.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def is_invisible(char: str) -> bool:
    """Whether the character ``char`` is one text does not show (its Unicode
    category is one of :data:`INVISIBLE_CATEGORIES`)."""
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def show_invisible(text: str) -> str:
    """``text`` with every invisible character (:func:`is_invisible`: line
    breaks, right-to-left overrides, zero-width spaces) shown as ``\\uXXXX``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return "".join(f"\\u{ord(c):04x}" if is_invisible(c) else c for c in text)


def quote(value: Any, *, column: Any = None, limit: int = QUOTE_LIMIT) -> str:
    """A value from the data, made fit to quote in an error message or record.

    Masks it (:func:`mask_text`; the whole value when ``column``'s name says
    it holds personal data, see :func:`column_kind`), shows control and
    invisible format characters (line breaks, right-to-left marks,
    zero-width spaces) as ``\\uXXXX`` escapes, and cuts it after ``limit``
    characters.  Text comes back in single quotes, numbers as they print.

    Parameters
    ----------
    value
        The value as read.
    column : str, optional
        The column it was read from.
    limit : int
        Longest text shown.

    Returns
    -------
    str
    """
    if column is not None:
        kind = column_kind(column)
        if kind is not None:
            return f"<value removed: the column holds {kind}>"
    is_text = isinstance(value, str)
    text = mask_text(value if is_text else _number_text(value))
    shown = show_invisible(text)
    if len(shown) > limit:
        shown = shown[:limit] + f"... ({len(shown) - limit} more characters)"
    return f"'{shown}'" if is_text else shown


# the shapes in which classify_value or mask_text can find anything, as one
# test on many values joined by line feeds, anywhere in a value (mask_text
# finds identifiers inside text: "call 13812345678"): an "@" or ":" (e-mail,
# IPv6), a full-width form, a "+" or "(" (phones), "00" starting a number,
# digits with separators between them (phones, IPv4, dates), or a run of 11
# digits (a Chinese mobile, with 86 or 0086 too, an identity number)
_SPACE = r"[^\S\n]"
_MAYBE_PERSONAL = re.compile(
    rf"[@:+(\uff01-\uff5e\u3000]|(?<!\w)00|\d(?:{_SPACE}|[().\-/])+\d|\d{{11}}")


#: ASCII letters and the digits 1-9 mapped to one letter and one digit: the
#: shape of a value.  _MAYBE_PERSONAL gives every value of one shape the same
#: answer (it looks at digits as digits, at 0 and at punctuation, at letters
#: only as word characters, never at which letter or which other digit), so
#: it need only scan the distinct shapes, of which a million ticket numbers
#: have a few dozen.
_SHAPE = bytes.maketrans(b"123456789abcdefghijklmnopqrstuvwyzABCDEFGHIJKLMNOPQRSTUVWYZ",
                         b"9" * 9 + b"a" * 50)


def _candidates(values: Iterable[Any]) -> list:
    """The distinct values :func:`classify_value` and :func:`mask_text` must
    look at: when they are all text, those in which neither can find anything
    are passed over
    by one regular-expression scan of their distinct shapes (:data:`_SHAPE`;
    a million ticket numbers ``T0000001`` take a fraction of a second);
    otherwise every distinct value."""
    if not isinstance(values, (pd.Series, np.ndarray, list, tuple)):
        values = list(values)
    distinct = pd.unique(pd.Series(values, dtype=object))
    if len(distinct) < 1000 or pd.api.types.infer_dtype(distinct, skipna=False) != "string":
        return list(distinct)
    joined = "\n".join(distinct)
    if joined.count("\n") != len(distinct) - 1:   # a value holds a line feed: look at each
        return list(distinct)
    shapes = np.array(joined.encode("utf-8").translate(_SHAPE).split(b"\n"), dtype=object)
    codes, kinds = pd.factorize(shapes)
    text = b"\n".join(kinds).decode("utf-8")   # only ASCII bytes were changed: still UTF-8
    lengths = np.fromiter(map(len, text.split("\n")), dtype=np.int64, count=len(kinds))
    starts = np.concatenate(([0], np.cumsum(lengths[:-1] + 1)))
    hits = np.fromiter((m.start() for m in _MAYBE_PERSONAL.finditer(text)), dtype=np.int64)
    hit = np.zeros(len(kinds), dtype=bool)
    hit[np.searchsorted(starts, hits, side="right") - 1] = True
    return list(distinct[hit[codes]])


def check_role_column(name: str, values: Iterable[Any], *, declared: Iterable[str] = (),
                      role: str = "segment", inside_text: bool = True) -> str | None:
    """Why a column may not be used as a role column (segment, wave, id), or None.

    A role column's values become folder names, run parameters and summary
    entries, so a column that is declared personal data, whose name says it
    holds personal data (:func:`column_kind`), or any of whose values looks
    personal (:func:`classify_value`: one is enough here) or holds an
    identifier inside its text (one that :func:`mask_text` masks, as in
    ``"call Zhang 138 1234 5678"``) is refused.

    Parameters
    ----------
    name : str
        The column name.
    values : iterable
        Its cells (or the values a study file names).
    declared : iterable of str
        The instrument's ``pii_columns``.
    role : str
        What the column is used as, for the message.
    inside_text : bool
        Also refuse an identifier inside a value's text.  False for ticket
        ids, which are shown only in error messages (masked there) and whose
        usual forms (``TK-2026-00017``, ``CASE-00012345``) hold digit groups
        the masking takes for phone numbers; a value that as a whole is
        personal data is still refused.

    Returns
    -------
    str or None
        A sentence naming the column and the kind of data (never a value).
    """
    if name in set(declared):
        return f"the {role} column {name!r} is declared personal data (pii_columns)"
    kind = column_kind(name)
    if kind is not None:
        return f"the {role} column {name!r} is named like a column of {kind}"
    kinds = set()
    for v in _candidates(values):
        text = v.strip() if isinstance(v, str) else str(v)
        kinds.add(classify_value(text))
        if inside_text and isinstance(v, str) and kinds == {None}:   # an identifier inside text ("Zhang 138 1234 5678")
            kinds.update(_PLURAL.get(k, k) for k in _REMOVED.findall(mask_text(text)))
    kinds -= {None}
    if kinds:
        return f"the {role} column {name!r} holds {' and '.join(sorted(kinds))}"
    return None


def detect_personal_columns(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> dict[str, str]:
    """Columns of ``frame`` that hold personal data, found by name or content.

    A column is personal data when its name says so (:func:`column_kind`) or
    more than :data:`CONTENT_SHARE` of its non-empty cells look personal
    (:func:`classify_value`; numeric columns too, for mobile numbers read
    as numbers).  Free text that merely contains an identifier does not
    make a column personal here (it is masked wherever it is quoted).

    Parameters
    ----------
    frame : DataFrame
        The table as read (cells as strings or numbers).
    columns : iterable of str, optional
        The columns to check (default: all).

    Returns
    -------
    dict
        ``{column: kind}`` in frame order, where kind is one of the kinds of
        :func:`column_kind` or :func:`classify_value`, followed by ``" (by
        column name)"`` or ``" (by content)"``.  Never holds a value of the data.
    """
    wanted = list(frame.columns) if columns is None else [c for c in columns if c in frame.columns]
    out: dict[str, str] = {}
    for col in wanted:
        kind = column_kind(col)
        if kind is not None:
            out[col] = f"{kind} (by column name)"
            continue
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_object_dtype(series):
            whole = series.dropna()
            if series.dtype.kind == "f":
                whole = whole[(whole % 1 == 0) & (whole.abs() < 1e17)]
            kinds = whole.astype("int64").astype(str).map(classify_value).dropna() if len(whole) else whole
            if len(kinds) > CONTENT_SHARE * len(series.dropna()):   # mobiles, ids read as numbers
                out[col] = f"{kinds.mode().iloc[0]} (by content)"
            continue
        cells = [v.strip() for v in series.to_numpy(dtype=object) if isinstance(v, str) and v.strip()]
        if not cells:
            continue
        uniques = pd.Series(cells).value_counts()
        counts: dict[str, int] = {}
        for v, n in uniques.items():
            k = classify_value(v)
            if k is not None:
                counts[k] = counts.get(k, 0) + int(n)
        if counts:
            kind, n = max(counts.items(), key=lambda kv: kv[1])
            if n > CONTENT_SHARE * len(cells):
                out[col] = f"{kind} (by content)"
    return out
