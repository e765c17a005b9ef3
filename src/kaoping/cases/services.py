"""Writes for cases: ingestion (idempotent by source and id), recomputation of deadlines from the
events, the warning sweep and acknowledgement."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q

from kaoping.assessment.models import DirtyKind
from kaoping.assessment.rollups import days_mark_dirty
from kaoping.cases.deadlines import NodeStatus, Timeline
from kaoping.cases.derived import DERIVED_NAMES, derived_values, stored_row
from kaoping.cases.evaluation import Calendars, custom_limits, eval_context, evaluate_case, events_of
from kaoping.cases.ingest import CaseRecord, Lookups, RecordError, validate
from kaoping.cases.models import (
    Case,
    CaseAlert,
    CaseEvent,
    CaseStatus,
    CaseWarning,
    ImportBatch,
    RecomputeDebt,
    WarningKind,
)
from kaoping.cases.pipeline import (
    CaseItem,
    EventItem,
    WholeCase,
    case_item,
    evaluate_chunks,
    event_item,
    read_file,
    same,
    unpack,
)
from kaoping.catalog.models import Matter, node_limits
from kaoping.core import clock
from kaoping.core.bulk import Reader, insert_rows, sqlite_instant_or_none
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access, unit_scope_q
from kaoping.evidence.digest import texts_digest
from kaoping.evidence.services import Actor, evidence_append
from kaoping.org.models import Staff, Unit
from kaoping.workcal.selectors import get_calendar

BATCH = 2000
READERS = 2  # processes reading a case file, each its share of the cases (pipeline.read_file)
# Batches a reader holds a case at most, waiting for its events: most cases end within 3 of 10,000
# rows; a file of cases whose events come in another file must not be held whole.
HOLD_BATCHES = 6
# A file's batches are larger: each batch costs an ImportBatch row, an evidence entry and its look-ups,
# which at 2,000 records were a tenth of a million-case import's writing.
FILE_BATCH = 10_000


@dataclass
class Rejection:
    where: str
    record_id: str
    reason: str


@dataclass
class IngestReport:
    accepted_cases: int = 0
    accepted_events: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    batch_ids: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.accepted_cases + self.accepted_events


def load_lookups(user: User | None = None) -> Lookups:
    """Codes to ids; with a user, only the units in that user's scope are known. Instants must fall
    in the working-time calendar's span, or their deadlines could not be worked out."""
    matters = {
        code: (pk, owner, tuple(channels))
        for pk, code, owner, channels in Matter.objects.values_list("pk", "code", "owner_id", "channels")
    }
    units_qs = Unit.objects.all() if user is None else Unit.objects.filter(unit_scope_q(user))
    units = dict(units_qs.values_list("code", "pk"))
    staff = dict(Staff.objects.values_list("employee_no", "pk"))
    calendar = get_calendar()
    zone = clock.local_zone()
    span = (
        dt.datetime(calendar.first_year, 1, 1, tzinfo=zone),
        dt.datetime(calendar.last_year + 1, 1, 1, tzinfo=zone),
    )
    return Lookups(matters=matters, units=units, staff=staff, span=span)


def cases_ingest(
    *,
    actor: Actor,
    records: Iterable[tuple[str, dict[str, Any]]],
    label: str,
    orphans: str = "defer",
    on_progress: Any = None,
    user: User | None = None,
    now: dt.datetime | None = None,
    commit_rows: int = BATCH,
) -> IngestReport:
    """Ingest (location, record) pairs in batches of ``BATCH``; each batch has one evidence entry.
    Valid records land, invalid ones are reported with their location and reason, records already
    stored (same source and id) are counted as duplicates and change nothing.

    Batches are committed together, about ``commit_rows`` records at a time (one batch, by default),
    and the cases they touched are recomputed once, before the commit, so every commit holds its
    cases' derived fields up to date (the API and the simulator). Files go through
    ``cases_ingest_file``, which recomputes once at the end.

    An event whose case is not stored yet is held back to the end (``orphans="defer"``, for files
    that list an event before its case) or refused at once (``"reject"``, for the API)."""
    report = IngestReport()
    lookups = load_lookups(user)
    if commit_rows > BATCH:
        _bulk_pragmas()
    instant = _instant_adapter()
    deferred: list[EventItem] = []
    iterator = iter(records)
    done = False
    while not done:
        with transaction.atomic():
            touched: set[int] = set()
            stored = 0
            while stored < commit_rows:
                chunk = list(islice(iterator, BATCH))
                if not chunk:
                    done = True
                    break
                cases: list[CaseItem] = []
                events: list[EventItem] = []
                for where, raw in chunk:
                    try:
                        record = validate(raw, lookups)
                    except RecordError as exc:
                        report.rejected.append(Rejection(where, str(raw.get("id", "")), str(exc)))
                        continue
                    if isinstance(record, CaseRecord):
                        cases.append(case_item(where, record, instant))
                    else:
                        events.append(event_item(where, record, instant, same))
                later, ids = _store_items(
                    actor, cases, events, label, report, defer=orphans == "defer", now=now
                )
                deferred.extend(later)
                touched.update(ids)
                stored += len(chunk)
                if on_progress:
                    on_progress(len(chunk))
            if touched:
                cases_recompute(case_ids=touched, now=now)
    if deferred:
        with transaction.atomic():
            still, ids = _store_items(actor, [], deferred, label, report, defer=False, now=now)
            assert not still
            if ids:
                cases_recompute(case_ids=ids, now=now)
    return report


