"""Writes for ratings: ingestion (idempotent by source and id, one first rating per case and channel),
the public page's single rating, default ratings, and the review of anti-gaming flags.

Ingestion stores rows with one prepared INSERT run over the whole batch (executemany): ratings come
by the million and Django's bulk_create spent most of the time building objects. A bad first rating
opens its rectification (follow-up) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from kaoping.assessment.models import DirtyKind
from kaoping.assessment.rollups import days_mark_dirty, ratings_mark_dirty_where
from kaoping.cases.files import detect_format
from kaoping.cases.models import Case, ImportBatch
from kaoping.core import clock
from kaoping.core.bulk import Reader, gc_paused, readable_sqlite_file, sqlite_instant
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access, unit_scope_q
from kaoping.evidence.digest import texts_digest
from kaoping.evidence.services import Actor, evidence_append
from kaoping.followup.services import rectifications_open_for_ratings
from kaoping.org.models import Staff, Unit
from kaoping.ratings import gaming
from kaoping.ratings.codes import Attempt, Channel, Convention, Level
from kaoping.ratings.ingest import Lookups, RecordError, validate
from kaoping.ratings.models import FlagStatus, Rating, RatingFlag
from kaoping.ratings.rows import (
    ATTEMPT,
    CHANNEL,
    COLUMNS,
    EXTERNAL_ID,
    RATED_AT,
    SOURCE,
    TAGS,
    UNIT,
    CaseRow,
    Draft,
    Resolution,
    Row,
    complete,
    draft,
    find_cases,
    instant_of,
    resolved,
    sqlite_tags,
)

BATCH = 20000  # rows per evidence entry (and per transaction, but for files: COMMIT_ROWS)
COMMIT_ROWS = (
    60000  # a file import commits every few batches: each commit rewrites the index pages it touched
)


@dataclass
class Rejection:
    where: str
    record_id: str
    reason: str


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    bad: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    ids: list[int] = field(default_factory=list)  # only kept when asked for (single ratings)

    def saw(self, at: dt.datetime) -> None:
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


def load_lookups(user: User | None = None) -> Lookups:
    """Codes to ids; with a user, only the units in that user's scope are known."""
    units_qs = Unit.objects.all() if user is None else Unit.objects.filter(unit_scope_q(user))
    return Lookups(
        units=dict(units_qs.values_list("code", "pk")),
        staff=dict(Staff.objects.values_list("employee_no", "pk")),
    )


