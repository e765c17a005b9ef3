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
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction

from kaoping.core import clock
from kaoping.core.bulk import Reader, gc_paused, readable_sqlite_file, sqlite_instant_or_none
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, unit_scope_q
from kaoping.evidence.digest import texts_digest
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
from kaoping.hotline.pipeline import (
    CALL_COLUMNS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    Deadlines,
    EventItem,
    Instant,
    Plan,
    PlannedTicket,
    call_record,
    call_row,
    event_items,
    event_record,
    event_row,
    same,
    ticket_record,
    ticket_row,
    unpack,
)
from kaoping.hotline.services import category_limits
from kaoping.hotline.workflow import Action, Outcome
from kaoping.org.models import Staff, Unit, UnitKind
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.selectors import get_calendar

BATCH = 20000
READERS = 2  # reader processes for a JSON Lines or CSV file
COMMIT_ROWS = 200_000  # a file import commits about this many rows at a time (fewer commits: less WAL)
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

    def for_units(self, unit_ids: Iterable[int]) -> Deadlines:
        """The same deadlines for these units, without the database (for the reader process)."""
        calendars = {}
        for unit in Unit.objects.filter(pk__in=list(unit_ids)):
            calendars[unit.pk] = self._calendars.get(unit.pk) or get_calendar(unit=unit)
        return Deadlines(self.limits, calendars)


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


