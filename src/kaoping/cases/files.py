"""Reading case records from files: JSON Lines, CSV and XLSX, each row with its location.

Rows of CSV and XLSX use the JSON field names as column headers (or the GB/T 39046-2020 names, which
are mapped). A row that cannot even be read (bad JSON, say) is yielded as an error, not raised."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from zlib import crc32

import orjson

from kaoping.cases.ingest import GBT_CASE_FIELDS, from_gbt
from kaoping.core.errors import ErrorCode, KaopingError

FORMATS = ("jsonl", "csv", "xlsx")
Row = tuple[str, dict[str, Any] | None, str]  # (location, record or None, error)


def detect_format(path: Path, what: str = "case file") -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in FORMATS:
        return suffix
    raise KaopingError(
        ErrorCode.BAD_FILE,
        what=what,
        where=path.name,
        why=f"unknown format {suffix!r}: use .jsonl, .csv or .xlsx",
    )


def read_rows(
    path: Path,
    *,
    source: str,
    what: str = "case file",
    gbt_fields: Mapping[str, str] = GBT_CASE_FIELDS,
    from_gbt: Callable[..., dict[str, Any]] = from_gbt,
) -> Iterator[Row]:
    """Every row of the file as a raw record; ``source`` fills in a missing source system. Rows that
    use the GB/T 39046-2020 names (``gbt_fields``) are mapped with ``from_gbt``."""
    for _number, where, record, error in read_numbered_rows(
        path, source=source, what=what, gbt_fields=gbt_fields, from_gbt=from_gbt
    ):
        yield where, record, error


def read_numbered_rows(
    path: Path,
    *,
    source: str,
    what: str = "case file",
    gbt_fields: Mapping[str, str] = GBT_CASE_FIELDS,
    from_gbt: Callable[..., dict[str, Any]] = from_gbt,
    keep: Callable[[int], bool] | None = None,
    by_case: tuple[int, int] | None = None,
    cleaned: bool = True,
) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
    """``read_rows`` with each row's number (its line, or its sheet row) first. With ``keep``, only
    the rows whose number it accepts; a JSON line left out is not even parsed. With ``by_case``
    (index, parts), only the part's share of a case file's records: those whose case (a case's own
    id, an event's ``case``) hashes to it, so a case and its events are read by one part; a JSON line
    whose case is plain in its bytes (almost always) is not parsed when it is another part's. Each
    unreadable row is one part's too. Several reader processes share a file these ways. Without
    ``cleaned`` the records come as read, for the caller to ``clean``."""
    kind = detect_format(path, what)
    if not path.exists():
        raise KaopingError(ErrorCode.BAD_FILE, what=what, where=str(path), why="does not exist")
    if kind == "jsonl":
        # Cleaned as they are read: a million records skip a generator's hop each.
        yield from _jsonl(
            path,
            keep,
            by_case,
            (lambda record: _normalise(record, source, gbt_fields, from_gbt)) if cleaned else _same,
        )
        return
    rows = {"csv": _csv, "xlsx": _xlsx}[kind](path, keep)
    if by_case is not None:
        rows = _shared(rows, *by_case)
    for number, where, record, error in rows:
        if record is not None and cleaned:
            record = _normalise(record, source, gbt_fields, from_gbt)
        yield number, where, record, error


def _same(record: dict[str, Any]) -> dict[str, Any]:
    return record


def clean(record: dict[str, Any], source: str) -> dict[str, Any]:
    """A record as ``read_numbered_rows`` cleans it: GB/T 39046-2020 names mapped, empty values
    dropped, the source system filled in."""
    return _normalise(record, source, GBT_CASE_FIELDS, from_gbt)


Numbered = Iterator[tuple[int, str, dict[str, Any] | None, str]]


def _normalise(
    record: dict[str, Any],
    source: str,
    gbt_fields: Mapping[str, str],
    from_gbt: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    if gbt_fields and not gbt_fields.keys().isdisjoint(record):
        return from_gbt(record, default_source=source)
    values = record.values()
    cleaned = (
        {k: v for k, v in record.items() if v not in (None, "")} if None in values or "" in values else record
    )
    cleaned.setdefault("source", source)
    return cleaned


def record_key(record: Mapping[str, Any]) -> bytes:
    """The case a raw record is about, for sharing a file by case: its own id, or an event's case
    (a record with GB/T 39046 names is a case)."""
    name = "case" if record.get("type") == "event" else "id" if "id" in record else "办件编号"
    value = record.get(name)
    return b"" if value is None else str(value).strip().encode()


def line_key(line: bytes) -> bytes | None:
    """``record_key`` read from a JSON line's bytes, without parsing it: the text of its "case"
    value (only events have one), else of its "id"; None when neither is there. Deterministic, so
    every part decides alike; where it differs from the parsed key (an escape in an id) a case and
    its events may be read by different parts, which costs a recomputation, not a fault."""
    at = line.find(b'"case":')
    if at < 0:
        at = line.find(b'"id":')
        if at < 0:
            return None
        at += 5
    else:
        at += 7
    start = line.find(b'"', at) + 1
    end = line.find(b'"', start)
    return line[start:end].strip() if start and end > 0 else None


def _shared(rows: Numbered, index: int, parts: int) -> Numbered:
    for number, where, record, error in rows:
        mine = number % parts if record is None else crc32(record_key(record)) % parts
        if mine == index:
            yield number, where, record, error


def _jsonl(
    path: Path,
    keep: Callable[[int], bool] | None,
    by_case: tuple[int, int] | None,
    clean: Callable[[dict[str, Any]], dict[str, Any]],
) -> Numbered:
    index, parts = by_case or (0, 1)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            # A line is blank, or starts with "{" (then not blank): most are spared a stripped copy.
            if (keep is not None and not keep(number)) or (line[0] != 123 and not line.strip()):
                continue
            key = line_key(line) if parts > 1 else None
            if key is not None and crc32(key) % parts != index:
                continue  # another part's: not parsed
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                if key is not None or number % parts == index:
                    yield number, f"line {number}", None, f"not valid JSON: {exc}"
                continue
            if not isinstance(record, dict):
                if key is not None or number % parts == index:
                    yield number, f"line {number}", None, "a line must hold one JSON object"
                continue
            if key is None and parts > 1 and crc32(record_key(record)) % parts != index:
                continue
            yield number, f"line {number}", clean(record), ""


def _csv(path: Path, keep: Callable[[int], bool] | None) -> Numbered:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=2):  # line 1 is the header
            if keep is not None and not keep(number):
                continue
            if None in row:
                yield number, f"line {number}", None, "more cells than the header has columns"
                continue
            yield number, f"line {number}", dict(row), ""


def _xlsx(path: Path, keep: Callable[[int], bool] | None) -> Numbered:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise KaopingError(
            ErrorCode.BAD_FILE, what="case file", where=path.name, why=f"not a readable XLSX workbook: {exc}"
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    for number, values in enumerate(rows, start=2):
        if keep is not None and not keep(number):
            continue
        record = {}
        for name, value in zip(header, values, strict=False):
            if not name or value is None:
                continue
            if isinstance(value, dt.datetime):
                # Excel keeps no time zone: a datetime cell would be a silent guess.
                yield (
                    number,
                    f"row {number}",
                    None,
                    f"{name}: a date cell has no UTC offset; write it as ISO 8601 text",
                )
                break
            record[name] = value if isinstance(value, str) else str(value)
        else:
            if record:
                yield number, f"row {number}", record, ""
    book.close()
