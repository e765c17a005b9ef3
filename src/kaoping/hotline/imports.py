"""Storing hotline records: tickets with their events, and call records. Idempotent by source and id,
in batches (one transaction and one evidence entry each), every bad row reported with its location
and reason while the good ones land.

A ticket's derived fields (state, unit, deadlines, counters …) are those of the replay of all its
events through the workflow (``ingest.replay``): a late or out-of-order event is accepted when the
sequence stays legal and the ticket is recomputed; one that does not fit is refused.
Rows go in with prepared statements over the batch (``executemany``): the bulk path takes no
ORM object per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, unit_scope_q
from kaoping.evidence.services import Actor, evidence_append
from kaoping.hotline.ingest import (
    CallRecord,
    Derived,
    EventRecord,
    Lookups,
    RecordError,
    TicketRecord,
    replay,
    validate,
)
from kaoping.hotline.models import CallRecord as CallRow
from kaoping.hotline.models import Ticket, TicketEvent
from kaoping.hotline.services import category_limits
from kaoping.hotline.workflow import Action, Outcome
from kaoping.org.models import Staff, Unit, UnitKind
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.selectors import get_calendar

BATCH = 20000
CHUNK = 5000  # parameters per IN (…) lookup (SQLite ≥3.32 takes 32,766)


@dataclass
class Rejection:
    where: str
    record_id: str
    reason: str


@dataclass
class HotlineReport:
    tickets: int = 0
    events: int = 0
    calls: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.tickets + self.events + self.calls


def load_lookups(user: User | None = None) -> Lookups:
    """Codes to ids; with a user, only the hotline centres (and their units) in that user's scope."""
    units = Unit.objects.filter(kind__in=[UnitKind.HOTLINE_CENTRE, UnitKind.HANDLING_UNIT], active=True)
    if user is not None:
        units = units.filter(unit_scope_q(user))
    centres: dict[str, tuple[int, str]] = {}
    handling: dict[str, tuple[int, str]] = {}
    for pk, code, kind, path in units.values_list("pk", "code", "kind", "path"):
        (centres if kind == UnitKind.HOTLINE_CENTRE else handling)[code] = (pk, path)
    staff = dict(Staff.objects.values_list("employee_no", "pk"))
    return Lookups(centres=centres, units=handling, staff=staff)


class _Deadlines:
    """The due instant of a category dispatched to a unit: one calendar per unit, fetched once."""

    def __init__(self) -> None:
        self.limits = category_limits()
        self._calendars: dict[int, WorkCalendar] = {}
        self._units: dict[int, Unit] = {}

    def __call__(self, category: str, unit_id: int, start: dt.datetime) -> tuple[dt.datetime, bool]:
        calendar = self._calendars.get(unit_id)
        if calendar is None:
            unit = Unit.objects.get(pk=unit_id)
            calendar = self._calendars[unit_id] = get_calendar(unit=unit)
        due = self.limits[category].due(calendar, start)
        return due.at, due.provisional