def _select_keys(
    table: str, columns: str, keys: Iterable[tuple[str, str]], partial: str = ""
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``table`` whose (source, external_id) is one of ``keys``: raw SQL, large IN lists.
    ``partial`` repeats the condition of a partial unique index on the keys: SQLite uses such an
    index only when the query's WHERE implies it (without it each look-up scanned the table)."""
    with connection.cursor() as cursor:
        for source, ids in _in_chunks(keys):
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT external_id, {columns} FROM {table} "
                f"WHERE source = %s AND external_id IN ({marks}){partial}",
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
    # TicketEvent's unique index leaves out events without an id (steps taken in Kaoping).
    partial = " AND NOT (external_id = '')" if model is TicketEvent else ""
    return {(row[0], row[1]) for row in _select_keys(model._meta.db_table, "1", keys, partial)}


_SQLITE = connection.vendor == "sqlite"
# An aware instant as the database driver takes it (on SQLite: UTC text, as Django writes it).
_INSTANT: Instant = sqlite_instant_or_none if _SQLITE else same


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
    now_db = _INSTANT(now)
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
        ticket_rows.append((*ticket_row(rec, derived, _INSTANT), now_db))
        if derived.merged_into:
            merges.append((key, derived.merged_into))
    ids = _insert_tickets(ticket_rows)
    report.tickets += len(ticket_rows)

    # Stored tickets with new events: replay everything they have, recompute, update.
    for key, pending in by_ticket.items():
        pk, category, centre_id, received = stored[key]
        ids[key] = pk
        kept = _replay_stored(pk, category, centre_paths[centre_id], received, pending, deadlines, report)
        accepted_events.extend((key, e, step) for e, step in kept)
    _insert_events([event_row(e, step, _INSTANT, ids[key]) for key, e, step in accepted_events])
    report.events += len(accepted_events)
    _merge(merges, ids)

    new_calls = _new_calls(calls)
    report.duplicates += len(calls) - len(new_calls)
    _insert_calls([call_row(c, _INSTANT) for c in new_calls])
    report.calls += len(new_calls)

    _evidence(
        actor,
        label,
        set(new_tickets).union(k for k, _e, _s in accepted_events),
        len(ticket_rows),
        len(accepted_events),
        [(c.source, c.external_id) for c in new_calls],
    )
    return deferred


def _evidence(
    actor: Actor,
    label: str,
    ticket_keys: set[tuple[str, str]],
    tickets: int,
    events: int,
    call_keys: list[tuple[str, str]],
) -> None:
    """One entry per batch (when it stored anything): the counts, the digest of the tickets it
    created or added events to, and the digest of the calls."""
    if not (tickets or events or call_keys):
        return
    keys = sorted(f"{s}:{i}" for s, i in ticket_keys)
    evidence_append(
        actor=actor,
        action="hotline.import",
        object_type="hotline.import",
        object_id=label[:100],
        state={
            "tickets": tickets,
            "events": events,
            "calls": len(call_keys),
            "keys": texts_digest(keys),
            "calls_keys": texts_digest(sorted(f"{s}:{i}" for s, i in call_keys)),
        },
    )


def _merge(merges: list[tuple[tuple[str, str], str]], ids: dict[tuple[str, str], int]) -> None:
    for key, into in merges:
        target_key = (key[0], into)
        into_id = ids.get(target_key) or _existing_tickets({target_key}).get(target_key, (None,))[0]
        Ticket.objects.filter(pk=ids[key]).update(merged_into_id=into_id)


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


def _executemany(table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]], last: str = "") -> None:
    """``last``, when given, is the last column's value expression in place of its parameter."""
    if not rows:
        return
    values = ["%s"] * len(columns)
    if last:
        values[-1] = last
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_tickets(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
    """Insert ticket rows (TICKET_COLUMNS order); their ids by (source, external_id)."""
    if not rows:
        return {}
    table = Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        before = cursor.fetchone()[0]
        _executemany(table, TICKET_COLUMNS, rows)
        cursor.execute(f"SELECT source, external_id, id FROM {table} WHERE id > %s", [before])
        return {(source, external_id): pk for source, external_id, pk in cursor.fetchall()}


def _insert_events(rows: list[list[Any]], shift: int = 0) -> None:
    """Insert event rows (EVENT_COLUMNS order); ``shift`` is added to each row's ticket_id."""
    _executemany(TicketEvent._meta.db_table, EVENT_COLUMNS, rows, last=f"%s + {int(shift)}" if shift else "")


def _insert_calls(rows: list[tuple[Any, ...]]) -> None:
    _executemany(CallRow._meta.db_table, CALL_COLUMNS, rows)


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
    from events).

    The same rules as ``hotline_ingest`` (batches of ``BATCH`` rows, one evidence entry each), with
    the file read, validated and each batch planned (``pipeline.plan_file``: tickets assumed new,
    replayed, rows built) in a second process while this one looks up and writes. Batches commit
    together, about ``COMMIT_ROWS`` rows at a time."""
    from kaoping.cases.files import detect_format
    from kaoping.hotline.pipeline import plan_file

    what = f"{kind} file"
    if kind not in ("tickets", "calls"):
        raise KaopingError(ErrorCode.INVALID, what="hotline file", why=f"unknown kind {kind!r}")
    file_format = detect_format(path, what)
    if not path.exists():
        raise KaopingError(ErrorCode.BAD_FILE, what=what, where=str(path), why="does not exist")
    report = HotlineReport()
    unreadable: list[Rejection] = []
    lookups = load_lookups()
    deadlines = _Deadlines()
    planned = deadlines.for_units(unit_id for unit_id, _path in lookups.units.values())
    unit_paths = {unit_id: unit_path for unit_id, unit_path in lookups.units.values()}
    centre_paths = dict(Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE).values_list("pk", "path"))
    _bulk_pragmas()
    failure: str | None = None
    deferred: list[tuple[str, EventRecord]] = []
    reader = Reader(
        plan_file,
        # Reading and planning cost more than writing: two processes share a file, each planning
        # every other batch (a workbook is parsed whole by each, so it gets one).
        parts=1 if file_format == "xlsx" else READERS,
        nice=10,  # they run ahead of the writer, which is the slower side: it goes first
        path=str(path),
        source=source,
        kind=kind,
        lookups=Lookups(centres=dict(lookups.centres), units=dict(lookups.units), staff=dict(lookups.staff)),
        centre_paths=centre_paths,
        deadlines=planned,
        batch=BATCH,
        text_forms=_SQLITE,
        # The reader looks up the stored tickets itself when it can see what this connection sees.
        database=readable_sqlite_file(),
        ticket_table=Ticket._meta.db_table,
    )
    with reader, gc_paused():  # the plans are millions of small tuples, freed by refcount
        done = False
        while not done:
            with transaction.atomic():
                stored = 0
                while stored < COMMIT_ROWS:
                    message = reader.get()
                    if message is None or isinstance(message, str):
                        done, failure = True, message
                        break
                    item = unpack(message)
                    unreadable.extend(Rejection(*r) for r in item.unreadable)
                    report.rejected.extend(Rejection(*r) for r in item.rejected)
                    report.duplicates += item.duplicates
                    deferred.extend(_store_plan(actor, item, label, report, deadlines, unit_paths))
                    stored += item.rows
                    if on_progress and item.rows:
                        on_progress(item.rows)
    if failure is not None:
        raise KaopingError(ErrorCode.BAD_FILE, what=what, where=path.name, why=failure)
    if deferred:
        left = _store(actor, list(deferred), label, report, deadlines, defer=False)
        assert not left
    report.rejected = unreadable + report.rejected
    return report


def _bulk_pragmas() -> None:
    """On SQLite, a bigger page cache and memory-mapped reads for this connection's bulk work."""
    if _SQLITE:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB, allocated only as used
            cursor.execute("PRAGMA mmap_size=2147483648")
            cursor.execute("PRAGMA wal_autocheckpoint=25000")  # ~100 MB of WAL between checkpoints


