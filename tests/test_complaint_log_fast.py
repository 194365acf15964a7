"""Adversarial checks of the complaint log's fast reading (issue 17).

``read_log`` reads a CSV's role columns with pandas' C parser from the bytes
(``readers._split_csv_fast``), looks at each distinct cell once
(``complaint_log._Cells``), parses timestamps in bulk and screens role values
for personal data over their shapes (``privacy._candidates``).  The rule:
the fast reading gives exactly what the exact reading gives (the csv
module, cell by cell: ``_cell_text``, ``classify_value``, ``mask_text``) or
steps aside to it.  These tests compare the two on files that lie about
themselves, and check each against the truth written into the file.
"""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib import privacy
from csmlib.data import complaint_log, readers
from csmlib.errors import DataError

cx = csm.complaints

CB = {"id_column": "ticket", "opened_column": "opened", "closed_column": "closed",
      "category_column": "category", "channel_column": "channel", "status_column": "status",
      "reopened_column": "reopened", "customer_id_column": "customer", "pii_columns": ["note"]}


def _exact(monkeypatch, *args, **kwargs):
    """read_log with the C-parser split switched off: the csv module's reading."""
    with monkeypatch.context() as m:
        m.setattr(readers, "_split_csv_fast", lambda *a, **k: None)
        return cx.read_log(*args, **kwargs)


def _outcome(read, *args, **kwargs):
    """The log's tickets (customer hashes as a partition: each log has its own
    salt) and as_of, or the error message."""
    try:
        log = read(*args, **kwargs)
    except DataError as exc:
        return "error", str(exc)
    t = log.tickets.copy()
    customer = t.pop("customer")
    t["customer"] = pd.factorize(customer.astype(object).where(customer.notna(), None))[0]
    return "log", (t, log.as_of, log.rows_read)


def _assert_same(a, b):
    assert a[0] == b[0], (a[1] if a[0] == "error" else "", b[1] if b[0] == "error" else "")
    if a[0] == "error":
        assert a[1] == b[1]
    else:
        pd.testing.assert_frame_equal(a[1][0], b[1][0])
        assert a[1][1:] == b[1][1:]


# --------------------------------------------------------------------------- CSV: fast == exact
_SPACES = [" ", "\u3000", "\u00a0", "\t", ""]


def _cell(r: random.Random, role: str, i: int, style: dict) -> str:
    if role == "ticket":
        v = [f"T{i}", f"工单{i}", f"T {i}", f"t-{i:05d}", f"{i}"][style["ids"]]
        v = f"T{i - 1}" if r.random() < 0.003 else ("" if r.random() < 0.003 else v)
    elif role == "opened":
        v = f"2026-0{r.randint(1, 3)}-{r.randint(1, 28):02d} {r.randint(0, 23):02d}:{r.choice(['00', '30'])}"
        v = "not a date" if r.random() < 0.003 else v
    elif role == "closed":
        v = r.choice(["", "", " ", "\u3000"]) if r.random() < 0.3 else f"2026-04-{r.randint(1, 28):02d} 10:00"
    elif role == "category":
        v = r.choice(["billing", "delivery", "账单", "配送", "a,b", 'say "hi"', "x;y", "tab\tin",
                      "multi\nline", "crlf\r\nin"])
    elif role == "channel":
        v = r.choice(["phone", "电话", "", "e-mail", "store"])
    elif role == "status":
        v = r.choice(["open", "closed", "", "待处理"])
    elif role == "reopened":
        v = r.choice(["1", "0", "yes", "否", "", "TRUE", " 1 "])
    elif role == "customer":
        v = r.choice([f"C{r.randint(1, 50)}", "", f"{r.randint(1, 50)}", f"客户{r.randint(1, 5)}"])
    else:
        v = r.choice(["note", "call me, 张伟", "", '"quoted"', "13812345678"])
    if role in ("opened", "closed") and style["zone"] and v.strip() and v != "not a date":
        v += "+08:00" if style["zone"] == 1 else r.choice(["Z", "+08:00", "+0000", "-05:00"])
    if v and r.random() < 0.1:
        v = r.choice(_SPACES) + v + r.choice(_SPACES)
    return v


