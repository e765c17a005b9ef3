"""Reading a case file in separate processes (no Django: only parsing, ``ingest.validate``, the
deadline engine and row building), so the importing process only looks up and writes.

``read_file`` runs as the target of a spawned process and puts on ``out``, per batch of ``batch``
rows, a ``Batch`` (marshalled when its instants are text: ``unpack`` reads both forms); then
``None``. A failure to read the file is put as its message (a str).

The reader holds each case it reads with the events that follow it, and
sends them together (a ``WholeCase``) once the result has been delivered and a further batch has gone
by (late events of a data fault mostly come within one), or at the end of the file. It evaluates the
case on the way, from those events alone: the writer stores the derived fields with the case, and
recomputes it from the database only if it cannot vouch for them (the case was stored before, one of
its events was not stored as its own, or another event of it came later). A million cases then need
no second pass over their events. With ``part`` the reader is one of several sharing the file by
case (``files.read_numbered_rows``' ``by_case``): it parses, validates and sends only its cases'
records.

Records travel as plain tuples (``CaseItem``, ``EventItem``) holding their values as the database
stores them (on SQLite, instants and details as text): pickling the validated records, dataclasses
with aware datetimes, would cost more than validating them. The writer's other callers (the API, the
simulator) build the same tuples from validated records with ``case_item`` and ``event_item``, so
there is one storing path.
"""

from __future__ import annotations

import datetime as dt
import json
import marshal
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from kaoping.cases.bulk import (
    KIND_COLUMN,
    KINDS,
    NONE,
    UNCOMMON,
    UNIT_CODE,
    columns_from,
    derive_columns,
    pauses_of,
    stored_rows,
)
from kaoping.cases.deadlines import PAUSABLE_NODE, TIMED_NODES, Event, EventKind, evaluate, pair_pauses
from kaoping.cases.derived import derived_values, stored_row
from kaoping.cases.files import clean, read_numbered_rows
from kaoping.cases.ingest import CaseRecord, EventRecord, FastPath, Lookups, RecordError, validate
from kaoping.core.bulk import sqlite_epochs, sqlite_instant
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit

Instant = Callable[[dt.datetime], Any]
# (location, row): the row holds the first 11 of services.CASE_COLUMNS (source … received_at).
CaseItem = tuple[str, tuple[Any, ...]]
# (location, the case's external id, row): the row is services.EVENT_COLUMNS without case_id and
# received_at (source, external_id, kind, at, node, detail).
EventItem = tuple[str, str, tuple[Any, ...]]


# A case the reader evaluated: its item, its ``derived.stored_row`` (with case id 0: the writer
# knows the id), its local day of receipt (an ordinal), and its events' rows (an ``EventItem``'s
# third part), each event once.
WholeCase = tuple[CaseItem, Sequence[Any], int, list[tuple[Any, ...]]]


class Batch(NamedTuple):
    rows: int  # rows read (readable or not)
    unreadable: list[tuple[str, str, str]]  # (location, id, reason)
    rejected: list[tuple[str, str, str]]  # records that failed validation
    cases: list[CaseItem]
    events: list[EventItem]
    whole: list[WholeCase]
    repeated: int  # held cases, and events of them, given again (same id): duplicates, not sent


@dataclass(frozen=True)
class EvalContext:
    """What a reader needs to evaluate cases as ``evaluation.evaluate_case`` does, without Django."""

    now: dt.datetime
    zone: tzinfo
    base_limits: dict[str, Limit]
    handling: dict[int, Limit]  # matter id → its handling limit
    custom: dict[int, dict[str, Limit]]  # matter id → its own nodes' limits
    calendars: dict[int, WorkCalendar]  # unit id → its calendar


def same(value: Any) -> Any:
    return value


def _utc_datetimes(epochs: Any) -> list[dt.datetime | None]:
    """An instant column of ``bulk.derive_columns`` as aware datetimes (PostgreSQL's form)."""
    return [None if epoch == NONE else dt.datetime.fromtimestamp(epoch, dt.UTC) for epoch in epochs.tolist()]


def _sqlite_epochs(epochs: Any) -> list[str | None]:
    return sqlite_epochs(epochs, NONE)


