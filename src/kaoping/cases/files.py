"""Reading case records from files: JSON Lines, CSV and XLSX, each row with its location.

Rows of CSV and XLSX use the JSON field names as column headers (or the GB/T 39046-2020 names, which
are mapped). A row that cannot even be read (bad JSON, say) is yielded as an error, not raised."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

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
    keep_record: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
    """``read_rows`` with each row's number (its line, or its sheet row) first. With ``keep``, only
    the rows whose number it accepts; a JSON line left out is not even parsed. With
    ``keep_record``, only the readable rows whose raw record it accepts (and all unreadable ones).
    Several reader processes share a file these ways."""
    kind = detect_format(path, what)
    if not path.exists():
        raise KaopingError(ErrorCode.BAD_FILE, what=what, where=str(path), why="does not exist")
    rows = {"jsonl": _jsonl, "csv": _csv, "xlsx": _xlsx}[kind](path, keep)
    for number, where, record, error in rows:
        if record is not None:
            if keep_record is not None and not keep_record(record):
                continue
            record = _normalise(record, source, gbt_fields, from_gbt)
        yield number, where, record, error


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


def _jsonl(path: Path, keep: Callable[[int], bool] | None) -> Numbered:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if (keep is not None and not keep(number)) or not line.strip():
                continue
            where = f"line {number}"
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, where, None, f"not valid JSON: {exc}"
                continue
            if not isinstance(record, dict):
                yield number, where, None, "a line must hold one JSON object"
                continue
            yield number, where, record, ""


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