def _quoted(v: str, sep: str, r: random.Random) -> str:
    if any(c in v for c in (sep, '"', "\n", "\r")) or r.random() < 0.1:
        return '"' + v.replace('"', '""') + '"'
    return v


def _lying_csv(seed: int) -> tuple[bytes, dict]:
    """A ticket export with quotes, doubled quotes, delimiters and line breaks
    in quotes, CRLF, Chinese, padded cells (ASCII, U+3000, U+00A0), time zones,
    a shuffled header with duplicate or blank extra names, and some of: blank
    and white-space lines, ragged and short rows, a trailing delimiter, stray
    and unclosed quotes, text glued to a quoted cell, lone CRs, a BOM."""
    r = random.Random(seed)
    sep, nl = r.choice([",", ";", "\t"]), r.choice(["\n", "\r\n"])
    style = {"zone": r.choice([0, 0, 1, 2]), "ids": r.randrange(5)}
    header = ["ticket", "opened", "closed", "category", "channel", "status", "reopened", "customer", "note"]
    r.shuffle(header)
    header += r.choice([[], [], ["note"], [""], [" extra "], ["", ""]])
    lines = [sep.join(_quoted(_cell(r, h.strip() or "x", i, style), sep, r) for h in header)
             for i in range(r.randint(1, 40))]
    flaws = [r.choice(["blank", "space", "ragged", "trail", "stray", "glued", "unclosed", "cr", "short", "bom"])
             for _ in range(r.choice([0, 0, 0, 1, 1, 2]))]
    for flaw in flaws:
        j = r.randrange(len(lines))
        if flaw == "blank":
            lines.insert(j, "")
        elif flaw == "space":
            lines.insert(j, r.choice(["  ", "\t", "\u3000", " \x0c"]))
        elif flaw == "ragged":
            lines[j] += sep + "extra"
        elif flaw == "trail":
            lines[j] += sep
        elif flaw == "stray":
            lines[j] = lines[j].replace("a", 'a"', 1)
        elif flaw == "glued":
            lines[j] = '"abc"def' + sep + lines[j]
        elif flaw == "unclosed":
            lines[j] = '"open' + lines[j]
        elif flaw == "cr":
            lines[j] += "\r" + lines[(j + 1) % len(lines)]
        elif flaw == "short":
            lines[j] = sep.join(lines[j].split(sep)[:-1])
    data = (sep.join(header) + nl + nl.join(lines) + (nl if r.random() < 0.7 else "")).encode("utf-8")
    cb = dict(CB)
    if r.random() < 0.3:
        del cb["customer_id_column"]
    return (b"\xef\xbb\xbf" + data if "bom" in flaws else data), cb


def test_lying_csv_files_read_the_same_fast_and_exact(tmp_path, monkeypatch):
    """60 generated exports (about half of them refused): the fast reading
    gives the same tickets or the same error, word for word, as the exact one."""
    kinds = set()
    for seed in range(60):
        data, cb = _lying_csv(seed)
        path = tmp_path / f"log{seed}.csv"
        path.write_bytes(data)
        fast = _outcome(cx.read_log, path, cb)
        _assert_same(fast, _outcome(lambda *a: _exact(monkeypatch, *a), path, cb))
        kinds.add(fast[0] if fast[0] == "log" else fast[1].split("(")[0].split(":")[0])
    assert "log" in kinds and len(kinds) >= 6   # read logs and several kinds of refusal


@pytest.mark.parametrize("flaw", ["none", "ragged", "short", "bad_utf8", "bad_utf8_note", "surrogate_note", "stray_quote", "unclosed", "blank",
                                  "form_feed_line", "lone_cr", "dup", "bad_stamp", "quote_over_head"])