def _text_epochs(texts: list[str]) -> Any:
    """Whole-second ``sqlite_instant`` texts as epoch seconds, parsed by numpy: a twentieth of the
    cost of ``datetime.timestamp``."""
    return np.array(texts, dtype="datetime64[s]").astype(np.int64)


def _datetime_epochs(instants: list[dt.datetime]) -> Any:
    return np.array([int(instant.timestamp()) for instant in instants], dtype=np.int64)


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
    return where, rec.case_external_id, event_row(rec, instant, detail)


def event_row(rec: EventRecord, instant: Instant, detail: Callable[[Any], Any]) -> tuple[Any, ...]:
    # _value_: the enum's value property costs three times the attribute
    return rec.source, rec.external_id, rec.kind._value_, instant(rec.at), rec.node, detail(rec.detail)


def read_file(
    path: str,
    source: str,
    lookups: Lookups,
    batch: int,
    out: Any,
    text_forms: bool,
    context: EvalContext,
    hold: int,
    part: tuple[int, int] | None = None,
) -> None:
    """Read and validate the file batch by batch (a reader process), holding and evaluating whole
    cases (``hold`` of its batches at most); with ``part`` (index, parts), only this part's cases
    and events."""
    from kaoping.core.bulk import gc_paused
    from kaoping.core.errors import KaopingError

    try:
        with gc_paused():  # a process of its own, making many short-lived objects without cycles
            _Reading(lookups, text_forms, context, hold, part).run(path, source, batch, out)
    except KaopingError as exc:
        out.put(exc.message)
    except Exception as exc:  # a damaged file must end the import with a message, not hang it
        out.put(f"could not be read: {exc}")
    out.put(None)


class _Held:
    """A case the reader holds until it sends it whole: its item and its events' rows."""

    __slots__ = ("batch", "closed", "common", "events", "item", "seen", "uncommon")

    def __init__(self, item: CaseItem, batch: int, common: bool) -> None:
        self.item, self.batch = item, batch  # the batch it was read in
        self.events: list[tuple[Any, ...]] = []  # their rows (``event_row``), each event once
        self.seen: set[str] = set()  # their ids
        self.closed = False
        # The bulk evaluation takes it: no instant with a fraction of a second.
        self.common = common
        self.uncommon = False  # it has pauses or extensions (their events are read one by one)


def _utc(instant: Any) -> dt.datetime:
    """An instant of a row as an aware datetime: SQLite's text (UTC) or the datetime itself."""
    if type(instant) is str:
        return dt.datetime.fromisoformat(instant).replace(tzinfo=dt.UTC)
    assert isinstance(instant, dt.datetime)
    return instant


def _whole_second(instant: Any) -> bool:
    return len(instant) == 19 if type(instant) is str else not instant.microsecond


def _engine_event(row: tuple[Any, ...], zone: tzinfo) -> Event:
    """An event's row (``event_row``) as the deadline engine takes it."""
    detail = row[5]
    if type(detail) is str:
        detail = json.loads(detail)
    return Event(
        at=_utc(row[3]).astimezone(zone),
        kind=EventKind(row[2]),
        node=row[4],
        pause_kind=detail.get("pause_kind", ""),
        reason=detail.get("reason", ""),
        approver=detail.get("approver", ""),
        limit=detail.get("limit", ""),
    )


_DELIVERED = EventKind.DELIVERED.value
_HANDLING = next(index for index, (code, _, _) in enumerate(TIMED_NODES) if code == PAUSABLE_NODE)
_NODE_INDEX = {code: index for index, (code, _, _) in enumerate(TIMED_NODES)}


def _pair(limit: Limit) -> tuple[int, int]:
    return limit.amount, UNIT_CODE[limit.unit]


def _pauses_and_extensions(
    number: int, held: _Held, zone: tzinfo, limits: Any, pauses: list[tuple[int, int, int]]
) -> None:
    """A case's pauses onto ``pauses`` (row, start, end or NONE), paired by the engine's own
    ``pair_pauses``, and the limits its extensions grant (the last granted of each timed node, in
    the engine's order of events) into ``limits``."""
    events = sorted(_engine_event(row, zone) for row in held.events if row[2] in UNCOMMON)
    for pause in pair_pauses(events):
        end = NONE if pause.ended_at is None else int(pause.ended_at.timestamp())
        pauses.append((number, int(pause.started_at.timestamp()), end))
    for event in events:
        if event.kind is EventKind.EXTENSION_GRANTED:
            node = _NODE_INDEX.get(event.node or PAUSABLE_NODE)
            if node is not None:
                limits[number, node] = _pair(Limit.parse(event.limit))