def _store_plan(
    actor: Actor,
    plan: Plan,
    label: str,
    report: HotlineReport,
    deadlines: _Deadlines,
    unit_paths: dict[int, str],
) -> list[tuple[str, EventRecord]]:
    """A planned batch in one transaction (a savepoint inside the file's). When an event id of a new
    ticket turns out to belong to another ticket, the batch is redone by the general path with every
    event looked up."""
    try:
        with transaction.atomic():
            attempt = HotlineReport()
            deferred = _store_planned(actor, plan, label, attempt, deadlines, unit_paths)
    except (IntegrityError, _NotPlannedError):
        with transaction.atomic():
            attempt = HotlineReport()
            deferred = _store_batch(
                actor, _records_of(plan, unit_paths), label, attempt, deadlines, defer=True, check_all=True
            )
    report.tickets += attempt.tickets
    report.events += attempt.events
    report.calls += attempt.calls
    report.duplicates += attempt.duplicates
    report.rejected.extend(attempt.rejected)
    return deferred


class _NotPlannedError(Exception):
    """A ticket the reader saw stored (and did not replay) is not stored any more."""


def _records_of(
    plan: Plan, unit_paths: dict[int, str]
) -> list[tuple[str, TicketRecord | EventRecord | CallRecord]]:
    """The validated records back from a plan, for the general path (tickets, their events, the
    other events, calls)."""
    out: list[tuple[str, TicketRecord | EventRecord | CallRecord]] = []
    for ticket in plan.tickets:
        out.append((ticket.where, ticket_record(ticket.row)))
        out.extend((w, event_record(t, u, row, unit_paths)) for w, t, u, _why, row in event_items(ticket))
    out.extend((w, event_record(t, u, row, unit_paths)) for w, t, u, _why, row in plan.loose)
    out.extend((w, call_record(row)) for w, row in plan.calls)
    return out


