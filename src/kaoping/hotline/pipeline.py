"""Reading a hotline file in a separate process and planning each batch (no Django: only parsing,
``ingest.validate``, the workflow replay and row building).

``plan_file`` runs as the target of a spawned process and puts on ``out``, per batch of ``batch``
lines, a ``Plan`` (``pack``ed: ``unpack`` restores it); then ``None``. A failure to read the file is
put as its message (a str). Rows that cannot be read are reported in each plan's ``unreadable``, so
they stay in file order.

A plan assumes that the batch's tickets are new (not stored yet): each ticket comes with its row
for the INSERT (but for ``updated_at``, appended by the writer) and with the batch's events for it,
replayed in time order, each with its row for the INSERT (but for ``ticket_id``, appended by the
writer) or the reason it was refused. The writer checks the assumption with one look-up per batch
and takes the general path for whatever does not hold (a ticket already stored, an event id already
used elsewhere); what the general path needs is rebuilt from the rows (``event_record``,
``ticket_record``). Plain tuples only: pickling records with aware datetimes costs more than the work.

The same row builders serve the writer's general path, so both paths write the same values.
"""

from __future__ import annotations

import datetime as dt
import marshal
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from sys import intern
from typing import Any, NamedTuple

import orjson

from kaoping.core.bulk import batch_owner, gc_paused, sqlite_instant_or_none
from kaoping.hotline.ingest import (
    CallRecord,
    Derived,
    DueOf,
    EventRecord,
    Lookups,
    RecordError,
    TicketRecord,
    replay,
    validate,
)
from kaoping.hotline.workflow import Action, Outcome
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit

Instant = Callable[[dt.datetime | None], Any]
# One event of a batch: (location, ticket id, the event's own unit (a dispatch's target), refusal
# ("" when applied), row in EVENT_COLUMNS order (its ticket_id not filled in yet).
EventItem = tuple[str, str, int | None, str, list[Any]]

