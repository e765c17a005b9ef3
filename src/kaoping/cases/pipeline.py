"""Reading a case file in a separate process (no Django: only parsing, ``ingest.validate`` and row
building), so the importing process only looks up, writes and evaluates.

``read_file`` runs as the target of a spawned process and puts on ``out``, per batch of ``batch``
rows, a ``Batch``; then ``None``. A failure to read the file is put as its message (a str).

Records travel as plain tuples (``CaseItem``, ``EventItem``) holding their values as the database
stores them (on SQLite, instants and details as text): pickling the validated records, dataclasses
with aware datetimes, would cost more than validating them. The writer's other callers (the API, the
simulator) build the same tuples from validated records with ``case_item`` and ``event_item``, so
there is one storing path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from kaoping.cases.ingest import CaseRecord, EventRecord, Lookups, RecordError, validate
from kaoping.core.bulk import sqlite_instant

Instant = Callable[[dt.datetime], Any]
# (location, row): the row holds the first 11 of services.CASE_COLUMNS (source … received_at).
CaseItem = tuple[str, tuple[Any, ...]]
# (location, the case's external id, row): the row is services.EVENT_COLUMNS without case_id and
# received_at (source, external_id, kind, at, node, detail).
EventItem = tuple[str, str, tuple[Any, ...]]


class Batch(NamedTuple):
    rows: int  # rows read (readable or not)
    unreadable: list[tuple[str, str, str]]  # (location, id, reason)
    rejected: list[tuple[str, str, str]]  # records that failed validation
    cases: list[CaseItem]
    events: list[EventItem]


def same(value: Any) -> Any:
    return value


def sqlite_detail(detail: dict[str, str]) -> str:
    """An event's detail as Django's JSONField stores it on SQLite (json.dumps)."""
    return json.dumps(detail) if detail else "{}"


def case_item(where: str, rec: CaseRecord, instant: Instant) -> CaseItem:
    return (
        where,
        (
            rec.source,
            rec.external_id,
            rec.matter_id,
            rec.unit_id,
            rec.staff_id,
            rec.channel,
            rec.applicant_kind,
            rec.applicant_name,
            rec.applicant_phone,
            rec.applicant_id_number,
            instant(rec.received_at),
        ),
    )


def event_item(where: str, rec: EventRecord, instant: Instant, detail: Callable[[Any], Any]) -> EventItem:
    return (
        where,
        rec.case_external_id,
        (rec.source, rec.external_id, rec.kind.value, instant(rec.at), rec.node, detail(rec.detail)),
    )


def build_batch(
    chunk: list[tuple[str, dict[str, Any]]],
    lookups: Lookups,
    unreadable: list[tuple[str, str, str]],
    rows: int,
    text_forms: bool,
) -> Batch:
    instant: Instant = sqlite_instant if text_forms else same
    detail: Callable[[Any], Any] = sqlite_detail if text_forms else same
    rejected: list[tuple[str, str, str]] = []
    cases: list[CaseItem] = []
    events: list[EventItem] = []
    for where, raw in chunk:
        try:
            record = validate(raw, lookups)
        except RecordError as exc:
            rejected.append((where, str(raw.get("id", "")), str(exc)))
            continue
        if type(record) is CaseRecord:
            cases.append(case_item(where, record, instant))
        else:
            assert type(record) is EventRecord
            events.append(event_item(where, record, instant, detail))
    return Batch(rows, unreadable, rejected, cases, events)


def read_file(
    path: str, source: str, lookups: Lookups, batch: int, out: Any, text_forms: bool = True
) -> None:
    """Read and validate the file batch by batch (the reader process)."""
    from kaoping.core.bulk import gc_paused
    from kaoping.core.errors import KaopingError

    try:
        with gc_paused():  # a process of its own, making many short-lived objects without cycles
            _read(path, source, lookups, batch, out, text_forms)
    except KaopingError as exc:
        out.put(exc.message)
    except Exception as exc:  # a damaged file must end the import with a message, not hang it
        out.put(f"could not be read: {exc}")
    out.put(None)


def _read(path: str, source: str, lookups: Lookups, batch: int, out: Any, text_forms: bool) -> None:
    from kaoping.cases.files import read_rows

    chunk: list[tuple[str, dict[str, Any]]] = []
    unreadable: list[tuple[str, str, str]] = []
    rows = 0
    for where, record, error in read_rows(Path(path), source=source):
        rows += 1
        if record is None:
            unreadable.append((where, "", error))
        else:
            chunk.append((where, record))
        if rows == batch:
            out.put(build_batch(chunk, lookups, unreadable, rows, text_forms))
            chunk, unreadable, rows = [], [], 0
    if rows:
        out.put(build_batch(chunk, lookups, unreadable, rows, text_forms))


def evaluate_chunks(database: str, tasks: Any, results: Any, now: dt.datetime) -> None:
    """An evaluating process of a file import's final pass (SQLite): sets Django up on the same
    database, then for each chunk of case ids on ``tasks`` puts ``services.derive(chunk, now)`` on
    ``results`` until it gets ``None``. It only reads (autocommit, no lock), the writer writes."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database  # a test database, say: the one the writer uses
    from kaoping.cases.services import derive
    from kaoping.core.bulk import gc_paused

    try:
        with gc_paused():  # a process of its own, building many short-lived objects without cycles
            while (chunk := tasks.get()) is not None:
                results.put(derive(chunk, now))
    except Exception as exc:  # the writer must hear of it rather than wait
        results.put(f"evaluation failed: {exc!r}")