def _store_planned(
    actor: Actor,
    plan: Plan,
    label: str,
    report: HotlineReport,
    deadlines: _Deadlines,
    unit_paths: dict[int, str],
) -> list[tuple[str, EventRecord]]:
    """What ``_store_batch`` does, from the reader's plan: the planned tickets found stored count as
    duplicates and their events join those whose ticket is not in the batch (looked up, replayed
    with the stored ones); the others go in as planned."""
    now_db = _INSTANT(clock.now())
    loose_keys = {(row[0], t) for _w, t, _u, _why, row in plan.loose}
    if plan.checked and all(t.replayed for t in plan.tickets):
        # The reader found none of the tickets stored: should one be stored by now (given twice in
        # the file, or sent meanwhile), its INSERT fails and the batch takes the general path.
        stored = _existing_tickets(loose_keys) if loose_keys else {}
    else:
        stored = _existing_tickets({(t.row[0], t.row[1]) for t in plan.tickets} | loose_keys)
    new: list[tuple[int, PlannedTicket]] = []
    later: list[EventItem] = []
    for index, ticket in enumerate(plan.tickets):
        if (ticket.row[0], ticket.row[1]) in stored:
            report.duplicates += 1
            later.extend(event_items(ticket))
        elif not ticket.replayed:
            raise _NotPlannedError
        else:
            new.append((index, ticket))
    later.extend(plan.loose)

    # New tickets: as planned. Their events' ticket_id holds the ticket's index in the plan; when
    # the ids follow the indexes (the usual case: the tickets went in together, none left out), the
    # INSERT adds one offset to turn each into its id, and the rows go in untouched.
    ticket_rows = [(*t.row, now_db) for _index, t in new]
    ids = _insert_tickets(ticket_rows)
    report.tickets += len(ticket_rows)
    shifts = {ids[(t.row[0], t.row[1])] - index for index, t in new}
    shift = shifts.pop() if len(shifts) == 1 else None
    rows: list[list[Any]] = []
    for _index, t in new:
        if shift is None:
            stored_as = ids[(t.row[0], t.row[1])]
            for row in t.events:
                row[-1] = stored_as
        if t.whys is None:
            rows.extend(t.events)
            continue
        for where, why, row in zip(t.places.split("\n"), t.whys, t.events, strict=True):
            if why:
                report.rejected.append(Rejection(where, row[1], why))
            else:
                rows.append(row)

    # Events of stored tickets: known ones are duplicates, new ones replay with the stored ones.
    deferred: list[tuple[str, EventRecord]] = []
    kept: list[tuple[tuple[str, str], EventRecord, tuple[int | None, str, str]]] = []
    if later:
        seen = _existing_keys(
            TicketEvent, {(row[0], row[1]) for _w, t, _u, _why, row in later if (row[0], t) in stored}
        )
        by_ticket: dict[tuple[str, str], list[tuple[str, EventRecord]]] = defaultdict(list)
        for where, ticket_id, unit_id, _why, row in later:
            ticket_key = (row[0], ticket_id)
            if (row[0], row[1]) in seen:
                report.duplicates += 1
            elif ticket_key in stored:
                by_ticket[ticket_key].append((where, event_record(ticket_id, unit_id, row, unit_paths)))
            else:
                deferred.append((where, event_record(ticket_id, unit_id, row, unit_paths)))
        centre_paths = dict(Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE).values_list("pk", "path"))
        for key, pending in by_ticket.items():
            pk, category, centre_id, received = stored[key]
            ids[key] = pk
            steps = _replay_stored(
                pk, category, centre_paths[centre_id], received, pending, deadlines, report
            )
            kept.extend((key, e, step) for e, step in steps)
    _insert_events(rows, shift or 0)
    late_rows = [event_row(e, step, _INSTANT, ids[key]) for key, e, step in kept]
    _insert_events(late_rows)
    report.events += len(rows) + len(late_rows)
    _merge([((t.row[0], t.row[1]), t.merged_into) for _index, t in new if t.merged_into], ids)

    calls = {(row[0], row[1]): row for _w, row in plan.calls}
    seen_calls = _existing_keys(CallRow, set(calls)) if calls else set()
    call_rows = [row for key, row in calls.items() if key not in seen_calls]
    report.duplicates += len(calls) - len(call_rows)
    _insert_calls(call_rows)
    report.calls += len(call_rows)

    _evidence(
        actor,
        label,
        {(t.row[0], t.row[1]) for _index, t in new}.union(k for k, _e, _s in kept),
        len(ticket_rows),
        len(rows) + len(late_rows),
        [(row[0], row[1]) for row in call_rows],
    )
    return deferred