TICKET_COLUMNS = (
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
    "state",
    "unit_id",
    "dispatched_at",
    "signed_at",
    "replied_at",
    "due_at",
    "extended_due_at",
    "provisional",
    "closed_at",
    "on_time",
    "returns",
    "return_requests",
    "reopens",
    "urges",
    "urge_level",
    "extensions",
    "extension_requests",
    "extension_pending",
    "dispatches",
    "satisfaction",
    "updated_at",  # last: the writer appends it
)
EVENT_COLUMNS = (
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
    "ticket_id",  # last: the writer appends it
)
CALL_COLUMNS = (
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


def same(value: Any) -> Any:
    return value


def from_instant(value: Any) -> dt.datetime:
    """The aware datetime back from an instant written by ``core.bulk.sqlite_instant`` (or left as it was)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value


def ticket_row(rec: TicketRecord, d: Derived, instant: Instant) -> tuple[Any, ...]:
    """The ticket's row in TICKET_COLUMNS order, without ``updated_at``."""
    m = d.machine
    return (
        rec.source,
        rec.external_id,
        rec.centre_id,
        rec.caller_name,
        rec.caller_phone,
        rec.category,
        rec.content,
        rec.address,
        instant(rec.received_at),
        rec.call_taker_id,
        m.state._value_,  # the plain attribute: Enum.value is a Python-level property
        d.unit_id,
        instant(d.dispatched_at),
        instant(d.signed_at),
        instant(d.replied_at),
        instant(d.due_at),
        instant(d.extended_due_at),
        d.provisional,
        instant(d.closed_at),
        d.on_time,
        m.returns,
        m.return_requests,
        m.reopens,
        m.urges,
        m.urge_level,
        m.extensions,
        m.extension_requests,
        m.extension_pending,
        m.dispatches,
        d.satisfaction,
    )


def ticket_record(row: tuple[Any, ...]) -> TicketRecord:
    return TicketRecord(
        source=row[0],
        external_id=row[1],
        centre_id=row[2],
        category=row[5],
        content=row[6],
        received_at=from_instant(row[8]),
        caller_name=row[3],
        caller_phone=row[4],
        address=row[7],
        call_taker_id=row[9],
    )


def event_row(
    e: EventRecord, step: tuple[int | None, str, str] | None, instant: Instant, ticket: int | None
) -> list[Any]:
    """The event's row in EVENT_COLUMNS order; ``step`` (unit holding the ticket, states before and
    after) is None for an event not applied. ``ticket`` fills ``ticket_id``: the ticket's id, or in
    a plan the ticket's index among the plan's tickets (the writer adds the first id in SQL)."""
    unit_id, before, after = step if step is not None else (e.unit_id, "", "")
    return [
        intern(e.source),  # one object for the whole batch: sent once, by reference after that
        e.external_id,
        e.action._value_,
        e.outcome._value_,
        instant(e.at),
        e.actor_name,
        unit_id,
        before,
        after,
        e.note,
        orjson.dumps(e.data).decode() if e.data else "{}",
        ticket,
    ]


_ACTIONS = {a.value: a for a in Action}
_OUTCOMES = {o.value: o for o in Outcome}


def event_record(
    ticket: str, unit_id: int | None, row: Sequence[Any], unit_paths: Mapping[int, str]
) -> EventRecord:
    """The validated event back from its row (the general path's input)."""
    data = row[10]
    return EventRecord(
        source=row[0],
        external_id=row[1],
        ticket_external_id=ticket,
        action=_ACTIONS[row[2]],
        outcome=_OUTCOMES[row[3]],
        at=from_instant(row[4]),
        unit_id=unit_id,
        unit_path=unit_paths.get(unit_id, "") if unit_id is not None else "",
        actor_name=row[5],
        note=row[9],
        data=orjson.loads(data) if data != "{}" else {},
    )


def call_row(c: CallRecord, instant: Instant) -> tuple[Any, ...]:
    return (
        c.source,
        c.external_id,
        c.centre_id,
        instant(c.started_at),
        instant(c.answered_at),
        instant(c.ended_at),
        c.abandoned,
        c.agent_id,
        c.wait_seconds,
    )


def call_record(row: tuple[Any, ...]) -> CallRecord:
    return CallRecord(
        source=row[0],
        external_id=row[1],
        centre_id=row[2],
        started_at=from_instant(row[3]),
        answered_at=from_instant(row[4]) if row[4] is not None else None,
        ended_at=from_instant(row[5]),
        agent_id=row[7],
    )


class PlannedTicket(NamedTuple):
    where: str
    row: tuple[Any, ...]  # TICKET_COLUMNS without updated_at
    merged_into: str
    # The rows of the batch's events for it, in file order, ``ticket_id`` being the ticket's index
    # among the plan's tickets; applied or not (see ``whys``).
    events: list[list[Any]]
    whys: list[str] | None  # per event, why it was refused ("" if applied); None when all applied
    places: str  # the events' locations, one per line (one object instead of one per event)
    # False when the reader found the ticket stored already: not replayed, its events without steps.
    replayed: bool = True


_MOVES = (Action.DISPATCH.value, Action.REDISPATCH.value)  # the events that carry a unit of their own


def event_items(ticket: PlannedTicket) -> list[EventItem]:
    """A planned ticket's events as items (location, ticket id, own unit, refusal, row), for the
    writer's general path."""
    if not ticket.events:
        return []
    whys = ticket.whys or [""] * len(ticket.events)
    tid = ticket.row[1]
    return [
        (where, tid, row[6] if row[2] in _MOVES else None, why, row)
        for where, why, row in zip(ticket.places.split("\n"), whys, ticket.events, strict=True)
    ]


class Plan(NamedTuple):
    rows: int  # readable rows in the batch
    unreadable: list[tuple[str, str, str]]  # (location, id, reason)
    rejected: list[tuple[str, str, str]]  # invalid records
    duplicates: int  # records given twice in the batch
    tickets: list[PlannedTicket]
    loose: list[EventItem]  # events whose ticket is not in the batch
    calls: list[tuple[str, tuple[Any, ...]]]  # (location, row in CALL_COLUMNS order)
    checked: bool = False  # the reader looked up which of the tickets are stored


class Deadlines:
    """The due instant of a category dispatched to a unit, from the units' calendars (fetched by the
    writer beforehand)."""

    def __init__(self, limits: Mapping[str, Limit], calendars: Mapping[int, WorkCalendar]) -> None:
        self.limits = limits
        self.calendars = calendars

    def __call__(self, category: str, unit_id: int, start: dt.datetime) -> tuple[dt.datetime, bool]:
        due = self.limits[category].due(self.calendars[unit_id], start)
        return due.at, due.provisional


def plan_batch(
    chunk: list[tuple[str, dict[str, Any]]],
    lookups: Lookups,
    centre_paths: Mapping[int, str],
    due_of: DueOf,
    instant: Instant,
    unreadable: list[tuple[str, str, str]],
    stored: Callable[[set[tuple[str, str]]], set[tuple[str, str]]] | None = None,
) -> Plan:
    """``stored`` tells which of the batch's tickets are stored already (committed): those are
    not replayed, as the writer will find them duplicates."""
    rejected: list[tuple[str, str, str]] = []
    tickets: dict[tuple[str, str], tuple[str, TicketRecord]] = {}
    events: dict[tuple[str, str], tuple[str, EventRecord]] = {}
    calls: dict[tuple[str, str], tuple[str, CallRecord]] = {}
    duplicates = 0
    for where, raw in chunk:
        try:
            record = validate(raw, lookups)
        except RecordError as exc:
            rejected.append((where, str(raw.get("id", "")), str(exc)))
            continue
        target: dict[tuple[str, str], Any] = (
            events if type(record) is EventRecord else tickets if type(record) is TicketRecord else calls
        )
        key = (record.source, record.external_id)
        if key in target:
            duplicates += 1
        else:
            target[key] = (where, record)
    by_ticket: dict[tuple[str, str], list[tuple[str, EventRecord]]] = {}
    loose: list[EventItem] = []
    for where, e in events.values():
        ticket_key = (e.source, e.ticket_external_id)
        if ticket_key in tickets:
            by_ticket.setdefault(ticket_key, []).append((where, e))
        else:
            loose.append((where, e.ticket_external_id, e.unit_id, "", event_row(e, None, instant, None)))
    planned = []
    known = stored(set(tickets)) if stored is not None and tickets else set()
    for index, (key, (where, rec)) in enumerate(tickets.items()):
        pending = by_ticket.get(key, [])
        places = "\n".join([w for w, _ in pending])
        if key in known:
            rows = [event_row(e, None, instant, index) for _, e in pending]
            planned.append(
                PlannedTicket(where, ticket_row(rec, Derived(), instant), "", rows, None, places, False)
            )
            continue
        derived, refused = replay(
            [(e, False) for _, e in pending],
            category=rec.category,
            received_at=rec.received_at,
            centre_path=centre_paths[rec.centre_id],
            due_of=due_of,
        )
        steps = derived.steps
        rows = [event_row(e, steps.get(id(e)), instant, index) for _, e in pending]
        whys = None
        if refused:
            why = {id(e): reason for e, reason in refused}
            whys = [why.get(id(e), "") for _, e in pending]
        row = ticket_row(rec, derived, instant)
        planned.append(PlannedTicket(where, row, derived.merged_into, rows, whys, places))
    return Plan(
        rows=len(chunk),
        unreadable=unreadable,
        rejected=rejected,
        duplicates=duplicates,
        tickets=planned,
        loose=loose,
        calls=[(where, call_row(c, instant)) for where, c in calls.values()],
        checked=stored is not None,
    )


def pack(plan: Plan) -> bytes:
    """A plan for the queue to the writer. Plain tuples and lists in ``marshal``'s format, which
    writes them several times faster than pickle (a third of a second per 100,000 tickets) and reads
    them a little faster; both ends are the same interpreter. Only for plans whose instants are text
    (SQLite): marshal takes no datetime."""
    tickets = [tuple(t) for t in plan.tickets]  # marshal takes no subclass of tuple
    return marshal.dumps((*plan[:4], tickets, *plan[5:]))


def unpack(data: bytes | Plan) -> Plan:
    if isinstance(data, Plan):  # not packed: it holds datetimes, which marshal does not take
        return data
    rows, unreadable, rejected, duplicates, tickets, loose, calls, checked = marshal.loads(data)
    planned = [PlannedTicket._make(t) for t in tickets]
    return Plan(rows, unreadable, rejected, duplicates, planned, loose, calls, checked)


def _stored_finder(database: str, table: str) -> Callable[[set[tuple[str, str]]], set[tuple[str, str]]]:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)

    def find(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        by_source: dict[str, list[str]] = {}
        for source, external_id in keys:
            by_source.setdefault(source, []).append(external_id)
        found: set[tuple[str, str]] = set()
        for source, ids in by_source.items():
            for start in range(0, len(ids), 5000):
                part = ids[start : start + 5000]
                marks = ", ".join("?" * len(part))
                sql = f"SELECT external_id FROM {table} WHERE source = ? AND external_id IN ({marks})"
                found.update((source, row[0]) for row in db.execute(sql, [source, *part]))
        return found

    return find


def plan_file(
    path: str,
    source: str,
    kind: str,
    lookups: Lookups,
    centre_paths: dict[int, str],
    deadlines: Deadlines,
    batch: int,
    out: Any,
    text_forms: bool = True,
    database: str | None = None,
    ticket_table: str = "",
    part: tuple[int, int] = (0, 1),
) -> None:
    """Read, validate and plan the file batch by batch (a reader process), a batch being ``batch``
    lines (rows) of the file. With ``part`` (index, parts), only this part's batches (see
    ``core.bulk.Reader``). With ``database`` (the SQLite file, when the writer has nothing
    uncommitted) the tickets already stored are looked up on a read-only connection and not
    replayed (a re-import)."""
    from kaoping.cases.files import read_numbered_rows
    from kaoping.core.errors import KaopingError

    instant: Instant = sqlite_instant_or_none if text_forms else same
    default_type = "call" if kind == "calls" else None
    chunk: list[tuple[str, dict[str, Any]]] = []
    unreadable: list[tuple[str, str, str]] = []
    stored = _stored_finder(database, ticket_table) if database else None
    index, parts = part
    current = index  # the number of the batch being gathered

    def plan() -> bytes | Plan:
        planned = plan_batch(chunk, lookups, centre_paths, deadlines, instant, unreadable, stored)
        # Instants as text (SQLite) marshal; as datetimes (PostgreSQL) the queue pickles the plan.
        return pack(planned) if text_forms else planned

    with gc_paused():  # a process of its own, making many short-lived objects without cycles
        try:
            rows = read_numbered_rows(
                Path(path),
                source=source,
                what=f"{kind} file",
                gbt_fields={},
                keep=batch_owner(part, batch) if parts > 1 else None,
            )
            for number, where, record, error in rows:
                while number // batch > current:  # one plan per batch of this part's, even if empty
                    out.put(plan())
                    chunk, unreadable = [], []
                    current += parts
                if record is None:
                    unreadable.append((where, "", error))
                    continue
                if default_type and "type" not in record:
                    record["type"] = default_type
                chunk.append((where, record))
            if chunk or unreadable:
                out.put(plan())
        except KaopingError as exc:
            out.put(exc.message)
        except Exception as exc:  # a damaged file must end the import with a message, not hang it
            out.put(f"could not be read: {exc}")
    out.put(None)