# The recomputation debt of a file import: cases it has touched, recomputed once at its end.
RECOMPUTE_CHUNK = 20_000  # cases recomputed per transaction at the end of a file import
DEBT_GAP = 64  # touched ids this close together share one debt range (a superset is harmless)
REPAIR_IDLE = dt.timedelta(minutes=10)  # a run that has not written for this long has died


def cases_ingest_file(
    *,
    actor: Actor,
    path: Path,
    source: str,
    label: str,
    on_progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
    commit_rows: int = BATCH,
) -> IngestReport:
    """A case file (JSON Lines, CSV, XLSX): the same rules and batches as ``cases_ingest`` with
    ``orphans="defer"``, but the file is read and validated in a second process
    (``pipeline.read_file``) while this one looks up and writes, batches commit about
    ``commit_rows`` records at a time, and the cases the file touched are recomputed once, at the
    end: a file lists a case's events over days of its lines, so recomputing at every commit
    evaluated many cases two or three times.

    Until then each commit records the ids it touched as ``RecomputeDebt`` ranges, in its own
    transaction; the final pass clears them as it goes. If the import dies on the way, what it left
    is recomputed by ``cases_repair_stale`` (the periodic task, and the start of the next import)."""
    from kaoping.cases.files import detect_format

    detect_format(path)
    if not path.exists():
        raise KaopingError(ErrorCode.BAD_FILE, what="case file", where=str(path), why="does not exist")
    cases_repair_stale()
    report = IngestReport()
    lookups = load_lookups()
    _bulk_pragmas(file_import=True)
    run = uuid.uuid4().hex
    touched_all: set[int] = set()
    reader = Reader(
        read_file,
        parts=1 if detect_format(path) == "xlsx" else READERS,  # each part would parse a workbook whole
        nice=10,  # they run ahead of the writer, the slower side: the writer goes first
        path=str(path),
        source=source,
        lookups=lookups,
        batch=FILE_BATCH,
        text_forms=connection.vendor == "sqlite",
        context=eval_context(now or clock.now()),
        hold=HOLD_BATCHES,
    )
    failure: str | None = None
    deferred: list[EventItem] = []
    try:
        with reader:
            done = False
            while not done:
                with transaction.atomic():
                    touched: set[int] = set()
                    stored = 0
                    while stored < commit_rows:
                        got = reader.get()
                        if got is None or isinstance(got, str):
                            done, failure = True, got
                            break
                        item = unpack(got)
                        report.rejected.extend(Rejection(*r) for r in item.unreadable + item.rejected)
                        report.duplicates += item.repeated
                        later, ids = _store_items(
                            actor,
                            item.cases,
                            item.events,
                            label,
                            report,
                            defer=True,
                            now=now,
                            whole=item.whole,
                        )
                        deferred.extend(later)
                        touched.update(ids)
                        stored += item.rows
                        if on_progress:
                            on_progress(item.rows)
                    _debt_add(run, touched - touched_all)
                    touched_all.update(touched)
            if deferred and failure is None:
                with transaction.atomic():
                    still, ids = _store_items(actor, [], deferred, label, report, defer=False, now=now)
                    assert not still
                    _debt_add(run, ids - touched_all)
                    touched_all.update(ids)
    finally:
        # What was committed is recomputed even when the file could not be read to its end.
        _recompute_run(run, touched_all, now)
    if failure is not None:
        raise KaopingError(ErrorCode.BAD_FILE, what="case file", where=path.name, why=failure)
    return report


