"""Ratings as rows of the ratings table (no Django: the file reader's process builds them).

A *draft* is ``(location, case source, case number, row)``: ``row`` holds every column in ``COLUMNS``
order, ready for the prepared INSERT, except what only the writer knows: the case's id (and, for a
rating of a case, the case's unit and staff member) and the moment of receipt. The writer completes it
with ``complete``. Drafts are plain tuples of text, numbers and booleans because a million of them
cross from the reader process to the writer: pickling named tuples with aware datetimes cost more than
validating them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from kaoping.core.bulk import sqlite_instant
from kaoping.ratings.ingest import RatingRecord, RecordError

COLUMNS = (
    "source",
    "external_id",
    "case_id",
    "unit_id",
    "staff_id",
    "level",
    "channel",
    "attempt",
    "rater_kind",
    "real_name",
    "rater_name",
    "rater_phone",
    "rater_id_number",
    "text",
    "tags",
    "rated_at",
    "received_at",
    "device",
    "ip",
    "defaulted",
    "excluded",
)
# Positions in a row.
SOURCE, EXTERNAL_ID, CASE, UNIT, STAFF, LEVEL, CHANNEL, ATTEMPT = range(8)
TEXT, TAGS, RATED_AT, RECEIVED_AT = 13, 14, 15, 16

Row = tuple[Any, ...]
CaseRow = tuple[int, str, int, int | None]  # a stored case as ingestion needs it: id, source, unit, staff
# The case a draft names, once looked up: the case, or why it cannot be (field, reason); None when the
# rating names no case or it has not been looked up yet.
Resolution = CaseRow | tuple[str, str] | None
Draft = tuple[str, str, str, Row, Resolution]  # (location, case source, case number, row, case)


def sqlite_tags(tags: list[str]) -> str:
    return orjson.dumps(tags).decode()


def instant_of(value: Any) -> dt.datetime:
    """The aware instant of a stored ``rated_at``: the SQLite text (UTC) or the datetime itself."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value


def draft(
    where: str,
    record: RatingRecord,
    instant: Callable[[dt.datetime], Any] = sqlite_instant,
    tags: Callable[[list[str]], Any] = sqlite_tags,
) -> Draft:
    """A validated record as a draft; ``instant`` and ``tags`` write those values as the database
    backend takes them (by default SQLite's text forms)."""
    return (
        where,
        record.case_source,
        record.case_external_id,
        (
            record.source,
            record.external_id,
            None,
            record.unit_id,
            record.staff_id,
            record.level,
            record.channel,
            record.attempt,
            record.rater_kind,
            record.real_name,
            record.rater_name,
            record.rater_phone,
            record.rater_id_number,
            record.text,
            tags(list(record.tags)),
            instant(record.rated_at),
            None,
            record.device,
            record.ip,
            False,
            False,
        ),
        None,
    )


def complete(row: Row, case: CaseRow | None, received: Any) -> Row:
    """The row to insert: a rating of a case takes the case's id and unit, and its staff member when
    the rating names none; every row takes the moment of receipt."""
    if case is None:
        return (*row[:RECEIVED_AT], received, *row[RECEIVED_AT + 1 :])
    staff = row[STAFF] if row[STAFF] is not None else case[3]
    return (
        row[0],
        row[1],
        case[0],
        case[2],
        staff,
        *row[LEVEL:RECEIVED_AT],
        received,
        *row[RECEIVED_AT + 1 :],
    )


def find_cases(
    drafts: Sequence[Draft],
    query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
    *,
    table: str,
    mark: str,
) -> dict[str, list[CaseRow]]:
    """Case number → the stored cases with that number (several sources may use one number).

    Numbers that come with their source system are looked up by (source, number), the unique key;
    the others by number alone (indexed too), which may find several. ``query`` runs one SELECT
    (``mark`` is its placeholder) and returns the rows, 900 numbers at a time."""
    with_source: dict[str, set[str]] = defaultdict(set)
    bare: set[str] = set()
    for _, case_source, number, _, _ in drafts:
        if number:
            (with_source[case_source] if case_source else bare).add(number)
    select = f"SELECT id, external_id, source, unit_id, staff_id FROM {table} WHERE "
    wanted: list[tuple[str, list[Any], list[str]]] = []
    if bare:
        wanted.append(("external_id IN ({})", [], sorted(bare)))
    for source, numbers in with_source.items():
        wanted.append((f"source = {mark} AND external_id IN ({{}})", [source], sorted(numbers)))
    found: dict[str, list[CaseRow]] = {}
    for where, fixed, values in wanted:
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            sql = select + where.format(", ".join([mark] * len(chunk)))
            for pk, number, source, unit_id, staff_id in query(sql, [*fixed, *chunk]):
                same = found.get(number)
                if same is None:
                    found[number] = [(pk, source, unit_id, staff_id)]
                elif all(c[0] != pk for c in same):
                    same.append((pk, source, unit_id, staff_id))
    return found


def resolve_case(case_source: str, number: str, cases: dict[str, list[CaseRow]]) -> CaseRow:
    candidates = cases.get(number, [])
    if len(candidates) == 1 and (not case_source or candidates[0][1] == case_source):
        return candidates[0]  # the usual case, first
    if case_source:
        candidates = [c for c in candidates if c[1] == case_source]
    if not candidates:
        source = f" from {case_source!r}" if case_source else ""
        raise RecordError("case", f"no case {number!r}{source} (send the case first)")
    if len(candidates) > 1:
        sources = ", ".join(sorted(c[1] for c in candidates))
        raise RecordError("case_source", f"case number {number!r} exists in {sources}: say which")
    return candidates[0]


def resolved(drafts: list[Draft], cases: dict[str, list[CaseRow]]) -> list[Draft]:
    """The drafts with the case each names looked up in ``cases`` (from ``find_cases``)."""
    out: list[Draft] = []
    for where, case_source, number, row, _ in drafts:
        case: Resolution = None
        if number:
            try:
                case = resolve_case(case_source, number, cases)
            except RecordError as exc:
                case = (exc.field, exc.why)
        out.append((where, case_source, number, row, case))
    return out