def ratings_ingest(
    *,
    actor: Actor,
    records: Iterable[tuple[str, dict[str, Any]]],
    label: str,
    convention: Convention,
    user: User | None = None,
    now: dt.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest (location, record) pairs in batches, each one transaction and one evidence entry.

    Valid ratings land; invalid ones are reported with their location and reason; ratings stored
    before (same source and id) count as duplicates and change nothing. ``convention`` says how the
    source writes level codes: it is declared, never guessed."""
    report = IngestReport()
    lookups = load_lookups(user)
    scope = None if user is None else set(lookups.units.values())
    adapt_dt, json_tags = _datetime_adapter(), _json_adapter()
    _bulk_pragmas()
    iterator = iter(records)
    while chunk := list(islice(iterator, BATCH)):
        valid: list[Draft] = []
        for where, raw in chunk:
            try:
                valid.append(draft(where, validate(raw, lookups, convention), adapt_dt, json_tags))
            except RecordError as exc:
                report.rejected.append(Rejection(where, str(raw.get("id", "")), str(exc)))
        with transaction.atomic():
            _store(actor, valid, label, report, now=now or clock.now(), scope=scope)
        if on_progress:
            on_progress(len(chunk))
    return report


def ratings_ingest_file(
    *,
    actor: Actor,
    path: Path,
    source: str,
    label: str,
    convention: Convention,
    now: dt.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest a rating file (JSON Lines, CSV, XLSX) with the same rules as ``ratings_ingest``, reading
    and validating it in a second process while this one writes: a million-row import then uses both
    cores. Rows that cannot be read are reported like invalid ones.

    Each batch of ``BATCH`` rows is stored with its own evidence entry, as in ``ratings_ingest``;
    batches are committed together, about ``COMMIT_ROWS`` rows at a time (a commit rewrites every
    index page the transaction touched, and the time indexes are touched all over)."""
    from kaoping.ratings.pipeline import validate_file

    detect_format(path, "rating file")
    if not path.exists():
        raise KaopingError(ErrorCode.BAD_FILE, what="rating file", where=str(path), why="does not exist")
    report = IngestReport()
    lookups = load_lookups()
    _bulk_pragmas()
    text_forms = connection.vendor == "sqlite"
    # The reader looks up the cases itself when it can see what this connection sees.
    database = readable_sqlite_file()
    reader = Reader(
        validate_file,
        path=str(path),
        source=source,
        units=dict(lookups.units),
        staff=dict(lookups.staff),
        convention=convention.value,
        batch=BATCH,
        text_forms=text_forms,
        database=database,
        case_table=Case._meta.db_table,
    )
    failure: str | None = None
    with reader, gc_paused():  # the batches are millions of small tuples, freed by refcount
        done = False
        while not done:
            with transaction.atomic():
                stored = 0
                while stored < COMMIT_ROWS:
                    item = reader.get()
                    if item is None or isinstance(item, str):
                        # What was stored so far commits, as it would have batch by batch.
                        done, failure = True, item
                        break
                    valid, rejected, count = item
                    report.rejected.extend(Rejection(*r) for r in rejected)
                    if not text_forms:
                        valid = _adapted(valid)
                    _store(
                        actor,
                        valid,
                        label,
                        report,
                        now=now or clock.now(),
                        scope=None,
                        looked_up=database is not None,
                    )
                    stored += count
                    if on_progress:
                        on_progress(count)
    if failure is not None:
        raise KaopingError(ErrorCode.BAD_FILE, what="rating file", where=path.name, why=failure)
    return report


def _adapted(drafts: list[Draft]) -> list[Draft]:
    """Drafts read with instants and tags as Python values, written as this backend takes them."""
    adapt_dt, json_tags = _datetime_adapter(), _json_adapter()
    return [
        (
            where,
            case_source,
            number,
            (*row[:TAGS], json_tags(row[TAGS]), adapt_dt(row[RATED_AT]), *row[RATED_AT + 1 :]),
            case,
        )
        for where, case_source, number, row, case in drafts
    ]


def _select_in(sql: str, values: Sequence[Any], *, fixed: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` (its ``IN ({})`` filled with placeholders) over ``values`` in chunks: raw SQL, as
    these lookups run for every batch of a million-row import and the ORM's overhead dominated."""
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), 900):
            chunk = list(values[start : start + 900])
            cursor.execute(sql.format(", ".join(["%s"] * len(chunk))), [*fixed, *chunk])
            rows.extend(cursor.fetchall())
    return rows


def _query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _stored_firsts(case_ids: set[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """Case id → channel → (source, id) of the first rating it already has through that channel, read
    in the storing transaction (through the partial unique index on first ratings)."""
    firsts: dict[int, dict[str, tuple[str, str]]] = {}
    sql = (
        f"SELECT case_id, channel, source, external_id FROM {Rating._meta.db_table} "
        "WHERE attempt = 'first' AND case_id IN ({})"
    )
    for case_id, channel, source, external_id in _select_in(sql, sorted(case_ids)):
        firsts.setdefault(case_id, {})[channel] = (source, external_id)
    return firsts


def _case(resolution: Resolution) -> CaseRow | None:
    """The draft's case, or the reason it has none (no such case, or several) raised."""
    if resolution is None or len(resolution) == 4:
        return resolution
    raise RecordError(*resolution)


def _store(
    actor: Actor,
    valid: list[Draft],
    label: str,
    report: IngestReport,
    *,
    now: dt.datetime,
    scope: set[int] | None,
    single: bool = False,
    looked_up: bool = False,
) -> None:
    """Store one batch. Duplicates (same source and id) are found by the database: the INSERT skips
    them and its row count says how many landed. A first rating of a case is checked against the
    case's stored first ratings, so a second one is refused with its reason, not skipped.

    The drafts' cases are looked up here unless the file reader did (``looked_up``)."""
    if not looked_up:
        valid = resolved(valid, find_cases(valid, _query, table=Case._meta.db_table, mark="%s"))
    stored_firsts = _stored_firsts({c[0] for *_, c in valid if c is not None and len(c) == 4})
    rows: list[Row] = []
    keys: list[str] = []
    seen: set[tuple[str, str]] = set()
    firsts: set[tuple[int, str]] = set()
    follow_ups: list[tuple[str, str, Row, CaseRow]] = []
    received = _datetime_adapter()(now)
    first = Attempt.FIRST.value
    for where, _, number, row, resolution in valid:
        key = (row[SOURCE], row[EXTERNAL_ID])
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        try:
            case = _case(resolution)
            if case is not None and row[UNIT] is not None and row[UNIT] != case[2]:
                raise RecordError("unit", "is not the unit that handled the case")
            if scope is not None and (case[2] if case else row[UNIT]) not in scope:
                raise RecordError("unit", "is outside the units you may send ratings for")
            if case is not None and row[ATTEMPT] == first:
                channel = row[CHANNEL]
                stored = stored_firsts[case[0]].get(channel) if case[0] in stored_firsts else None
                if stored == key:
                    report.duplicates += 1
                    continue
                if stored is not None or (case[0], channel) in firsts:
                    raise RecordError(
                        "case",
                        f"case {number!r} already has a first rating through channel "
                        f"{channel!r} (one per case and channel; a later one is a 追评)",
                    )
                firsts.add((case[0], channel))
        except RecordError as exc:
            report.rejected.append(Rejection(where, row[EXTERNAL_ID], str(exc)))
            continue
        if case is not None and row[ATTEMPT] != first:
            follow_ups.append((where, number, complete(row, case, received), case))
            continue
        rows.append(complete(row, case, received))
        keys.append(f"{key[0]}:{key[1]}")
    if rows:
        times = [row[RATED_AT] for _, _, _, row, _ in valid]
        report.saw(instant_of(min(times)))
        report.saw(instant_of(max(times)))
    if follow_ups:
        rows_fu, keys_fu = _follow_up_rows(follow_ups, report)
        rows += rows_fu
        keys += keys_fu
    if not rows:
        return
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = (
        f"INSERT INTO {Rating._meta.db_table} ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
        "ON CONFLICT (source, external_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        if single and len(rows) == 1:
            # One rating from the public page: its id comes back with the insert.
            cursor.execute(sql + " RETURNING id", rows[0])
            found = cursor.fetchone()
            report.ids.extend([found[0]] if found else [])
            landed = len(report.ids)
        else:
            cursor.executemany(sql, rows)
            landed = len(rows) if cursor.rowcount is None or cursor.rowcount < 0 else int(cursor.rowcount)
    report.accepted += landed
    report.duplicates += len(rows) - landed
    if not landed:
        return
    # The assessment rollups count ratings by unit and day given (rated_at as stored): now stale.
    # One instant per unit and hour is enough to name the day (the zone's offset is whole hours), and
    # saves working out a million local days on a million-row import.
    hours: dict[tuple[Any, Any], Any] = {}
    for row in rows:
        stamp = row[RATED_AT]
        hour = stamp[:13] if isinstance(stamp, str) else stamp.replace(minute=0, second=0, microsecond=0)
        hours.setdefault((row[UNIT], hour), stamp)
    days_mark_dirty(kind=DirtyKind.RATINGS, pairs=[(unit, stamp) for (unit, _), stamp in hours.items()])
    bad = (report.ids if is_bad(rows[0]) else []) if single else _inserted(rows, is_bad)
    if bad:
        report.bad += rectifications_open_for_ratings(rating_ids=bad, now=now)
    if follow_ups:
        _link_follow_ups(rows)
    if single:
        # The rating itself goes into the evidence log (its key fields), not an import batch.
        row = rows[0]
        evidence_append(
            actor=actor,
            action="ratings.submit",
            object_type="ratings.rating",
            object_id=str(report.ids[0]),
            state={
                "source": row[0],
                "id": row[1],
                "case": row[2],
                "unit": row[3],
                "level": row[5],
                "channel": row[6],
                "text": row[13],
                "rated_at": str(row[15]),
            },
            note=label[:200],
        )
        return
    batch = ImportBatch.objects.create(
        source=label[:200],
        actor=str(actor)[:150] if actor else "system",
        started_at=now,
        accepted=landed,
        digest=texts_digest(sorted(keys)),
    )
    evidence_append(
        actor=actor,
        action="ratings.ingest",
        object_type="cases.importbatch",
        object_id=str(batch.pk),
        state={"label": batch.source, "accepted": batch.accepted, "digest": batch.digest},
        note=label[:200],
    )


def is_bad(row: tuple[Any, ...]) -> bool:
    """A row (in COLUMNS order) holding a bad first rating: it opens a follow-up."""
    return bool(row[5] <= Level.DISSATISFIED and row[7] == Attempt.FIRST.value)


def _datetime_adapter() -> Callable[[dt.datetime], Any]:
    """What the backend stores for an aware datetime; on SQLite Django's own text form (UTC, no
    offset), written directly: its adapter was a fifth of the import time."""
    if connection.vendor == "sqlite":
        return sqlite_instant
    return connection.ops.adapt_datetimefield_value


def _bulk_pragmas() -> None:
    """On SQLite, a bigger page cache and memory-mapped reads for this connection's bulk work."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB, allocated only as used
            cursor.execute("PRAGMA mmap_size=2147483648")
            cursor.execute("PRAGMA wal_autocheckpoint=25000")  # ~100 MB of WAL between checkpoints


def _json_adapter() -> Callable[[list[str]], Any]:
    tags_field = Rating._meta.get_field("tags")
    if connection.vendor == "sqlite":
        return sqlite_tags
    return lambda tags: tags_field.get_db_prep_save(tags, connection)


def _inserted(rows: list[tuple[Any, ...]], wanted: Callable[[tuple[Any, ...]], bool]) -> list[int]:
    """Primary keys of the inserted rows that match ``wanted``, looked up by (source, external id)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if wanted(row):
            by_source[row[0]].append(row[1])
    sql = f"SELECT id FROM {Rating._meta.db_table} WHERE source = %s AND external_id IN ({{}})"
    return [
        row[0] for source, numbers in by_source.items() for row in _select_in(sql, numbers, fixed=[source])
    ]


def _follow_up_rows(
    follow_ups: list[tuple[str, str, Row, CaseRow]], report: IngestReport
) -> tuple[list[Row], list[str]]:
    """A follow-up rating (追评) needs a rectified bad rating of the case with no 追评 yet: one only."""
    from kaoping.followup.models import Rectification
    from kaoping.followup.workflow import State

    open_for = {
        case_id: r
        for r, case_id in (
            (r, r.rating.case_id if r.rating else None)
            for r in Rectification.objects.filter(
                rating__case_id__in={c[0] for _, _, _, c in follow_ups}, follow_up_rating__isnull=True
            ).select_related("rating")
        )
        if case_id is not None
    }
    rows, keys, taken = [], [], set()
    for where, number, row, case in follow_ups:
        rect = open_for.get(case[0])
        if rect is None or case[0] in taken:
            why = "has no bad rating awaiting a 追评 (only one 追评, after the rectification)"
        elif rect.state not in (State.VERDICT_PENDING.value, State.CLOSED.value) or not rect.rectified_at:
            why = "is still being rectified: the 追评 comes after the rectification"
        else:
            taken.add(case[0])
            rows.append(row)
            keys.append(f"{row[SOURCE]}:{row[EXTERNAL_ID]}")
            report.saw(instant_of(row[RATED_AT]))
            continue
        report.rejected.append(Rejection(where, row[EXTERNAL_ID], f"attempt: case {number!r} {why}"))
    return rows, keys


def _link_follow_ups(rows: list[tuple[Any, ...]]) -> None:
    from kaoping.followup.models import Rectification

    ids = _inserted(rows, lambda row: row[7] == Attempt.FOLLOW_UP.value)
    for rating in Rating.objects.filter(pk__in=ids, case__isnull=False):
        assert rating.case_id is not None
        Rectification.objects.filter(rating__case_id=rating.case_id, follow_up_rating__isnull=True).update(
            follow_up_rating=rating
        )


# -- the public page: one rating at a time ---------------------------------------------------------


def rating_submit(
    *,
    record: dict[str, Any],
    unit: Unit,
    convention: Convention = Convention.PROVINCIAL,
    now: dt.datetime | None = None,
) -> int:
    """Store one rating from the public page or a terminal; returns its id, or raises KaopingError
    with the field and reason. A reused one-time link is refused by the (source, id) key."""
    now = now or clock.now()
    lookups = Lookups(units={unit.code: unit.pk}, staff={})
    staff_code = record.get("staff")
    if staff_code:
        lookups = Lookups(
            units=lookups.units,
            staff=dict(Staff.objects.filter(employee_no=staff_code).values_list("employee_no", "pk")),
        )
    try:
        valid = validate(record, lookups, convention)
    except RecordError as exc:
        raise KaopingError(ErrorCode.INVALID, what="rating", where=exc.field, why=exc.why) from None
    report = IngestReport()
    try:
        with transaction.atomic():
            _store(
                "public",
                [draft("page", valid, _datetime_adapter(), _json_adapter())],
                f"rating {valid.channel}",
                report,
                now=now,
                scope=None,
                single=True,
            )
    except IntegrityError:
        # Two submissions of the same link racing: the loser sees what a second submission sees.
        report.duplicates = 1
    if report.duplicates:
        raise KaopingError(
            ErrorCode.INVALID, what="rating", where="link", why="this rating has already been given"
        )
    if report.rejected:
        rejection = report.rejected[0]
        field_name, _, why = rejection.reason.partition(": ")
        raise KaopingError(ErrorCode.INVALID, what="rating", where=field_name, why=why)
    return report.ids[0]


# -- defaults --------------------------------------------------------------------------------------


def ratings_default(*, now: dt.datetime | None = None) -> int:
    """Give unrated cases handled more than N natural days ago the default level (off when N is 0).

    Set-based: one INSERT … SELECT; the (source, id) key makes a second run add nothing."""
    days = settings.KAOPING_RATING_DEFAULT_DAYS
    if days <= 0:
        return 0
    now = now or clock.now()
    level = _default_level()
    cutoff = connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=days))
    received = connection.ops.adapt_datetimefield_value(now)
    rating, case = Rating._meta.db_table, Case._meta.db_table
    tags = "'[]'" if connection.vendor == "sqlite" else "'[]'::jsonb"
    concat = "'default:' || CAST(c.id AS VARCHAR(20))"
    sql = f"""
        INSERT INTO {rating} ({", ".join(COLUMNS)})
        SELECT 'kaoping', {concat}, c.id, c.unit_id, c.staff_id, %s, %s, %s, c.applicant_kind, %s, '', '', '',
               '', {tags}, c.handled_at, %s, '', NULL, %s, %s
        FROM {case} c
        WHERE c.handled_at IS NOT NULL AND c.handled_at <= %s
          AND NOT EXISTS (SELECT 1 FROM {rating} r WHERE r.case_id = c.id AND r.attempt = 'first')
        ON CONFLICT DO NOTHING
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            [int(level), Channel.DEFAULT.value, Attempt.FIRST.value, False, received, True, False, cutoff],
        )
        added = max(int(cursor.rowcount), 0)
        if added:
            # The assessment rollups count these ratings on the day each case was handled.
            ratings_mark_dirty_where("source = %s AND received_at = %s AND defaulted", ["kaoping", received])
            evidence_append(
                actor="system",
                action="ratings.default",
                object_type="ratings.rating",
                object_id="default",
                state={"added": added, "level": int(level), "days": days, "cutoff": str(cutoff)},
            )
    return added


def _default_level() -> Level:
    from kaoping.ratings.codes import read_level

    return read_level(settings.KAOPING_RATING_DEFAULT_LEVEL, Convention.PROVINCIAL)


# -- flags -----------------------------------------------------------------------------------------


def flag_review(*, actor: User, flag: RatingFlag, confirmed: bool, note: str) -> RatingFlag:
    """A person decides a suspicion: confirmed gaming excludes the rating from the figures (it stays
    stored and visible); cleared keeps it counting. Either way the decision is in the evidence log."""
    require_unit_access(actor, flag.unit, what="rating flag")
    if flag.status != FlagStatus.PENDING:
        raise KaopingError(
            ErrorCode.INVALID, what="rating flag", where=str(flag.pk), why="was reviewed already"
        )
    if not note.strip():
        raise KaopingError(
            ErrorCode.INVALID, what="rating flag", where="note", why="say what the check found"
        )
    with transaction.atomic():
        flag.status = FlagStatus.CONFIRMED if confirmed else FlagStatus.CLEARED
        flag.reviewed_by = actor  # type: ignore[assignment]
        flag.reviewed_at = clock.now()
        flag.note = note.strip()[:300]
        flag.save(update_fields=["status", "reviewed_by", "reviewed_at", "note"])
        if confirmed:
            Rating.objects.filter(pk=flag.rating_id).update(excluded=True)
            ratings_mark_dirty_where("id = %s", [flag.rating_id])  # the assessment rollups count it
        evidence_append(
            actor=actor,
            action="ratings.flag_review",
            object_type="ratings.ratingflag",
            object_id=str(flag.pk),
            state={
                "rating": flag.rating_id,
                "pattern": flag.pattern,
                "status": flag.status,
                "note": flag.note,
            },
        )
    return flag


# -- anti-gaming scan --------------------------------------------------------------------------------


def _thresholds() -> gaming.Thresholds:
    return gaming.Thresholds(**settings.KAOPING_GAMING)


def _epoch(column: str) -> str:
    """SQL for a timestamp column as POSIX seconds, so a million rows need no datetime objects."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def ratings_scan(*, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> int:
    """Run the anti-gaming detectors over the ratings given in [start, end] (with the look-back each
    detector needs) and raise a flag for each new suspicion; returns how many flags were new."""
    now = now or clock.now()
    limits = _thresholds()
    adapt = connection.ops.adapt_datetimefield_value
    burst_span = dt.timedelta(minutes=limits.burst_minutes)
    phone_span = dt.timedelta(days=limits.phone_days)
    rating, case, staff = Rating._meta.db_table, Case._meta.db_table, Staff._meta.db_table
    unit_of: dict[int, int] = {}
    facts: dict[int, gaming.Facts] = {}
    phones: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT r.id, r.unit_id, r.level, r.channel, {_epoch("r.rated_at")}, r.device, r.ip,
                       r.rater_phone, r.case_id, {_epoch("c.handled_at")}, s.devices
                FROM {rating} r LEFT JOIN {case} c ON c.id = r.case_id
                LEFT JOIN {staff} s ON s.id = c.staff_id
                WHERE r.excluded = %s AND r.rated_at >= %s AND r.rated_at <= %s""",
            [False, adapt(start), adapt(end)],
        )
        for (
            pk,
            unit_id,
            level,
            channel,
            at,
            device,
            ip,
            phone,
            case_id,
            handled,
            devices,
        ) in cursor.fetchall():
            unit_of[pk] = unit_id
            facts[pk] = gaming.Facts(
                pk,
                level,
                channel,
                at,
                device,
                ip or "",
                phone,
                case_id,
                handled,
                frozenset(devices.split(",")) if devices else frozenset(),
            )
            if phone and case_id is not None:
                phones.add(phone)
        # Look-back: earlier top ratings from the same devices complete a burst.
        cursor.execute(
            f"""SELECT id, unit_id, level, channel, {_epoch("rated_at")}, device FROM {rating}
                WHERE excluded = %s AND level = %s AND device <> '' AND rated_at >= %s AND rated_at <= %s
                  AND (rated_at < %s OR rated_at > %s)""",
            [
                False,
                gaming.TOP_LEVEL,
                adapt(start - burst_span),
                adapt(end + burst_span),
                adapt(start),
                adapt(end),
            ],
        )
        for pk, unit_id, level, channel, at, device in cursor.fetchall():
            unit_of[pk] = unit_id
            facts.setdefault(pk, gaming.Facts(pk, level, channel, at, device))
        # ... and earlier ratings with the same phone numbers complete a repeat.
        if phones:
            sql = f"""SELECT id, unit_id, level, channel, {_epoch("rated_at")}, rater_phone, case_id
                      FROM {rating}
                      WHERE excluded = %s AND case_id IS NOT NULL AND rated_at >= %s AND rated_at <= %s
                        AND (rated_at < %s OR rated_at > %s) AND rater_phone <> ''"""
            params: list[Any] = [
                False,
                adapt(start - phone_span),
                adapt(end + phone_span),
                adapt(start),
                adapt(end),
            ]
            if len(phones) <= 900:
                sql += f" AND rater_phone IN ({', '.join(['%s'] * len(phones))})"
                params += sorted(phones)
            cursor.execute(sql, params)
            for pk, unit_id, level, channel, at, phone, case_id in cursor.fetchall():
                if phone in phones:
                    unit_of[pk] = unit_id
                    facts.setdefault(pk, gaming.Facts(pk, level, channel, at, phone=phone, case_id=case_id))
    suspicions = gaming.detect(
        list(facts.values()),
        thresholds=limits,
        networks=gaming.parse_networks(settings.KAOPING_CENTRE_NETWORKS),
    )
    if not suspicions:
        return 0
    with transaction.atomic():
        before = RatingFlag.objects.count()
        RatingFlag.objects.bulk_create(
            [
                RatingFlag(
                    rating_id=s.rating_id,
                    unit_id=unit_of[s.rating_id],
                    pattern=s.pattern,
                    detail=s.detail,
                    raised_at=now,
                )
                for s in suspicions
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        added = RatingFlag.objects.count() - before
        if added:
            evidence_append(
                actor="system",
                action="ratings.scan",
                object_type="ratings.ratingflag",
                object_id="scan",
                state={"start": start.isoformat(), "end": end.isoformat(), "added": added},
            )
    return added


def ratings_scan_recent(*, now: dt.datetime | None = None, minutes: int = 15) -> int:
    """Scan the ratings received in the last ``minutes`` (the periodic task; overlaps are harmless)."""
    from django.db.models import Max, Min

    now = now or clock.now()
    span = Rating.objects.filter(received_at__gte=now - dt.timedelta(minutes=minutes)).aggregate(
        first=Min("rated_at"), last=Max("rated_at")
    )
    if span["first"] is None:
        return 0
    return ratings_scan(start=span["first"], end=span["last"], now=now)
