"""Personal data that a survey export holds without saying so.

Survey exports often carry columns the instrument does not declare as
personal data (``pii_columns``): a respondent's e-mail in a "contact"
column, a phone number, the IP address a web survey logged.  This module
finds such columns by their name and by their content, so that
:func:`csmlib.data.survey.read_survey` drops them at load like the declared
ones, and masks values that look personal in error messages.

A column is personal data when

* its name says so (``email``, ``e_mail``, ``phone``, ``mobile``,
  ``telephone``, ``ip``, ``ip_address``, ``IPAddress``, ``name``,
  ``first_name``, ``last_name``, ``full_name``, ``street``, ``address``,
  ...), or
* more than half of its non-empty cells look like e-mail addresses, phone
  numbers, or IPv4 / IPv6 addresses (:data:`CONTENT_SHARE`).

Only column names and the kind of data are ever recorded, never a value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["CONTENT_SHARE", "classify_value", "detect_personal_columns", "mask_value"]

#: Share of a column's non-empty cells that must look personal to flag it by content.
CONTENT_SHARE = 0.5

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
# digits with the separators phone numbers are written with; checked further in _is_phone
_PHONE = re.compile(r"(?:\+|00)?[\d\s().\-/]{7,24}")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_IPV4 = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
_SINGULAR = {"e-mail addresses": "e-mail address", "phone numbers": "phone number",
             "IP addresses": "IP address"}

_NAME_KINDS = (
    ("e-mail addresses", re.compile(r"^(e[-_ ]?mail|mail)(_?addr(ess)?)?\d*$|e[-_ ]?mail")),
    ("phone numbers", re.compile(r"(^|_)(phone|telephone|tel|mobile|cell(phone)?|fax|handy)(_?(no|nr|num|number))?\d*($|_)"
                                 r"|phone")),
    ("IP addresses", re.compile(r"^(ip|ipv4|ipv6|ip_?addr(ess)?|remote_?addr(ess)?|client_?ip)\d*$|(^|_)ip_?addr")),
    ("names", re.compile(r"(^|_)(first|last|full|given|family|sur|middle|respondent|customer|contact|recipient)_?name$"
                          r"|^(name|surname)$")),
    ("locations", re.compile(r"(^|_)(latitude|longitude|lat|lon|lng|geo_?location)$")),
    ("postal addresses", re.compile(r"^(street|street_?address|home_?address|postal_?address|address\d*)$")),
)


def _norm_name(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())  # IPAddress -> IP_Address
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def _kind_by_name(name: str) -> str | None:
    n = _norm_name(name)
    for kind, pattern in _NAME_KINDS:
        if pattern.search(n):
            return kind
    return None


def _is_phone(t: str) -> bool:
    if not _PHONE.fullmatch(t) or _DATE.fullmatch(t) or _IPV4.fullmatch(t):
        return False
    digits = sum(c.isdigit() for c in t)
    if not 7 <= digits <= 15:
        return False
    # a plain number (an id, a count) is not a phone number: a phone number is
    # written with a leading + / 00 or with separators between digit groups
    separated = re.search(r"\d[\s().\-/]+\d", t) is not None
    if not (t.startswith(("+", "00", "(")) or separated):
        return False
    # decimal numbers such as 1234.5678 are not phone numbers
    return not re.fullmatch(r"\d+\.\d+", t)


def _is_ip(t: str) -> bool:
    if ":" not in t and not _IPV4.fullmatch(t):
        return False
    try:
        ipaddress.ip_address(t.strip("[]"))
    except ValueError:
        return False
    return True


def classify_value(value: Any) -> str | None:
    """The kind of personal data a single cell looks like, or None.

    Parameters
    ----------
    value
        A cell as read (str, number or missing).

    Returns
    -------
    str or None
        ``"e-mail addresses"``, ``"phone numbers"``, ``"IP addresses"`` or None.
    """
    if not isinstance(value, str):
        return None
    t = value.strip()
    if not t or len(t) > 254:
        return None
    if "@" in t and _EMAIL.fullmatch(t):
        return "e-mail addresses"
    if _is_ip(t):
        return "IP addresses"
    if _is_phone(t):
        return "phone numbers"
    return None


def mask_value(value: Any) -> Any:
    """``value`` itself, or ``"<e-mail address>"`` (etc.) when it looks personal.

    Used for values quoted in error messages, which end up in executed
    notebooks and run records.
    """
    kind = classify_value(value) if isinstance(value, str) else None
    if kind is None:
        return value
    return f"<{_SINGULAR[kind]} removed>"


def detect_personal_columns(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> dict[str, str]:
    """Columns of ``frame`` that hold personal data, found by name or content.

    Parameters
    ----------
    frame : DataFrame
        The table as read (cells as strings or numbers).
    columns : iterable of str, optional
        The columns to check (default: all).

    Returns
    -------
    dict
        ``{column: kind}`` in frame order, where kind is ``"e-mail
        addresses"``, ``"phone numbers"``, ``"IP addresses"``, ``"names"``,
        ``"postal addresses"`` or ``"locations"`` (by name), followed by ``" (by column name)"``
        or ``" (by content)"``.  Never holds a value of the data.
    """
    wanted = list(frame.columns) if columns is None else [c for c in columns if c in frame.columns]
    out: dict[str, str] = {}
    for col in wanted:
        kind = _kind_by_name(col)
        if kind is not None:
            out[col] = f"{kind} (by column name)"
            continue
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_object_dtype(series):
            continue   # numbers read as numbers are not e-mails, phones or IPs
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