def _debt_ranges(ids: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for case_id in sorted(ids):
        if ranges and case_id - ranges[-1][1] <= DEBT_GAP:
            ranges[-1] = (ranges[-1][0], case_id)
        else:
            ranges.append((case_id, case_id))
    return ranges


def _debt_add(run: str, ids: set[int]) -> None:
    """In the caller's transaction: these cases may be stale until ``run`` recomputes them; and the
    run is alive (its ranges' ``touched_at``)."""
    at = clock.now()
    if ids:
        RecomputeDebt.objects.bulk_create(
            RecomputeDebt(run=run, first_case_id=first, last_case_id=last, touched_at=at)
            for first, last in _debt_ranges(ids)
        )
    RecomputeDebt.objects.filter(run=run).update(touched_at=at)


def _recompute_run(run: str, case_ids: set[int], now: dt.datetime | None) -> None:
    """Recompute a run's cases, then forget its debt. On SQLite with enough cases, and when this
    connection has nothing uncommitted (so other processes see what it stored), the evaluation runs
    in ``EVALUATORS`` other processes and this one writes; elsewhere it runs here, in ascending
    chunks, each transaction clearing the debt it paid."""
    ordered = sorted(case_ids)
    database = str(connection.settings_dict["NAME"])
    if (
        len(ordered) >= PARALLEL_MIN
        and connection.vendor == "sqlite"
        and Path(database).is_file()
        and not connection.in_atomic_block
    ):
        _recompute_parallel(ordered, now or clock.now(), database)
        RecomputeDebt.objects.filter(run=run).delete()
        return
    for start in range(0, len(ordered), RECOMPUTE_CHUNK):
        chunk = ordered[start : start + RECOMPUTE_CHUNK]
        with transaction.atomic():
            cases_recompute(case_ids=chunk, now=now)
            last = chunk[-1]
            debts = RecomputeDebt.objects.filter(run=run)
            debts.filter(last_case_id__lte=last).delete()
            debts.filter(first_case_id__lte=last).update(first_case_id=last + 1, touched_at=clock.now())
    RecomputeDebt.objects.filter(run=run).delete()


PARALLEL_MIN = 20_000  # fewer cases are evaluated here: starting the evaluators costs a second or two
EVALUATORS = 2
EVAL_CHUNK = 4_500  # case ids per task of an evaluator


# What an evaluator returns per chunk: its case ids, the highest event and warning ids committed
# before it read, the rows for ``_write_rows`` and the (unit, local day) pairs to mark dirty.
Derived = tuple[list[int], int, int, list[list[Any]], list[tuple[int, dt.date]]]


def derive(case_ids: list[int], now: dt.datetime) -> Derived:
    """Evaluate these cases and return their derived rows without writing them (an evaluator)."""
    events = connection.ops.quote_name(CaseEvent._meta.db_table)
    warnings = connection.ops.quote_name(CaseWarning._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {events}")
        event_mark = cursor.fetchone()[0] or 0
        cursor.execute(f"SELECT MAX(id) FROM {warnings}")
        warning_mark = cursor.fetchone()[0] or 0
    rows: list[list[Any]] = []
    days: set[tuple[int, dt.date]] = set()
    zone = clock.local_zone()
    instant = _instant_adapter()
    for cases, timelines, warned in _timelines(case_ids, now):
        rows.extend(
            stored_row(case.pk, case.unit_id, derived_values(case.pk, timeline, warned), instant)
            for case, timeline in zip(cases, timelines, strict=True)
        )
        days.update((c.unit_id, c.received_at.astimezone(zone).date()) for c in cases)
    return case_ids, event_mark, warning_mark, rows, sorted(days)


def _recompute_parallel(ordered: list[int], now: dt.datetime, database: str) -> None:
    """Evaluators read committed events (no lock) and evaluate; this process writes the rows, a few
    chunks per transaction. A case that got an event or a warning after its evaluator read (another
    writer: the API, the sweep) is recomputed here, inside the transaction that writes it."""
    context = multiprocessing.get_context("spawn")
    tasks: Any = context.Queue()
    results: Any = context.Queue(maxsize=2 * EVALUATORS)
    chunks = [ordered[i : i + EVAL_CHUNK] for i in range(0, len(ordered), EVAL_CHUNK)]
    for chunk in chunks:
        tasks.put(chunk)
    workers = [
        context.Process(target=evaluate_chunks, args=(database, tasks, results, now), daemon=True)
        for _ in range(EVALUATORS)
    ]
    for worker in workers:
        worker.start()
        tasks.put(None)
    events = connection.ops.quote_name(CaseEvent._meta.db_table)
    warnings = connection.ops.quote_name(CaseWarning._meta.db_table)
    pending = len(chunks)
    try:
        while pending:
            with transaction.atomic(), connection.cursor() as cursor:
                for _ in range(min(pending, 4)):
                    result = _next_result(results, workers)
                    if isinstance(result, str):
                        raise KaopingError(ErrorCode.INVALID, what="recomputation", why=result)
                    case_ids, event_mark, warning_mark, rows, days = result
                    _write_rows(rows)
                    days_mark_dirty(kind=DirtyKind.CASES, pairs=days)
                    cursor.execute(f"SELECT case_id FROM {events} WHERE id > %s", [event_mark])
                    raced = {row[0] for row in cursor.fetchall()}
                    cursor.execute(f"SELECT case_id FROM {warnings} WHERE id > %s", [warning_mark])
                    raced.update(row[0] for row in cursor.fetchall())
                    raced.intersection_update(case_ids)
                    if raced:
                        cases_recompute(case_ids=raced, now=now)
                    pending -= 1
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()


def _next_result(results: Any, workers: list[Any]) -> Derived | str:
    while True:
        try:
            return results.get(timeout=1)  # type: ignore[no-any-return]
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                return "the evaluating processes ended unexpectedly"


def cases_repair_stale(*, idle: dt.timedelta = REPAIR_IDLE, now: dt.datetime | None = None) -> int:
    """Recompute the cases left stale by file imports that died before their final pass (their
    ranges untouched for ``idle``); returns the number of cases recomputed."""
    cutoff = clock.now() - idle
    dead = list(
        RecomputeDebt.objects.values("run")
        .annotate(last=models.Max("touched_at"))
        .filter(last__lt=cutoff)
        .values_list("run", flat=True)
    )
    repaired = 0
    for run in dead:
        ids: set[int] = set()
        for first, last in RecomputeDebt.objects.filter(run=run).values_list("first_case_id", "last_case_id"):
            ids.update(Case.objects.filter(pk__gte=first, pk__lte=last).values_list("pk", flat=True))
        _recompute_run(run, ids, now)
        repaired += len(ids)
    return repaired


CASE_COLUMNS = (
    "source",
    "external_id",
    "matter_id",
    "unit_id",
    "staff_id",
    "channel",
    "applicant_kind",
    "applicant_name",
    "applicant_phone",
    "applicant_id_number",
    "received_at",
    # The derived fields as a new Case has them; cases_recompute fills them in.
    "status",
    "deadline_status",
    "current_node",
    "provisional",
    "overdue",
    "breaker",
    "trips",
    "resubmissions",
    "one_time_notice",
    "updated_at",
)
# A case a file reader evaluated is stored with its derived fields.
EVALUATED_COLUMNS = (*CASE_COLUMNS[:11], *DERIVED_NAMES, "updated_at")
DERIVED_WIDTH = len(DERIVED_NAMES)
EVENT_COLUMNS = ("case_id", "source", "external_id", "kind", "at", "node", "detail", "received_at")


def _insert(
    table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, unless: tuple[str, ...] = ()
) -> int:
    """Insert the rows (``core.bulk.insert_rows``: bulk_create's model instances and SQL compilation
    were a third of an import's time). With ``unless`` (the columns of a unique constraint), a row
    that would repeat a stored one is skipped. Returns the number of rows inserted."""
    quote = connection.ops.quote_name
    conflict = f"ON CONFLICT ({', '.join(quote(c) for c in unless)}) DO NOTHING" if unless else ""
    return insert_rows(table, columns, rows, conflict=conflict)


def _instant_adapter() -> Any:
    """What the backend stores for an aware datetime. On SQLite Django's own text form (UTC, no
    offset), written directly: the same text as ``adapt_datetimefield_value``, at a fraction of it."""
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    return sqlite_instant_or_none


def _store_items(
    actor: Actor,
    cases: list[CaseItem],
    events: list[EventItem],
    label: str,
    report: IngestReport,
    *,
    defer: bool,
    now: dt.datetime | None,
    whole: Sequence[WholeCase] = (),
) -> tuple[list[EventItem], set[int]]:
    """Store one batch (its records as ``pipeline`` tuples) in the caller's transaction; return the
    events held back and the ids of the cases it touched (for the caller to recompute).

    A ``WholeCase`` (a file reader's evaluated case, its events given once each) is stored with its
    derived fields and is not touched, unless they may be wrong: the case was stored before, one of
    its events was (for another case), or an event of it came by another way."""
    # ``now`` is the clock deadlines are judged by: the present, or a replay's simulated moment.
    now = now or clock.now()
    instant = _instant_adapter()
    case_rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for _where, row in cases:
        key = (row[0], row[1])
        if key in case_rows:
            report.duplicates += 1  # the same record twice in one batch
            continue
        case_rows[key] = row
    evaluated: dict[tuple[str, str], WholeCase] = {}
    for whole_case in whole:
        row = whole_case[0][1]
        key = (row[0], row[1])
        if key in case_rows:  # given again in the batch: its events go the general way
            report.duplicates += 1
            events = [*events, *((whole_case[0][0], key[1], event) for event in whole_case[3])]
        else:
            case_rows[key] = row
            evaluated[key] = whole_case
    event_items: dict[tuple[str, str], EventItem] = {}
    for item in events:
        row = item[2]
        key = (row[0], row[1])
        if key in event_items:
            report.duplicates += 1
            continue
        event_items[key] = item

    # New cases are inserted unless stored already (the unique key decides, with no look-up first);
    # the ids of those stored before, and of the cases of the other events, are looked up.
    stamp = instant(clock.now())
    # The derived fields as a new Case has them; the caller recomputes them.
    fresh = (CaseStatus.OPEN.value, NodeStatus.PENDING.value, "", False, False, False, 1, 0, False, stamp)
    added: dict[tuple[str, str], int] = {}
    if case_rows:
        table = connection.ops.quote_name(Case._meta.db_table)
        unique = ("source", "external_id")
        plain = [key for key in case_rows if key not in evaluated]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {table}")
            before = cursor.fetchone()[0] or 0
            inserted = _insert(
                Case._meta.db_table, CASE_COLUMNS, [case_rows[key] + fresh for key in plain], unless=unique
            )
            inserted += _insert(
                Case._meta.db_table,
                EVALUATED_COLUMNS,
                [
                    (*whole_case[0][1], *whole_case[1][:DERIVED_WIDTH], stamp)
                    for whole_case in evaluated.values()
                ],
                unless=unique,
            )
            if inserted == len(case_rows) and connection.vendor == "sqlite" and connection.in_atomic_block:
                # All went in, in this transaction, which holds SQLite's write lock: their ids are
                # the highest, one after another in the order inserted (a row skipped by the ON
                # CONFLICT clause could leave a gap; none was).
                cursor.execute(f"SELECT MAX(id) FROM {table}")
                first = cursor.fetchone()[0] - inserted + 1
                added = dict(zip([*plain, *evaluated], range(first, first + inserted), strict=True))
            else:
                # Ids only grow (SQLite's AUTOINCREMENT, a sequence elsewhere): the new rows are
                # above the highest id seen before the INSERT, with any another writer added
                # meanwhile.
                cursor.execute(f"SELECT id, source, external_id FROM {table} WHERE id > %s", [before])
                added = {(source, external_id): pk for pk, source, external_id in cursor.fetchall()}
    new_cases = [row for key, row in case_rows.items() if key in added and key not in evaluated]
    new_evaluated = [key for key in evaluated if key in added]
    report.duplicates += len(case_rows.keys() - added.keys())
    report.accepted_cases += len(new_cases) + len(new_evaluated)
    existing_cases = _existing(
        Case,
        ({(item[2][0], item[1]) for item in event_items.values()} | evaluated.keys()) - added.keys(),
    )
    existing_cases.update(added)

    received = instant(now)
    prep = CaseEvent._meta.get_field("detail").get_db_prep_save
    new_events: list[tuple[Any, ...]] = []
    # The cases given events, but for the newly stored evaluated ones (touched anyway): when every
    # event is stored, these are the cases the events touched, with no look at a million events.
    given: set[int] = set()
    text_details = connection.vendor == "sqlite"  # the readers' details are stored as they come
    for key, whole_case in evaluated.items():
        evaluated_id = existing_cases[key]
        if whole_case[3] and key not in added:
            given.add(evaluated_id)
        if text_details:
            new_events += [(evaluated_id, *row, received) for row in whole_case[3]]
            continue
        for row in whole_case[3]:
            detail = row[5] if isinstance(row[5], str) else prep(row[5], connection)
            new_events.append((evaluated_id, *row[:5], detail, received))
    vouched = {existing_cases[key] for key in new_evaluated}
    deferred: list[EventItem] = []
    for item in event_items.values():
        where, case_external_id, row = item
        case_id = existing_cases.get((row[0], case_external_id))
        if case_id is None:
            if defer:
                deferred.append(item)
            else:
                report.rejected.append(
                    Rejection(
                        where,
                        row[1],
                        f"case: no case {case_external_id!r} from {row[0]!r} (send the case first)",
                    )
                )
            continue
        vouched.discard(case_id)  # an event of it the reader did not evaluate
        given.add(case_id)
        detail = row[5] if isinstance(row[5], str) else prep(row[5], connection)
        new_events.append((case_id, *row[:5], detail, received))
    # Not sorted first: the readers send a case with its events, so they come nearly in the order of
    # both indexes already. An event given twice in the batch, or stored before, is not inserted
    # (the first in this order is).
    stored = _insert_events(new_events)
    every = len(stored) == len(new_events)
    if not every:
        kept = {id(row) for row in stored}
        for row in new_events:
            if id(row) not in kept:
                report.duplicates += 1
                vouched.discard(row[0])  # it holds an event stored for another case
        new_events = stored
    report.accepted_events += len(new_events)

    touched = {existing_cases[(row[0], row[1])] for row in new_cases}
    touched.update(existing_cases[key] for key in new_evaluated)
    if every:
        touched |= given
    else:
        touched.update(map(itemgetter(0), new_events))
    touched -= vouched
    if new_evaluated:
        _store_evaluated([(existing_cases[key], evaluated[key]) for key in new_evaluated])
    if new_cases or new_evaluated or new_events:
        batch = ImportBatch.objects.create(
            source=label[:200],
            actor=str(actor)[:150] if actor else "system",
            started_at=now,
            accepted=len(new_cases) + len(new_evaluated) + len(new_events),
            digest=texts_digest(
                sorted(
                    [f"c:{row[0]}:{row[1]}" for row in new_cases]
                    + [f"c:{source}:{external_id}" for source, external_id in new_evaluated]
                    + [f"e:{row[1]}:{row[2]}" for row in new_events]
                )
            ),
        )
        report.batch_ids.append(batch.pk)
        evidence_append(
            actor=actor,
            action="cases.ingest",
            object_type="cases.importbatch",
            object_id=str(batch.pk),
            state={"label": batch.source, "accepted": batch.accepted, "digest": batch.digest},
            note=label[:200],
        )
    return deferred, touched


def _insert_events(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Insert the events unless stored already; return those inserted."""
    if not rows:
        return rows
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        before = cursor.fetchone()[0] or 0
        if _insert(CaseEvent._meta.db_table, EVENT_COLUMNS, rows, unless=("source", "external_id")) == len(
            rows
        ):
            return rows
        # Some were stored before: the rows above the mark say which.
        cursor.execute(f"SELECT case_id, source, external_id FROM {table} WHERE id > %s", [before])
        inserted = set(cursor.fetchall())
    stored = []
    for row in rows:
        key = (row[0], row[1], row[2])
        if key in inserted:
            inserted.discard(key)  # of rows alike, the first was inserted
            stored.append(row)
    return stored


def _store_evaluated(cases: list[tuple[int, WholeCase]]) -> None:
    """The alert rows of newly stored evaluated cases, and their days marked for the rollups."""
    _insert(
        CaseAlert._meta.db_table,
        ALERT_COLUMNS,
        [
            (case_id, *whole[1][DERIVED_WIDTH + 2 :])
            for case_id, whole in cases
            if len(whole[1]) > DERIVED_WIDTH + 1
        ],
    )
    days = {(whole[0][1][3], whole[2]) for _, whole in cases}  # (unit, day's ordinal): few distinct
    days_mark_dirty(
        kind=DirtyKind.CASES, pairs=[(unit_id, dt.date.fromordinal(day)) for unit_id, day in days]
    )


def _existing(
    model: type[Case] | type[CaseEvent], keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(source, external id) → primary key of the rows already stored, in a few raw queries."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, external_id in keys:
        by_source[source].append(external_id)
    found: dict[tuple[str, str], int] = {}
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for source, ids in by_source.items():
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                cursor.execute(
                    f"SELECT id, external_id FROM {table} WHERE source = %s "
                    f"AND external_id IN ({', '.join(['%s'] * len(chunk))})",
                    [source, *chunk],
                )
                for pk, external_id in cursor.fetchall():
                    found[(source, external_id)] = pk
    return found


# -- recomputation -------------------------------------------------------------------------------


class _CaseState:
    """A stored case as the recomputation sees it: what the evaluation reads (as on ``Case``).
    Loaded as plain values: building a million model instances (with their matter and unit joined)
    cost more than evaluating them."""

    __slots__ = ("matter", "matter_id", "pk", "received_at", "unit", "unit_id")

    def __init__(self, pk: int, matter: Matter, unit: Unit, received_at: dt.datetime) -> None:
        self.pk, self.matter, self.unit, self.received_at = pk, matter, unit, received_at
        self.matter_id, self.unit_id = matter.pk, unit.pk


def _timelines(
    case_ids: list[int], now: dt.datetime
) -> Iterator[tuple[list[_CaseState], list[Timeline], set[Any]]]:
    """Evaluate cases in chunks: the cases, their timelines and the warnings already raised on them."""
    calendars = Calendars()
    base_limits = node_limits()
    matters: dict[int, Matter] = {}
    units: dict[int, Unit] = {}
    for start in range(0, len(case_ids), 900):
        chunk = case_ids[start : start + 900]
        rows = list(
            Case.objects.filter(pk__in=chunk).values_list("pk", "matter_id", "unit_id", "received_at")
        )
        missing = {m for _, m, _, _ in rows} - matters.keys()
        if missing:
            matters.update((m.pk, m) for m in Matter.objects.filter(pk__in=missing))
        missing = {u for _, _, u, _ in rows} - units.keys()
        if missing:
            units.update((u.pk, u) for u in Unit.objects.filter(pk__in=missing))
        cases = [_CaseState(pk, matters[m], units[u], received) for pk, m, u, received in rows]
        events = events_of(chunk)
        custom = custom_limits(c.matter_id for c in cases)
        warned = set(CaseWarning.objects.filter(case_id__in=chunk).values_list("case_id", "node", "kind"))
        timelines = [
            evaluate_case(
                case,  # type: ignore[arg-type]
                events.get(case.pk, []),
                calendars=calendars,
                base_limits=base_limits,
                custom=custom,
                now=now,
            )
            for case in cases
        ]
        yield cases, timelines, warned


def cases_recompute(*, case_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Re-derive every stored deadline field of these cases from all their events."""
    now = now or clock.now()
    instant = _instant_adapter()
    updated = 0
    for cases, timelines, warned in _timelines(sorted(set(case_ids)), now):
        _write_rows(
            [
                stored_row(case.pk, case.unit_id, derived_values(case.pk, timeline, warned), instant)
                for case, timeline in zip(cases, timelines, strict=True)
            ]
        )
        # The assessment rollups count cases by unit and day of receipt: those days are now stale.
        days_mark_dirty(kind=DirtyKind.CASES, pairs=[(c.unit_id, c.received_at) for c in cases])
        updated += len(cases)
    return updated


DERIVED_FIELDS = list(DERIVED_NAMES)


ALERT_COLUMNS = (
    "case_id",
    "unit_id",
    "node",
    "due_at",
    "due_soon_at",
    "breaker_at",
    "next_at",
    "deadline_status",
    "overdue",
    "breaker",
)


def _write_rows(rows: list[list[Any]]) -> None:
    """Write ``derived.stored_row``s: the case rows, and their ``CaseAlert`` rows kept in step (written
    where an alert is pending, deleted where none is), in one transaction (the caller's, if any)."""
    if not rows:
        return
    by_name = {f.name: f for f in Case._meta.concrete_fields}
    quote = connection.ops.quote_name
    width = len(DERIVED_FIELDS) + 1
    sql = (
        f"UPDATE {quote(Case._meta.db_table)} SET "
        + ", ".join(f"{quote(by_name[name].column)} = %s" for name in DERIVED_FIELDS)
        + f" WHERE {quote('id')} = %s"
    )
    alerts = quote(CaseAlert._meta.db_table)
    pending = [row[width:] for row in rows if len(row) > width]
    settled = [row[width - 1] for row in rows if len(row) == width]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.executemany(sql, [row[:width] for row in rows] if pending else rows)
        for start in range(0, len(settled), 500):
            chunk = settled[start : start + 500]
            cursor.execute(f"DELETE FROM {alerts} WHERE case_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
        if pending:
            cursor.executemany(
                f"INSERT INTO {alerts} ({', '.join(ALERT_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(ALERT_COLUMNS))}) ON CONFLICT (case_id) DO UPDATE SET "
                + ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[1:]),
                pending,
            )


# -- the sweep -----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    examined: int
    raised: int


def cases_sweep(*, now: dt.datetime | None = None) -> SweepReport:
    """Raise every warning whose moment has come, once: due soon, overdue, and the breaker.

    Set-based: each case with an alert still to come has a narrow ``CaseAlert`` row holding its
    current node's three alert instants (written by ``cases_recompute``), so a sweep is one
    INSERT … SELECT and two UPDATEs over the rows whose ``next_at`` has passed, whatever their number.
    ``ON CONFLICT DO NOTHING`` on the unique (case, node, kind) keeps each warning single even if two
    sweeps overlap.

    The INSERT reads each due row once, crossed with the three kinds, and writes the warnings in
    case order, so the unique (case, node, kind) index grows at its end instead of all over: a
    catch-up sweep over 180,000 cases (half a million warnings) took a third less than one
    INSERT per kind. The wide case rows are rewritten only where the deadline status, ``overdue`` or
    ``breaker`` changes; moving ``next_at`` rewrites only the narrow rows (see docs/architecture.md)."""
    now = now or clock.now()
    table = connection.ops.quote_name(Case._meta.db_table)
    alerts = connection.ops.quote_name(CaseAlert._meta.db_table)
    warnings = connection.ops.quote_name(CaseWarning._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    # A row's node is the case's current node (a handled case's result delivery still runs against
    # its 24 hours); its flags are the case's.
    due_a = "a.next_at IS NOT NULL AND a.next_at <= %s"
    with connection.cursor() as cursor:
        # Counted on the next_at index alone (a few entries in a steady minute).
        cursor.execute(f"SELECT COUNT(*) FROM {alerts} WHERE next_at IS NOT NULL AND next_at <= %s", [at])
        due = cursor.fetchone()[0]
        if not due:
            return SweepReport(examined=0, raised=0)
        scan = _scan_whole_table(cursor, alerts, due)
    _bulk_pragmas()
    # A catch-up sweep on SQLite reads the table in row order (the case id is its rowid) instead of
    # through the index: rows come in case order (no sort of the warnings) and the UPDATE runs in one
    # pass (a third less). Otherwise the index, named: without statistics SQLite would rather scan
    # the table than sort a steady minute's few rows.
    hint = ""
    if scan:
        hint = " NOT INDEXED"
    elif connection.vendor == "sqlite":
        hint = f" INDEXED BY {CaseAlert._meta.indexes[0].name}"
    kinds = " UNION ALL ".join(["SELECT %s AS kind, %s AS n"] * 3)
    status, overdue, breaker = _flags_sql("a.")
    flags = [at, at, at, True, at, True]
    with _rows_from_the_database(scan), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {warnings} (case_id, unit_id, node, kind, due_at, raised_at) "
            f"SELECT a.case_id, a.unit_id, a.node, k.kind, a.due_at, %s "
            f"FROM {alerts} AS a{hint} CROSS JOIN ({kinds}) k "
            f"WHERE {due_a} AND ((k.n = 1 AND a.due_soon_at <= %s) "
            f"OR (k.n = 2 AND a.due_at <= %s) OR (k.n = 3 AND a.breaker_at <= %s)) "
            f"ORDER BY a.case_id ON CONFLICT DO NOTHING",
            [
                at,
                WarningKind.DUE_SOON.value,
                1,
                WarningKind.OVERDUE.value,
                2,
                WarningKind.BREAKER.value,
                3,
                at,
                at,
                at,
                at,
            ],
        )
        raised = max(cursor.rowcount, 0)
        # The assessment rollups count overruns and breakers: mark the days of the cases that flip.
        flips = "(a.due_at < %s AND NOT a.overdue) OR (a.breaker_at <= %s AND NOT a.breaker)"
        cursor.execute(
            f"SELECT DISTINCT unit_id, received_at FROM {table} WHERE id IN "
            f"(SELECT a.case_id FROM {alerts} AS a{hint} WHERE {due_a} AND ({flips}))",
            [at, at, at],
        )
        days_mark_dirty(kind=DirtyKind.CASES, pairs=cursor.fetchall())
        # The case rows whose status or flags change (after a recomputation at the same moment, as
        # good as none); the others are not rewritten.
        cursor.execute(
            f"UPDATE {table} SET deadline_status = {status}, overdue = {overdue}, breaker = {breaker} "
            f"FROM {alerts} AS a{hint} WHERE a.case_id = {table}.id AND {due_a} "
            f"AND ({status} <> a.deadline_status OR {overdue} <> a.overdue OR {breaker} <> a.breaker)",
            [*flags, at, *flags],
        )
        # The narrow rows: the same flags, and the next instant is the first one ahead.
        row_status, row_overdue, row_breaker = _flags_sql("")
        cursor.execute(
            f"UPDATE {alerts}{hint} SET deadline_status = {row_status}, overdue = {row_overdue}, "
            f"breaker = {row_breaker}, next_at = CASE WHEN due_soon_at > %s THEN due_soon_at "
            f"WHEN due_at > %s THEN due_at WHEN breaker_at > %s THEN breaker_at ELSE NULL END "
            f"WHERE next_at IS NOT NULL AND next_at <= %s",
            [*flags, at, at, at, at],
        )
        examined = max(cursor.rowcount, 0)
        if raised:
            evidence_append(
                actor="system:sweep",
                action="cases.warnings_raise",
                object_type="cases.sweep",
                object_id=now.isoformat(),
                state={"raised": raised, "cases": examined},
            )
    return SweepReport(examined=examined, raised=raised)


def _flags_sql(row: str) -> tuple[str, str, str]:
    """The deadline status, ``overdue`` and ``breaker`` a sweep at %s leaves on a ``CaseAlert`` row
    (``row``: its alias and a dot, or nothing), each with its parameters: (at, at), (at, True),
    (at, True). The alert instants are ordered (due soon ≤ due < breaker)."""
    return (
        f"CASE WHEN {row}due_at < %s THEN 'overdue' WHEN {row}due_soon_at <= %s THEN 'due_soon' "
        f"ELSE {row}deadline_status END",
        f"CASE WHEN {row}due_at < %s THEN %s ELSE {row}overdue END",
        f"CASE WHEN {row}breaker_at <= %s THEN %s ELSE {row}breaker END",
    )


@contextmanager
def _rows_from_the_database(catch_up: bool) -> Iterator[None]:
    """On SQLite, no foreign key checks for a catch-up sweep's transaction: each warning's case and
    unit come from the case row it is selected from, in the same transaction, so checking them again
    for half a million warnings was a tenth of the sweep (a steady sweep keeps them: switching costs
    more than it saves). The pragma only acts outside a transaction: inside a caller's, the checks
    stay on."""
    if not catch_up or connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys=ON")


def _scan_whole_table(cursor: Any, table: str, due: int) -> bool:
    """Whether a sweep with ``due`` rows to examine should read the whole ``CaseAlert`` table in row
    order (SQLite only: PostgreSQL's planner has statistics to choose by itself). SQLite has none, so
    it always takes the index, which pays a random row access per row and a sort of the warnings.
    The span of case ids stands for the number of rows (an upper bound, read off the primary key)."""
    if connection.vendor != "sqlite":
        return False
    cursor.execute(f"SELECT (SELECT MIN(case_id) FROM {table}), (SELECT MAX(case_id) FROM {table})")
    first, last = cursor.fetchone()
    rows = 0 if first is None else last - first + 1
    return due * 8 > rows


# On SQLite, a bigger page cache for a connection's bulk work (allocated only as used): a catch-up
# sweep or a large import touches more pages than the default 64 MiB holds. A file import also reads
# through a memory map, checkpoints the WAL less often (every ~100 MB) and keeps its statement
# journals in memory: each multi-row INSERT that may fail half-way (a foreign key, NOT NULL) saves
# the pages it changes first, 470 MB per 100,000 cases written to a temporary file, half the
# writer's time in system calls.
BULK_PRAGMAS = ("cache_size=-262144",)
FILE_IMPORT_PRAGMAS = (*BULK_PRAGMAS, "mmap_size=4294967296", "wal_autocheckpoint=25000", "temp_store=MEMORY")


def _bulk_pragmas(*, file_import: bool = False) -> None:
    """``BULK_PRAGMAS`` (``FILE_IMPORT_PRAGMAS`` for a file import) on this connection, on SQLite."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for pragma in FILE_IMPORT_PRAGMAS if file_import else BULK_PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")


def warning_acknowledge(*, actor: User, warning_id: int) -> CaseWarning:
    warning = CaseWarning.objects.select_related("unit", "case").filter(pk=warning_id).first()
    if warning is None:
        raise KaopingError(ErrorCode.NOT_FOUND, what="warning", where=str(warning_id), why="no such warning")
    require_unit_access(actor, warning.unit, write=False, what="warning")
    if warning.acknowledged_at is None:
        with transaction.atomic():
            warning.acknowledged_at = clock.now()
            warning.acknowledged_by_id = actor.pk
            warning.save(update_fields=["acknowledged_at", "acknowledged_by"])
            evidence_append(
                actor=actor,
                action="cases.warning_acknowledge",
                object_type="cases.casewarning",
                object_id=str(warning.pk),
                state={"acknowledged_at": warning.acknowledged_at},
            )
    return warning


def open_case_ids(*, provisional_only: bool = False) -> Iterator[int]:
    query = Q(status=CaseStatus.OPEN)
    if provisional_only:
        query &= Q(provisional=True)
    yield from Case.objects.filter(query).values_list("pk", flat=True).iterator(chunk_size=5000)