def test_flaws_beyond_the_decoded_head_are_found_as_the_exact_reading_finds_them(tmp_path, monkeypatch, flaw):
    """The fast reading decodes only the head of a large file (1 MiB; 4 KiB
    here) and lets the C parser read the rest: a flaw placed beyond the head
    gives the exact reading's error (same rows, lines, bytes) or log."""
    monkeypatch.setattr(readers, "_HEAD", 4096)
    lines = ["ticket,opened,closed,category,note"]
    lines += [f"T{i},2026-01-{1 + i % 28:02d} 10:00,{'' if i % 3 else '2026-02-01 09:00'},"
              f"{'账单' if i % 2 else 'billing'},\"说明 {i}, ok\"" for i in range(400)]
    j = 300   # well beyond 4 KiB
    if flaw == "ragged":
        lines[j] += ",x"
    elif flaw == "short":
        lines[j] = "T300,2026-01-01 10:00,,billing"
    elif flaw == "stray_quote":
        lines[j] = lines[j].replace("T", 'T"', 1)
    elif flaw == "unclosed":
        lines[j] += '"'
    elif flaw == "blank":
        lines.insert(j, "")
    elif flaw == "form_feed_line":
        lines.insert(j, "\x0c")
    elif flaw == "lone_cr":
        lines[j] += "\r" + lines[j].replace("T", "U", 1)
    elif flaw == "dup":
        lines.insert(j, lines[j])
    elif flaw == "bad_stamp":
        lines[j] = lines[j].replace("10:00", "10:0x")
    elif flaw == "quote_over_head":   # a quoted cell with line breaks across the head's end
        k = next(k for k in range(len(lines)) if len("\n".join(lines[:k]).encode()) > 4000)
        lines[k] = lines[k].replace('"说明', '"' + '说明\n' * 30)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if flaw == "bad_utf8":
        cut = data.rindex(b"T350")
        data = data[:cut] + b"\xe5\xbc" + data[cut:]   # a character cut short
    elif flaw.endswith("_note"):   # in a column the fast reading does not keep
        cut = data.index("说明 350".encode())
        data = data[:cut] + (b"\xff" if flaw == "bad_utf8_note" else b"\xed\xa0\x80") + data[cut:]
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    assert len(data) > 4 * 4096
    cb = {k: CB[k] for k in ("id_column", "opened_column", "closed_column", "category_column", "pii_columns")}
    fast = _outcome(cx.read_log, path, cb)
    _assert_same(fast, _outcome(lambda *a: _exact(monkeypatch, *a), path, cb))
    # a quote inside an unquoted cell is text (T"300); a lone CR ends a record (U300 is a ticket)
    assert (fast[0] == "log") == (flaw in ("none", "blank", "form_feed_line", "quote_over_head", "stray_quote",
                                           "lone_cr"))


# --------------------------------------------------------------------------- frames and Excel
def _frame_codebook():
    return {k: CB[k] for k in ("id_column", "opened_column", "closed_column", "category_column",
                               "customer_id_column")}


def test_datetime_columns_with_nat_are_open_tickets_and_missing_openings():
    """A frame's datetime column (pandas, Excel via openpyxl) holds NaT where a
    ticket is still open: an empty closed cell, as in a CSV; NaT in opened is
    a ticket without an opened timestamp, named by its row."""
    opened = pd.to_datetime(["2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 08:00"])
    closed = pd.to_datetime(["2026-01-01 13:30", None, "2026-01-04 08:00"])
    frame = pd.DataFrame({"ticket": ["T1", "T2", "T3"], "opened": opened, "closed": closed,
                          "category": ["a", "b", "a"], "customer": ["C1", None, "C1"]})
    t = cx.read_log(frame, _frame_codebook()).tickets
    assert t["is_closed"].tolist() == [True, False, True]
    # T2 open from Jan 2 10:00 to as_of, the latest stamp (Jan 4 08:00): 46 h
    np.testing.assert_allclose(t["hours"], [3.5, 46.0, 24.0])
    zoned = frame.assign(opened=opened.tz_localize("Asia/Shanghai"), closed=closed.tz_localize("Asia/Shanghai"))
    t = cx.read_log(zoned, _frame_codebook()).tickets
    assert t["closed"].isna().tolist() == [False, True, False] and t["opened"][0] == pd.Timestamp("2026-01-01 02:00")
    mixed = frame.assign(closed=pd.Series([datetime(2026, 1, 1, 13, 30), pd.NaT, "2026-01-04 08:00"], dtype=object))
    np.testing.assert_allclose(cx.read_log(mixed, _frame_codebook()).tickets["hours"], [3.5, 46.0, 24.0])
    with pytest.raises(DataError, match=r"tickets without an opened timestamp \(1 row\)") as err:
        cx.read_log(frame.assign(opened=pd.to_datetime(["2026-01-01 10:00", None, "2026-01-03 08:00"])),
                    _frame_codebook())
    assert err.value.rows == [2]


