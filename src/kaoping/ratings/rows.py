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
from collections.abc import Callable
from typing import Any

import orjson

from kaoping.ratings.ingest import RatingRecord

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
Draft = tuple[str, str, str, Row]  # (location, case source, case number, row)

_UTC = dt.UTC


def sqlite_instant(value: dt.datetime) -> str:
    """An aware instant as Django stores it on SQLite (UTC, no offset, microseconds only when not 0),
    written directly: Django's adapter was a fifth of the import time. Texts of this form sort as
    their instants do."""
    return value.astimezone(_UTC).replace(tzinfo=None).isoformat(" ")


def sqlite_tags(tags: list[str]) -> str:
    return orjson.dumps(tags).decode()


def instant_of(value: Any) -> dt.datetime:
    """The aware instant of a stored ``rated_at``: the SQLite text (UTC) or the datetime itself."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=_UTC)
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
    )


def complete(row: Row, case: tuple[int, str, int, int | None] | None, received: Any) -> Row:
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