def hotline_ingest(
    *,
    actor: Actor,
    records: Iterable[tuple[str, dict[str, Any]]],
    label: str,
    orphans: str = "defer",
    user: User | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> HotlineReport:
    """Ingest (location, record) pairs. An event whose ticket is not stored yet waits for the end of
    the input (``orphans="defer"``, files) or is refused at once (``"reject"``, the API)."""
    report = HotlineReport()
    lookups = load_lookups(user)
    deadlines = _Deadlines()
    deferred: list[tuple[str, EventRecord]] = []
    iterator = iter(records)
    while True:
        chunk = list(islice(iterator, batch))
        if not chunk:
            break
        valid: list[tuple[str, TicketRecord | EventRecord | CallRecord]] = []
        for where, raw in chunk:
            try:
                valid.append((where, validate(raw, lookups)))
            except RecordError as exc:
                report.rejected.append(Rejection(where, str(raw.get("id", "")), str(exc)))
        deferred.extend(_store(actor, valid, label, report, deadlines, defer=orphans == "defer"))
        if on_progress:
            on_progress(len(chunk))
    if deferred:
        left = _store(actor, list(deferred), label, report, deadlines, defer=False)
        assert not left
    return report


def _in_chunks(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, external_id in keys:
        by_source[source].append(external_id)
    for source, ids in by_source.items():
        for start in range(0, len(ids), CHUNK):
            yield source, ids[start : start + CHUNK]


def _select_keys(table: str, columns: str, keys: Iterable[tuple[str, str]]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``table`` whose (source, external_id) is one of ``keys``: raw SQL, large IN lists."""
    with connection.cursor() as cursor:
        for source, ids in _in_chunks(keys):
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT external_id, {columns} FROM {table} WHERE source = %s AND external_id IN ({marks})",
                [source, *ids],
            )
            for row in cursor.fetchall():
                yield (source, *row)


def _existing_tickets(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str, int, Any]]:
    """(source, id) → (pk, category, centre id, received_at) of the stored tickets."""
    rows = _select_keys(Ticket._meta.db_table, "id, category, centre_id, received_at", keys)
    found = {}
    for source, external_id, pk, category, centre, received in rows:
        if isinstance(received, str):  # SQLite: UTC as text
            received = dt.datetime.fromisoformat(received)
        if received.tzinfo is None:
            received = received.replace(tzinfo=dt.UTC)
        found[(source, external_id)] = (pk, category, centre, received)
    return found


def _existing_keys(model: Any, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(row[0], row[1]) for row in _select_keys(model._meta.db_table, "1", keys)}


def _db_instant(value: dt.datetime | None) -> Any:
    """An aware instant as the database driver takes it (on SQLite: UTC text, as Django writes it)."""
    if value is None:
        return None
    if _SQLITE:
        offset = value.utcoffset()
        assert offset is not None
        return str(value.replace(tzinfo=None) - offset)
    return value


_SQLITE = connection.vendor == "sqlite"


def _store(
    actor: Actor,
    valid: list[tuple[str, TicketRecord | EventRecord | CallRecord]],
    label: str,
    report: HotlineReport,
    deadlines: _Deadlines,
    *,
    defer: bool,
) -> list[tuple[str, EventRecord]]:
    """One batch in one transaction. New tickets' events are inserted without looking them up first
    (a new ticket has no stored events); should one of their ids already belong to another ticket,
    the batch is redone with every event looked up."""
    try:
        with transaction.atomic():
            attempt = HotlineReport()
            deferred = _store_batch(actor, valid, label, attempt, deadlines, defer=defer, check_all=False)
    except IntegrityError:
        with transaction.atomic():
            attempt = HotlineReport()
            deferred = _store_batch(actor, valid, label, attempt, deadlines, defer=defer, check_all=True)
    report.tickets += attempt.tickets
    report.events += attempt.events
    report.calls += attempt.calls
    report.duplicates += attempt.duplicates
    report.rejected.extend(attempt.rejected)
    return deferred


def _store_batch(
    actor: Actor,
    valid: list[tuple[str, TicketRecord | EventRecord | CallRecord]],
    label: str,
    report: HotlineReport,
    deadlines: _Deadlines,
    *,
    defer: bool,
    check_all: bool,
) -> list[tuple[str, EventRecord]]:
    deferred: list[tuple[str, EventRecord]] = []
    tickets: dict[tuple[str, str], tuple[str, TicketRecord]] = {}
    events: dict[tuple[str, str], tuple[str, EventRecord]] = {}
    calls: dict[tuple[str, str], tuple[str, CallRecord]] = {}
    for where, record in valid:
        key = (record.source, record.external_id)
        target: dict[tuple[str, str], Any] = (
            tickets
            if isinstance(record, TicketRecord)
            else events
            if isinstance(record, EventRecord)
            else calls
        )
        if key in target:
            report.duplicates += 1  # twice in one batch
            continue
        target[key] = (where, record)
    now = clock.now()
    stored = _existing_tickets(set(tickets) | {(e.source, e.ticket_external_id) for _, e in events.values()})
    new_tickets = {k: v for k, v in tickets.items() if k not in stored}
    report.duplicates += len(tickets) - len(new_tickets)
    centre_paths = dict(Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE).values_list("pk", "path"))
    to_check = {k for k, (_w, e) in events.items() if check_all or (e.source, e.ticket_external_id) in stored}
    seen_events = _existing_keys(TicketEvent, to_check) if to_check else set()
    by_ticket: dict[tuple[str, str], list[tuple[str, EventRecord]]] = defaultdict(list)
    for key, (where, event) in events.items():
        ticket_key = (event.source, event.ticket_external_id)
        if key in seen_events:
            if ticket_key in stored:
                report.duplicates += 1
            else:
                report.rejected.append(
                    Rejection(where, event.external_id, "id: already used by another ticket's event")
                )
            continue
        if ticket_key not in stored and ticket_key not in new_tickets:
            if defer:
                deferred.append((where, event))
            else:
                report.rejected.append(
                    Rejection(
                        where,
                        event.external_id,
                        f"ticket: no ticket {event.ticket_external_id!r} from {event.source!r} "
                        "(send the ticket first)",
                    )
                )
            continue
        by_ticket[ticket_key].append((where, event))

    # New tickets: replay their events in memory, insert each row once with its final fields.
    accepted_events: list[tuple[tuple[str, str], EventRecord, tuple[int | None, str, str]]] = []
    ticket_rows = []
    merges: list[tuple[tuple[str, str], str]] = []
    for key, (_where, rec) in new_tickets.items():
        pending = by_ticket.pop(key, [])
        derived, refused = replay(
            [(e, False) for _, e in pending],
            category=rec.category,
            received_at=rec.received_at,
            centre_path=centre_paths[rec.centre_id],
            due_of=deadlines,
        )
        if refused:
            _refuse(report, pending, refused)
        steps = derived.steps
        accepted_events.extend((key, e, steps[id(e)]) for _, e in pending if id(e) in steps)
        ticket_rows.append(_ticket_row(rec, derived, now))
        if derived.merged_into:
            merges.append((key, derived.merged_into))
    ids: dict[tuple[str, str], int] = {}
    if ticket_rows:
        with connection.cursor() as cursor:
            table = Ticket._meta.db_table
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            before = cursor.fetchone()[0]
            _insert_tickets(ticket_rows)
            cursor.execute(f"SELECT source, external_id, id FROM {table} WHERE id > %s", [before])
            ids = {(source, external_id): pk for source, external_id, pk in cursor.fetchall()}
    report.tickets += len(ticket_rows)

    # Stored tickets with new events: replay everything they have, recompute, update.
    for key, pending in by_ticket.items():
        pk, category, centre_id, received = stored[key]
        ids[key] = pk
        kept = _replay_stored(pk, category, centre_paths[centre_id], received, pending, deadlines, report)
        accepted_events.extend((key, e, step) for e, step in kept)
    _insert_events([(ids[key], e, step) for key, e, step in accepted_events])
    report.events += len(accepted_events)
    for key, into in merges:
        target_key = (key[0], into)
        into_id = ids.get(target_key) or _existing_tickets({target_key}).get(target_key, (None,))[0]
        Ticket.objects.filter(pk=ids[key]).update(merged_into_id=into_id)

    new_calls = _new_calls(calls)
    report.duplicates += len(calls) - len(new_calls)
    _insert_calls(new_calls)
    report.calls += len(new_calls)

    if ticket_rows or accepted_events or new_calls:
        keys = sorted(f"{s}:{i}" for s, i in [*new_tickets, *(k for k, _e, _s in accepted_events)])
        evidence_append(
            actor=actor,
            action="hotline.import",
            object_type="hotline.import",
            object_id=label[:100],
            state={
                "tickets": len(ticket_rows),
                "events": len(accepted_events),
                "calls": len(new_calls),
                "keys": hashlib.sha256(orjson.dumps(keys)).hexdigest(),
                "calls_keys": hashlib.sha256(
                    orjson.dumps(sorted(f"{c.source}:{c.external_id}" for c in new_calls))
                ).hexdigest(),
            },
        )
    return deferred


def _new_calls(calls: dict[tuple[str, str], tuple[str, CallRecord]]) -> list[CallRecord]:
    seen = _existing_keys(CallRow, set(calls))
    return [rec for key, (_w, rec) in calls.items() if key not in seen]


def _refuse(
    report: HotlineReport, pending: list[tuple[str, EventRecord]], refused: list[tuple[EventRecord, str]]
) -> None:
    where_of = {id(e): w for w, e in pending}
    for event, why in refused:
        report.rejected.append(Rejection(where_of[id(event)], event.external_id, why))


def _stored_events(ticket_id: int) -> list[EventRecord]:
    rows = TicketEvent.objects.filter(ticket_id=ticket_id).exclude(action="accept").order_by("at", "pk")
    units = {}
    out = []
    for row in rows:
        if row.unit_id and row.unit_id not in units:
            units[row.unit_id] = Unit.objects.get(pk=row.unit_id).path
        out.append(
            EventRecord(
                source=row.source,
                external_id=row.external_id,
                ticket_external_id="",
                action=Action(row.action),
                outcome=Outcome(row.outcome),
                at=row.at,
                unit_id=row.unit_id,
                unit_path=units.get(row.unit_id, "") if row.unit_id else "",
                actor_name=row.actor_name,
                note=row.note,
                data=dict(row.data),
            )
        )
    return out


def _replay_stored(
    pk: int,
    category: str,
    centre_path: str,
    received: dt.datetime,
    pending: list[tuple[str, EventRecord]],
    deadlines: _Deadlines,
    report: HotlineReport,
) -> list[tuple[EventRecord, tuple[int | None, str, str]]]:
    """Add late events to a stored ticket: each new event in time order is kept when the whole
    sequence (stored and kept so far) still replays; the ticket is then recomputed."""
    stored = _stored_events(pk)
    kept: list[EventRecord] = []
    derived: Derived | None = None
    for where, event in sorted(pending, key=lambda p: p[1].at):
        try:
            attempt, refused = replay(
                [(e, True) for e in stored + kept] + [(event, False)],
                category=category,
                received_at=received,
                centre_path=centre_path,
                due_of=deadlines,
            )
        except RecordError as exc:
            report.rejected.append(
                Rejection(where, event.external_id, f"conflicts with the ticket's stored steps: {exc}")
            )
            continue
        if refused:
            report.rejected.append(Rejection(where, event.external_id, refused[0][1]))
            continue
        kept.append(event)
        derived = attempt
    if derived is None:
        return []
    Ticket.objects.filter(pk=pk).update(**_derived_fields(derived))
    return [(e, derived.steps[id(e)]) for e in kept]


def _derived_fields(d: Derived) -> dict[str, Any]:
    m = d.machine
    return {
        "state": m.state.value,
        "unit_id": d.unit_id,
        "dispatched_at": d.dispatched_at,
        "signed_at": d.signed_at,
        "replied_at": d.replied_at,
        "due_at": d.due_at,
        "extended_due_at": d.extended_due_at,
        "provisional": d.provisional,
        "closed_at": d.closed_at,
        "on_time": d.on_time,
        "returns": m.returns,
        "return_requests": m.return_requests,
        "reopens": m.reopens,
        "urges": m.urges,
        "urge_level": m.urge_level,
        "extensions": m.extensions,
        "extension_requests": m.extension_requests,
        "extension_pending": m.extension_pending,
        "dispatches": m.dispatches,
        "satisfaction": d.satisfaction,
    }


_TICKET_COLUMNS = (
    "source",
    "external_id",
    "centre_id",
    "caller_name",
    "caller_phone",
    "category",
    "content",
    "address",
    "received_at",
    "call_taker_id",
    "updated_at",
    *_derived_fields(Derived()),
)
_DATETIMES = {"received_at", "updated_at", "dispatched_at", "signed_at", "replied_at", "due_at"} | {
    "extended_due_at",
    "closed_at",
}


def _ticket_row(rec: TicketRecord, derived: Derived, now: dt.datetime) -> list[Any]:
    values = {
        "source": rec.source,
        "external_id": rec.external_id,
        "centre_id": rec.centre_id,
        "caller_name": rec.caller_name,
        "caller_phone": rec.caller_phone,
        "category": rec.category,
        "content": rec.content,
        "address": rec.address,
        "received_at": rec.received_at,
        "call_taker_id": rec.call_taker_id,
        "updated_at": now,
        **_derived_fields(derived),
    }
    return [_db_instant(values[c]) if c in _DATETIMES else values[c] for c in _TICKET_COLUMNS]


def _executemany(table: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_tickets(rows: list[list[Any]]) -> None:
    _executemany(Ticket._meta.db_table, _TICKET_COLUMNS, rows)


_EVENT_COLUMNS = (
    "ticket_id",
    "source",
    "external_id",
    "action",
    "outcome",
    "at",
    "actor_name",
    "unit_id",
    "from_state",
    "to_state",
    "note",
    "data",
)


def _insert_events(rows: list[tuple[int, EventRecord, tuple[int | None, str, str]]]) -> None:
    encoded = []
    for ticket_id, e, (unit_id, from_state, to_state) in rows:
        data = orjson.dumps(e.data).decode() if e.data else "{}"
        encoded.append(
            [
                ticket_id,
                e.source,
                e.external_id,
                e.action.value,
                e.outcome.value,
                _db_instant(e.at),
                e.actor_name,
                unit_id,
                from_state,
                to_state,
                e.note,
                data,
            ]
        )
    _executemany(TicketEvent._meta.db_table, _EVENT_COLUMNS, encoded)


_CALL_COLUMNS = (
    "source",
    "external_id",
    "centre_id",
    "started_at",
    "answered_at",
    "ended_at",
    "abandoned",
    "agent_id",
    "wait_seconds",
)


def _insert_calls(calls: list[CallRecord]) -> None:
    _executemany(
        CallRow._meta.db_table,
        _CALL_COLUMNS,
        [
            [
                c.source,
                c.external_id,
                c.centre_id,
                _db_instant(c.started_at),
                _db_instant(c.answered_at),
                _db_instant(c.ended_at),
                c.abandoned,
                c.agent_id,
                c.wait_seconds,
            ]
            for c in calls
        ],
    )


def hotline_ingest_file(
    *,
    actor: Actor,
    path: Path,
    source: str,
    label: str,
    kind: str,
    on_progress: Callable[[int], None] | None = None,
) -> HotlineReport:
    """A JSON Lines or CSV file of tickets and events (``kind="tickets"``) or of calls (``"calls"``).
    CSV rows without a ``type`` column take the file's kind (ticket rows need one to tell tickets
    from events)."""
    from kaoping.cases.files import read_rows

    if kind not in ("tickets", "calls"):
        raise KaopingError(ErrorCode.INVALID, what="hotline file", why=f"unknown kind {kind!r}")
    unreadable: list[Rejection] = []
    default_type = "call" if kind == "calls" else None

    def records() -> Iterator[tuple[str, dict[str, Any]]]:
        for where, record, error in read_rows(path, source=source, what=f"{kind} file", gbt_fields={}):
            if record is None:
                unreadable.append(Rejection(where, "", error))
                continue
            if default_type and "type" not in record:
                record["type"] = default_type
            yield where, record

    report = hotline_ingest(actor=actor, records=records(), label=label, on_progress=on_progress)
    report.rejected = unreadable + report.rejected
    return report