def test_excel_log_with_dates_text_and_empty_cells_reads_as_its_csv(tmp_path, monkeypatch):
    """The same tickets as an Excel workbook (date cells, text stamps, empty
    cells, numeric ids) and as a CSV give the same log."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ticket", "opened", "closed", "category", "customer"])
    ws.append([1001, datetime(2026, 1, 1, 10, 0), datetime(2026, 1, 1, 13, 30), "a", 501])
    ws.append([1002, "2026-01-02 10:00", None, "b", None])
    ws.append([1003, datetime(2026, 1, 3, 8, 0), " 2026-01-04 08:00 ", "a ", 501.0])
    ws.append([None, None, None, None, None])
    xlsx = tmp_path / "log.xlsx"
    wb.save(xlsx)
    csv = tmp_path / "log.csv"
    csv.write_text("ticket,opened,closed,category,customer\n1001,2026-01-01 10:00,2026-01-01 13:30,a,501\n"
                   "1002,2026-01-02 10:00,,b,\n1003,2026-01-03 08:00, 2026-01-04 08:00 ,a ,501\n", encoding="utf-8")
    a, b = _outcome(cx.read_log, xlsx, _frame_codebook()), _outcome(cx.read_log, csv, _frame_codebook())
    _assert_same(a, b)
    assert a[1][0]["ticket"].tolist() == ["1001", "1002", "1003"] and a[1][0]["customer"].tolist() == [0, -1, 0]


@pytest.mark.parametrize("source", ["csv", "frame"])
def test_a_customer_column_without_any_id_is_a_log_without_links(tmp_path, source):
    """A customer id column that is empty throughout (or a survey without any
    id) links nothing; it is not a crash."""
    frame = pd.DataFrame({"ticket": ["T1", "T2"], "opened": ["2026-01-01 10:00", "2026-01-02 10:00"],
                          "closed": ["2026-01-01 12:00", ""], "category": ["a", "b"], "customer": ["", " "]})
    if source == "csv":
        frame.to_csv(tmp_path / "log.csv", index=False)
        log = cx.read_log(tmp_path / "log.csv", _frame_codebook())
    else:
        log = cx.read_log(frame.assign(customer=[None, np.nan]), _frame_codebook())
    assert log.tickets["customer"].isna().all()
    assert log.hash_ids([None, np.nan, ""]).isna().all()
    with pytest.raises(DataError, match="no customer ids"):
        cx.recovery_groups(log, pd.DataFrame({"id": ["C1"]}), "id", sla_hours=24)
    linked = cx.read_log(frame.assign(customer=["C1", None]), _frame_codebook())
    groups = cx.recovery_groups(linked, pd.DataFrame({"id": [None, np.nan]}), "id", sla_hours=24)
    assert groups.isna().all()


# --------------------------------------------------------------------------- cells
@pytest.mark.parametrize("space", ["\x1c", "\x1d", "\x1e", "\x1f", " ", "\u3000", "\u00a0", "\x85"])
def test_cells_are_stripped_of_every_white_space_the_cell_reading_strips(space):
    """_Cells skips the strip when no value starts or ends with white space;
    the test must know all of str.strip's white space (the ASCII separators
    \\x1c-\\x1f included), or "T1<sep>" and "T1" are two tickets."""
    col = pd.Series([f"T1{space}", "T2", f"{space}T3", None, space], dtype=object)
    cells = complaint_log._Cells.of(col)
    assert list(cells.values()) == [complaint_log._cell_text(v) for v in col]
    frame = pd.DataFrame({"ticket": ["T1", f"T1{space}"], "opened": ["2026-01-01 10:00"] * 2,
                          "closed": ["", ""], "category": ["a", f"a{space}"], "customer": ["C1", "C1"]})
    with pytest.raises(DataError, match=r"ticket ids are repeated \(2 rows\)"):
        cx.read_log(frame, _frame_codebook())


# --------------------------------------------------------------------------- personal data
_FILLER = [f"T{i:07d}" for i in range(1500)]   # enough distinct values for the shape prefilter to run


@pytest.mark.parametrize("value", ["call 13812345678", "ID 110105199003071234", "call +442079460958",
                                   "x 00442079460958", "\u200b13812345678", "联系13812345678",
                                   "11010519900307123A", "tel(010)12345678", "mail zhang@example.com"])
def test_role_column_check_is_the_same_for_many_values_as_for_few(value):
    """check_role_column refuses a value that classify_value flags or in which
    mask_text finds an identifier (a mobile inside text); with 1,500 distinct
    values (the shape prefilter runs) it must refuse it as with 3."""
    few = privacy.check_role_column("category", ["a", "b", value])
    assert few is not None
    assert privacy.check_role_column("category", _FILLER + [value]) == few


def _fuzz_values(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    pools = [list("0123456789"), list("0123456789 -+().@:/XxT"), list("abcxyzXYZTéü张伟ßАя٣")
             + list("0123456789") * 3 + [" ", "\u3000", "\u00a0", "\u200b", "-", "+", "(", ")", ".", "/", "＠", "１", "：", "_"]]
    out = []
    for _ in range(n):
        pool = pools[rng.integers(len(pools))]
        out.append("".join(rng.choice(pool, rng.integers(3, 30))))
    return list(dict.fromkeys(out))


def test_shape_prefilter_never_drops_what_classify_value_or_mask_text_finds():
    """Generated values (digits runs, separators, letters of several scripts,
    full-width forms, invisible characters): every value that classify_value
    flags or mask_text changes (as check_role_column looks at it) is kept."""
    values = _fuzz_values(7, 12_000)
    found = [v for v in values
             if privacy.classify_value(v.strip()) is not None or privacy.mask_text(v.strip()) != v.strip()]
    assert len(found) > 300
    kept = set(privacy._candidates(values))
    assert [v for v in found if v not in kept] == []
    assert len(kept) < len(values)


@pytest.mark.parametrize("value", ["²" * 18, "1" * 17 + "①", "1" * 14 + "³"])
def test_digits_that_are_not_decimal_are_not_an_identity_number_and_no_crash(value):
    """str.isdigit holds for superscripts and circled digits, which int() refuses."""
    assert privacy.classify_value(value) is None
    assert privacy.check_role_column("category", ["a", value]) is None


# --------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize("opened, closed, rows", [
    # pandas gives the stamps without an offset the first stamp's offset: they must be refused
    (["2026-01-01 10:00+08:00", "2026-01-02 10:00", "2026-01-03 10:00+08:00"], ["", "", ""], [2]),
    (["2026-01-01 10:00Z", "2026-01-02 10:00", "2026-01-03 10:00"], ["", "", ""], [2, 3]),
    (["2026-01-01 10:00+08:00"] * 3, ["2026-01-01 20:00+08:00", "", "2026-01-04 10:00"], [3]),
    (["", "2026-01-02 10:00+05:30", "2026-01-03 10:00"], ["", "", ""], [3]),   # (row 1: blank)
])
def test_stamps_without_an_offset_after_one_with_an_offset_are_refused(opened, closed, rows):
    frame = pd.DataFrame({"ticket": ["T1", "T2", "T3"], "opened": opened, "closed": closed,
                          "category": ["a", "b", "a"], "customer": ["", "", ""]})
    if not opened[0]:
        frame.loc[0, ["ticket", "category"]] = ""
    with pytest.raises(DataError, match="mixed with timestamps without one") as err:
        cx.read_log(frame, _frame_codebook())
    assert err.value.rows == rows


def test_stamps_with_offsets_throughout_are_put_on_utc():
    """Mixed offsets, Z, +hhmm, padded cells: all on UTC, hours from the truth."""
    frame = pd.DataFrame({"ticket": ["T1", "T2", "T3", "T4"],
                          "opened": ["2026-01-01 10:00+08:00", " 2026-01-01 10:00Z", "2026-01-01T10:00:00-0500\u3000",
                                     "2026-01-01 10:00+08:00"],
                          "closed": ["2026-01-01 12:00+08:00", "2026-01-01 20:00+08:00", "", "\t"],
                          "category": ["a"] * 4, "customer": [""] * 4})
    t = cx.read_log(frame, _frame_codebook(), as_of="2026-01-02 00:00Z").tickets
    assert t["opened"].tolist() == [pd.Timestamp(x) for x in ("2026-01-01 02:00", "2026-01-01 10:00",
                                                              "2026-01-01 15:00", "2026-01-01 02:00")]
    np.testing.assert_allclose(t["hours"], [2.0, 2.0, 9.0, 22.0])   # T3, T4 open until as_of


@pytest.mark.parametrize("name", ["log.csv", "log.xlsx"])
def test_a_codebook_column_missing_from_the_file_gets_the_close_header_name(tmp_path, name):
    """Only the role columns are read from the file, but the whole header is
    still there to say "did you mean 'ticketid'?"."""
    frame = pd.DataFrame({"ticketid": ["T1"], "opened": ["2026-01-01 10:00"], "closed": [""], "category": ["a"],
                          "customer": ["C1"], "note": ["x"]})
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_excel(path, index=False)
    with pytest.raises(DataError, match="lacks columns") as err:
        cx.read_log(path, dict(_frame_codebook(), id_column="ticket_id"))
    assert "did you mean 'ticketid'?" in str(err.value)


# --------------------------------------------------------------------------- tables
def test_a_channel_written_as_not_given_is_one_group_with_the_empty_ones():
    """Tickets without a channel are grouped as "(not given)"; a channel the
    export itself writes "(not given)" is the same group, not a second row."""
    frame = pd.DataFrame({"ticket": [f"T{i}" for i in range(6)], "opened": ["2026-01-01 10:00"] * 3 + ["2026-05-01 10:00"] * 3,
                          "closed": ["2026-01-01 12:00"] * 3 + [""] * 3, "category": ["a", "b", "a", "b", "a", "a"],
                          "channel": ["(not given)", "", "phone", "(not given)", None, "phone"], "customer": [""] * 6})
    log = cx.read_log(frame, dict(_frame_codebook(), channel_column="channel"))
    assert cx.pareto(log, "channel")["channel"].tolist() == ["(not given)", "phone"]
    assert cx.pareto(log, "channel")["count"].tolist() == [4, 2]
    assert cx.resolution(log, by="channel")["n"].tolist() == [4, 2]
    table = cx.category_by_period(log, "Q", by="channel")
    assert sorted(set(table["channel"])) == ["(not given)", "phone"]
    assert cx.change_test(log, "Q", by="channel")["groups"].iloc[0] == 2
    short = cx.read_log(frame.assign(channel=["web", "", "app", None, "web", "web"]),
                        dict(_frame_codebook(), channel_column="channel"))
    got = cx.pareto(short, "channel")
    assert list(zip(got["channel"], got["count"])) == [("web", 3), ("(not given)", 2), ("app", 1)]
    assert cx.category_by_period(short, "Q", by="channel")["channel"].tolist() == (
        ["(not given)"] * 2 + ["app"] * 2 + ["web"] * 2)


def _random_log(seed: int):
    """A small log (one ticket to 300) with ties in times (odd seeds), open
    tickets (all of them for seeds 0 and 7), channels missing and written
    "(not given)", customer ids as numbers and text."""
    rng = np.random.default_rng(seed)
    n = [1, 2, 7, 60, 300, 300, 60, 1][seed % 8]
    opened = pd.Timestamp("2025-11-20") + pd.to_timedelta(rng.choice([0, 24, 48, 24 * 40, 24 * 200], n), unit="h")
    hours = rng.choice([1.0, 2.0, 48.0, 100.0], n) if seed % 2 else rng.uniform(0.1, 200, n)
    closed = (opened + pd.to_timedelta(hours, unit="h")).astype(str).to_numpy(dtype=object)
    closed[rng.random(n) < (1.0 if seed % 7 == 0 else 0.3)] = ""   # every ticket open in some logs
    frame = pd.DataFrame({
        "ticket": [f"T{i}" for i in range(n)], "opened": opened.astype(str), "closed": closed,
        "category": rng.choice(["billing", "delivery", "账单", "Billing"], n),
        "channel": rng.choice(["phone", "电话", "", "(not given)"], n),
        "reopened": rng.choice(["", "0", "1"], n),
        "customer": rng.choice(["", "7", "12", "C1", " C2 "], n)})
    cb = dict(_frame_codebook(), channel_column="channel", reopened_column="reopened", sla_hours=24)
    return cx.read_log(frame, cb)


@pytest.mark.parametrize("seed", range(8))
def test_tables_equal_pandas_counting_and_lifelines_on_random_logs(seed):
    """Pareto counts, the category x period table for every period length, the
    change test, resolution per group (Kaplan-Meier with ties, all open, one
    ticket) and the recovery groups, each against a straightforward reference."""
    from lifelines import KaplanMeierFitter
    from scipy import stats

    log = _random_log(seed)
    t = log.tickets
    for by in ("category", "channel"):
        groups = t[by].fillna("(not given)")
        counts = groups.value_counts()
        ref = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        got = cx.pareto(log, by)
        assert list(zip(got[by], got["count"])) == ref
        for period in ("D", "W", "M", "Q", "Y"):
            tab = pd.crosstab(groups, t["opened"].dt.to_period(period))
            long = cx.category_by_period(log, period, by=by)
            assert long["count"].tolist() == tab.to_numpy().ravel().tolist()
            assert long[by].tolist() == np.repeat(tab.index.to_numpy(str), tab.shape[1]).tolist()
            assert long["period"].tolist() == np.tile(tab.columns.astype(str), tab.shape[0]).tolist()
            test = cx.change_test(log, period, by=by).iloc[0]
            if min(tab.shape) >= 2:
                assert test["chi2"] == pytest.approx(stats.chi2_contingency(tab.to_numpy(), correction=False)[0])
            else:
                assert np.isnan(test["chi2"])
        res = cx.resolution(log, by=by).set_index(by)
        for g, grp in t.groupby(groups):
            row = res.loc[g]
            assert (row["n"], row["closed"]) == (len(grp), grp["is_closed"].sum())
            # lifelines' curve, read as ours is: the first time it is down to 0.5 (lifelines'
            # own median is the first time below 0.5, a later time where the curve sits at 0.5)
            curve = KaplanMeierFitter().fit(grp["hours"], grp["is_closed"]).survival_function_.iloc[:, 0]
            down = curve.index[curve.to_numpy() <= 0.5 + 1e-12]
            assert row["median_hours"] == pytest.approx(down[0]) if len(down) else np.isnan(row["median_hours"])
    survey = pd.DataFrame({"id": [7, 7.0, "12", " C1", "C2", None, np.nan, "C9", 99]})
    if t["customer"].isna().all():
        with pytest.raises(DataError, match="no customer ids"):
            cx.recovery_groups(log, survey, "id")
        return
    got = cx.recovery_groups(log, survey, "id").astype(object).tolist()
    worst = {}
    for cust, closed, late in zip(t["customer"], t["is_closed"], t["hours"] > 24):
        if pd.notna(cust):
            worst[cust] = max(worst.get(cust, 0), 3 if not closed else 2 if late else 1)
    names = ["no complaint", "resolved within SLA", "resolved late", "unresolved"]
    keys = log.hash_ids(["7", "7", "12", "C1", "C2", None, None, "C9", "99"])
    ref = [None if pd.isna(k) else names[worst.get(k, 0)] for k in keys]
    assert [None if pd.isna(g) else g for g in got] == ref


def test_padded_stamps_in_a_custom_format_read_as_unpadded(tmp_path, monkeypatch):
    """timestamp_format '%d.%m.%Y %H:%M' with cells padded by spaces, tabs,
    U+3000 and U+00A0, and closed cells empty or only white space: the hours
    written into the file, fast and exact alike."""
    text = ("ticket;opened;closed;category\n"
            "T1; 01.02.2026 10:00;01.02.2026 12:30 ;a\n"
            "T2;\u300002.02.2026 08:00\u3000;\t;b\n"
            "T3;03.02.2026 08:00\u00a0;   ;a\n"
            "T4;03.02.2026 09:00;03.02.2026 21:00;b\n")
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    cb = dict(_frame_codebook(), timestamp_format="%d.%m.%Y %H:%M")
    del cb["customer_id_column"]
    fast = _outcome(cx.read_log, path, cb)
    _assert_same(fast, _outcome(lambda *a: _exact(monkeypatch, *a), path, cb))
    t = fast[1][0]
    assert t["is_closed"].tolist() == [True, False, False, True]
    np.testing.assert_allclose(t["hours"], [2.5, 37.0, 13.0, 12.0])   # as_of: 03.02. 21:00


def test_time_zone_test_by_shape_is_the_test_of_each_stamp():
    """complaint_log._zoned looks at each shape of stamp once (digits as one
    digit); generated stamps with offsets, Z, UTC/GMT, fractions, padding,
    Arabic-Indic and full-width digits: the same answer as _ZONED on each."""
    rng = random.Random(5)
    parts = ["2026-01-02", " ", "T", "10:00", ":00", ".123", ",5", "Z", "z", "+08:00", "-0500", "+08", " UTC", "GMT+8",
             " ", "\u3000", "\t", "٣", "１", "9", "x", ""]
    cells = np.array(["".join(rng.choice(parts) for _ in range(rng.randint(1, 7))) for _ in range(5000)], dtype=object)
    each = np.array([complaint_log._ZONED.search(c) is not None for c in cells])
    assert 100 < each.sum() < 4900
    assert (complaint_log._zoned(cells) == each).all()


@pytest.mark.parametrize("suffix", ["+08:00", "-05:30", "Z", "+00:00"])
def test_one_offset_throughout_reads_as_the_general_parse(suffix):
    """The fast way for stamps that all carry the same offset gives what
    pandas' own parse of every stamp with its offset gives (in UTC)."""
    from csmlib.data.complaint_log import _one_offset, _parse_text

    rng = np.random.default_rng(4)
    local = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 525_600, 500), unit="min")
    cells = np.array([t.strftime("%Y-%m-%d %H:%M") + suffix for t in local] + ["", "2026-02-30 10:00" + suffix,
                      "2026-03-01T08:15:30" + suffix], dtype=object)
    fast = _one_offset(cells)
    assert fast is not None
    truth = pd.to_datetime(pd.Series(cells).replace("", None), format="ISO8601", errors="coerce", utc=True)
    np.testing.assert_array_equal(fast[0], truth.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"))
    np.testing.assert_array_equal(fast[1], truth.notna().to_numpy())
    np.testing.assert_array_equal(_parse_text(cells, None)[0], fast[0])


@pytest.mark.parametrize("cells", [["2026-01-01 10:00+08:00", "2026-01-01 11:00+09:00"],
                                   ["2026-01-01 10:00+08:00", "2026-01-01 11:00"],
                                   ["2026-01-01+08:00", "2026-01-02+08:00"],
                                   [" 2026-01-01 10:00+08:00", "2026-01-01 11:00+08:00 "]])
def test_stamps_that_are_not_one_offset_throughout_go_the_general_way(cells):
    from csmlib.data.complaint_log import _one_offset

    assert _one_offset(np.array(cells, dtype=object)) is None