def unpack(data: bytes | Batch) -> Batch:
    """A batch as a reader put it: marshalled (instants as text), or pickled by the queue."""
    return data if isinstance(data, Batch) else Batch._make(marshal.loads(data))


class _Reading:
    def __init__(
        self,
        lookups: Lookups,
        text_forms: bool,
        context: EvalContext,
        hold: int,
        part: tuple[int, int] | None,
    ) -> None:
        self.lookups, self.context, self.hold, self.part = lookups, context, hold, part
        self.instant: Instant = sqlite_instant if text_forms else same
        self.detail: Callable[[Any], Any] = sqlite_detail if text_forms else same
        self.now = context.now.timestamp()
        self.epoch_instants: Callable[[Any], list[Any]] = _sqlite_epochs if text_forms else _utc_datetimes
        self.epochs: Callable[[list[Any]], Any] = _text_epochs if text_forms else _datetime_epochs
        # matter id → its handling limit as ``bulk.Columns`` holds it: (amount, unit code)
        self.handling = {matter: _pair(limit) for matter, limit in context.handling.items()}
        self.base_limits = [
            _pair(context.base_limits[code]) if code != PAUSABLE_NODE else (0, 0)
            for code, _, _ in TIMED_NODES
        ]
        self.pack = text_forms  # marshal takes no datetime (PostgreSQL's forms): those are pickled
        self.held: dict[tuple[str, str], _Held] = {}
        self.closing: list[_Held] = []  # delivered in this batch: sent at the end of the next one
        self.due: list[_Held] = []  # delivered in the batch before: sent at the end of this one
        self.batches = 0  # batches put so far
        self.repeated = 0  # held cases and their events given again since the last batch
        self.source = ""  # the file's source system, for records without one
        self.fast: FastPath | None = None  # the common records' path (SQLite's forms)

    def run(self, path: str, source: str, batch: int, out: Any) -> None:
        """Put a batch for every ``batch`` rows of this part's (the other parts' JSON lines are
        skipped unparsed, by the case id in their bytes)."""
        part = self.part
        self.source = source
        if self.pack:
            self.fast = FastPath(self.lookups, source)
        rows = 0
        current = self._empty()
        for _number, where, raw, error in read_numbered_rows(
            Path(path), source=source, by_case=part, cleaned=False
        ):
            if raw is None:
                current.unreadable.append((where, "", error))
            else:
                self._take(where, raw, current)
            rows += 1
            if rows == batch:
                out.put(self._packed(self._finish(current, rows, last=False)))
                current, rows = self._empty(), 0
        if rows or self.held:
            out.put(self._packed(self._finish(current, rows, last=True)))

    def _packed(self, batch: Batch) -> bytes | Batch:
        return marshal.dumps(tuple(batch)) if self.pack else batch

    @staticmethod
    def _empty() -> Batch:
        return Batch(0, [], [], [], [], [], 0)

    def _take(self, where: str, raw: dict[str, Any], batch: Batch) -> None:
        fast = self.fast
        if fast is not None:
            kind = raw.get("type")
            if kind == "event":
                found = fast.event(raw)
                if found is not None:
                    self._event(where, found[0], found[1], batch)
                    return
            elif kind == "case":
                row = fast.case(raw)
                if row is not None:
                    self._case((where, row))
                    return
        raw = clean(raw, self.source)
        try:
            record = validate(raw, self.lookups)
        except RecordError as exc:
            batch.rejected.append((where, str(raw.get("id", "")), str(exc)))
            return
        if type(record) is CaseRecord:
            self._case(case_item(where, record, self.instant))
        else:
            assert type(record) is EventRecord
            self._event(where, record.case_external_id, event_row(record, self.instant, self.detail), batch)

    def _case(self, item: CaseItem) -> None:
        row = item[1]
        key = (row[0], row[1])
        if key in self.held:
            # Given again while held: a duplicate, as the API path counts it. Sent the general
            # way it would be stored before the held case, the first given.
            self.repeated += 1
        else:
            self.held[key] = _Held(item, self.batches, _whole_second(row[10]))

    def _event(self, where: str, case_id: str, row: tuple[Any, ...], batch: Batch) -> None:
        held = self.held.get((row[0], case_id))
        if held is None:
            batch.events.append((where, case_id, row))
            return
        if row[1] in held.seen:
            self.repeated += 1
            return
        held.seen.add(row[1])
        held.events.append(row)
        kind = row[2]
        if not _whole_second(row[3]):
            held.common = False
        if kind in UNCOMMON:
            held.uncommon = True
        if kind == _DELIVERED and not held.closed:
            held.closed = True
            self.closing.append(held)

    def _finish(self, batch: Batch, rows: int, *, last: bool) -> Batch:
        """The batch, with the held cases that are due (all of them at the end of the file)."""
        if last:
            sending = list(self.held.values())
        else:
            sending, self.due, self.closing = self.due, self.closing, []
            # A case held this long is sent as it is (a file of cases whose events come in another
            # file must not be held whole); an event of it that comes later goes the general way.
            oldest = self.batches - self.hold
            for held in self.held.values():  # in the order they were read
                if held.batch > oldest:
                    break
                sending.append(held)
        self.batches += 1
        common: dict[int, list[_Held]] = defaultdict(list)  # by unit
        for held in sending:
            row = held.item[1]
            if self.held.pop((row[0], row[1]), None) is None:
                continue  # already sent, for its age
            if held.common:
                common[row[3]].append(held)
            else:
                batch.whole.append(self._whole(held))
        # A calendar at a time (most units share one); sent by unit, the cases' indexes that lead
        # with the unit take them in fewer places.
        calendars = self.context.calendars
        by_calendar: dict[int, list[_Held]] = defaultdict(list)
        for unit_id, cases in common.items():
            by_calendar[id(calendars[unit_id])].extend(cases)
        for cases in by_calendar.values():
            self._send_common(cases, batch)
        repeated, self.repeated = self.repeated, 0
        return batch._replace(rows=rows, repeated=repeated)

    def _send_common(self, cases: list[_Held], batch: Batch) -> None:
        """Evaluate common cases of one calendar in bulk, as columns."""
        context = self.context
        positions: list[int] = []
        instants: list[Any] = []  # as the rows hold them (the backend's form)
        width, column_of = len(KINDS), KIND_COLUMN.get
        for number, held in enumerate(cases):
            offset = number * width
            for row in held.events:  # each event once; its kind, then its instant, at 2 and 3
                column = column_of(row[2])
                if column is not None:
                    positions.append(offset + column)
                    instants.append(row[3])
        rows = [held.item[1] for held in cases]
        handling = self.handling
        limits = np.empty((len(cases), len(TIMED_NODES), 2), dtype=np.int64)
        limits[:] = self.base_limits  # the handling node's come next
        limits[:, _HANDLING, :] = [handling[row[2]] for row in rows]
        pauses: list[tuple[int, int, int]] = []
        for number, held in enumerate(cases):
            if held.uncommon:
                _pauses_and_extensions(number, held, context.zone, limits, pauses)
        received = self.epochs([row[10] for row in rows])
        columns = columns_from(
            len(cases),
            positions,
            self.epochs(instants),
            received,
            limits,
            pauses_of(pauses),
        )
        calendar = context.calendars[rows[0][3]]
        derived = derive_columns(columns, calendar=calendar, now=self.now)
        stored = stored_rows(derived, [row[3] for row in rows], self.epoch_instants, flags_as_ints=self.pack)
        days = calendar.day_ordinals_bulk(received).tolist()  # the calendar's zone is the local one
        batch.whole.extend(
            (held.item, row, day, held.events) for held, row, day in zip(cases, stored, days, strict=True)
        )

    def _whole(self, held: _Held) -> WholeCase:
        context = self.context
        row = held.item[1]
        matter_id, unit_id = row[2], row[3]
        received = _utc(row[10]).astimezone(context.zone)
        timeline = evaluate(
            [_engine_event(event, context.zone) for event in held.events],
            limits={**context.base_limits, "handling": context.handling[matter_id]},
            calendar=context.calendars[unit_id],
            now=context.now,
            received_at=received,
            custom_limits=context.custom.get(matter_id),
        )
        values = derived_values(0, timeline, ())
        day = received.date().toordinal()
        return held.item, stored_row(0, unit_id, values, self.instant), day, held.events


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
