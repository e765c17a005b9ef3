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
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from kaoping.cases.models import Case, ImportBatch
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access, unit_scope_q
from kaoping.evidence.digest import digest
from kaoping.evidence.services import Actor, evidence_append
from kaoping.followup.services import rectifications_open_for_ratings
from kaoping.org.models import Staff, Unit
from kaoping.ratings import gaming
from kaoping.ratings.codes import Attempt, Channel, Convention, Level
from kaoping.ratings.ingest import Lookups, RatingRecord, RecordError, validate
from kaoping.ratings.models import FlagStatus, Rating, RatingFlag

BATCH = 5000
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
    iterator = iter(records)
    while chunk := list(islice(iterator, BATCH)):
        valid: list[tuple[str, RatingRecord]] = []
        for where, raw in chunk:
            try:
                valid.append((where, validate(raw, lookups, convention)))
            except RecordError as exc:
                report.rejected.append(Rejection(where, str(raw.get("id", "")), str(exc)))
        with transaction.atomic():
            _store(actor, valid, label, report, now=now or clock.now(), scope=scope)
        if on_progress:
            on_progress(len(chunk))
    return report


@dataclass
class _CaseRow:
    pk: int
    source: str
    unit_id: int
    staff_id: int | None


def _cases_of(records: Sequence[RatingRecord]) -> dict[str, list[_CaseRow]]:
    """Case number → the stored cases with that number (several sources may use one number)."""
    numbers = sorted({r.case_external_id for r in records if r.case_external_id})
    found: dict[str, list[_CaseRow]] = defaultdict(list)
    for start in range(0, len(numbers), 900):
        rows = Case.objects.filter(external_id__in=numbers[start : start + 900]).values_list(
            "pk", "external_id", "source", "unit_id", "staff_id"
        )
        for pk, number, source, unit_id, staff_id in rows:
            found[number].append(_CaseRow(pk, source, unit_id, staff_id))
    return found


def _existing_keys(records: Sequence[RatingRecord]) -> set[tuple[str, str]]:
    by_source: dict[str, list[str]] = defaultdict(list)
    for r in records:
        by_source[r.source].append(r.external_id)
    found: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        for start in range(0, len(ids), 900):
            rows = Rating.objects.filter(source=source, external_id__in=ids[start : start + 900])
            found.update(rows.values_list("source", "external_id"))
    return found


def _existing_first(case_ids: Sequence[int]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 900):
        rows = Rating.objects.filter(case_id__in=ids[start : start + 900], attempt=Attempt.FIRST.value)
        found.update((case_id, channel) for case_id, channel in rows.values_list("case_id", "channel"))
    return found


def _resolve_case(record: RatingRecord, cases: dict[str, list[_CaseRow]]) -> _CaseRow:
    candidates = cases.get(record.case_external_id, [])
    if record.case_source:
        candidates = [c for c in candidates if c.source == record.case_source]
    if not candidates:
        source = f" from {record.case_source!r}" if record.case_source else ""
        raise RecordError("case", f"no case {record.case_external_id!r}{source} (send the case first)")
    if len(candidates) > 1:
        sources = ", ".join(sorted(c.source for c in candidates))
        raise RecordError(
            "case_source", f"case number {record.case_external_id!r} exists in {sources}: say which"
        )
    return candidates[0]


def _store(
    actor: Actor,
    valid: list[tuple[str, RatingRecord]],
    label: str,
    report: IngestReport,
    *,
    now: dt.datetime,
    scope: set[int] | None,
    keep_ids: bool = False,
) -> None:
    records = [r for _, r in valid]
    existing = _existing_keys(records)
    cases = _cases_of(records)
    rows: list[tuple[Any, ...]] = []
    keys: list[str] = []
    seen: set[tuple[str, str]] = set()
    firsts: set[tuple[int, str]] = set()
    resolved: list[tuple[str, RatingRecord, _CaseRow | None]] = []
    for where, record in valid:
        key = (record.source, record.external_id)
        if key in existing or key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        try:
            case = _resolve_case(record, cases) if record.case_external_id else None
            if case is not None and record.unit_id is not None and record.unit_id != case.unit_id:
                raise RecordError("unit", "is not the unit that handled the case")
            unit_id = case.unit_id if case is not None else record.unit_id
            if scope is not None and unit_id not in scope:
                raise RecordError("unit", "is outside the units you may send ratings for")
        except RecordError as exc:
            report.rejected.append(Rejection(where, record.external_id, str(exc)))
            continue
        resolved.append((where, record, case))
    stored_first = _existing_first([c.pk for _, r, c in resolved if c and r.attempt is Attempt.FIRST])
    follow_ups: list[tuple[str, RatingRecord, _CaseRow]] = []
    adapt_dt = connection.ops.adapt_datetimefield_value
    json_tags = _json_adapter()
    received = adapt_dt(now)
    for where, record, case in resolved:
        if case is not None and record.attempt is Attempt.FIRST:
            pair = (case.pk, record.channel.value)
            if pair in stored_first or pair in firsts:
                report.rejected.append(
                    Rejection(
                        where,
                        record.external_id,
                        f"case: case {record.case_external_id!r} already has a first rating through "
                        f"channel {record.channel.value!r} (one per case and channel; a later one is a 追评)",
                    )
                )
                continue
            firsts.add(pair)
        if case is not None and record.attempt is Attempt.FOLLOW_UP:
            follow_ups.append((where, record, case))
            continue
        rows.append(_row(record, case, received, adapt_dt, json_tags))
        keys.append(f"{record.source}:{record.external_id}")
        if record.level.bad:
            report.bad += 1
        report.saw(record.rated_at)
    if follow_ups:
        rows_fu, keys_fu = _follow_up_rows(follow_ups, report, received, adapt_dt, json_tags)
        rows += rows_fu
        keys += keys_fu
    if not rows:
        return
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO {Rating._meta.db_table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    report.accepted += len(rows)
    inserted_bad = _inserted(rows, lambda row: row[5] <= Level.DISSATISFIED and row[7] == Attempt.FIRST.value)
    if inserted_bad:
        rectifications_open_for_ratings(rating_ids=inserted_bad, now=now)
    if follow_ups:
        _link_follow_ups(rows)
    if keep_ids:
        report.ids.extend(_inserted(rows, lambda row: True))
    batch = ImportBatch.objects.create(
        source=label[:200],
        actor=str(actor)[:150] if actor else "system",
        started_at=now,
        accepted=len(rows),
        digest=digest(sorted(keys)),
    )
    evidence_append(
        actor=actor,
        action="ratings.ingest",
        object_type="cases.importbatch",
        object_id=str(batch.pk),
        state={"label": batch.source, "accepted": batch.accepted, "digest": batch.digest},
        note=label[:200],
    )


def _json_adapter() -> Callable[[list[str]], Any]:
    tags_field = Rating._meta.get_field("tags")
    if connection.vendor == "sqlite":
        import orjson

        return lambda tags: orjson.dumps(tags).decode()
    return lambda tags: tags_field.get_db_prep_save(tags, connection)


def _row(
    record: RatingRecord,
    case: _CaseRow | None,
    received: Any,
    adapt_dt: Callable[[dt.datetime], Any],
    json_tags: Callable[[list[str]], Any],
) -> tuple[Any, ...]:
    return (
        record.source,
        record.external_id,
        case.pk if case else None,
        case.unit_id if case else record.unit_id,
        record.staff_id if record.staff_id is not None else (case.staff_id if case else None),
        int(record.level),
        record.channel.value,
        record.attempt.value,
        record.rater_kind,
        record.real_name,
        record.rater_name,
        record.rater_phone,
        record.rater_id_number,
        record.text,
        json_tags(list(record.tags)),
        adapt_dt(record.rated_at),
        received,
        record.device,
        record.ip,
        False,
        False,
    )


def _inserted(rows: list[tuple[Any, ...]], wanted: Callable[[tuple[Any, ...]], bool]) -> list[int]:
    """Primary keys of the inserted rows that match ``wanted``, looked up by (source, external id)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if wanted(row):
            by_source[row[0]].append(row[1])
    ids: list[int] = []
    for source, numbers in by_source.items():
        for start in range(0, len(numbers), 900):
            chunk = numbers[start : start + 900]
            ids.extend(
                Rating.objects.filter(source=source, external_id__in=chunk).values_list("pk", flat=True)
            )
    return ids


def _follow_up_rows(
    follow_ups: list[tuple[str, RatingRecord, _CaseRow]],
    report: IngestReport,
    received: Any,
    adapt_dt: Callable[[dt.datetime], Any],
    json_tags: Callable[[list[str]], Any],
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """A follow-up rating (追评) needs a rectified bad rating of the case with no 追评 yet: one only."""
    from kaoping.followup.models import Rectification
    from kaoping.followup.workflow import State

    open_for = {
        case_id: r
        for r, case_id in (
            (r, r.rating.case_id if r.rating else None)
            for r in Rectification.objects.filter(
                rating__case_id__in={c.pk for _, _, c in follow_ups}, follow_up_rating__isnull=True
            ).select_related("rating")
        )
        if case_id is not None
    }
    rows, keys, taken = [], [], set()
    for where, record, case in follow_ups:
        rect = open_for.get(case.pk)
        if rect is None or case.pk in taken:
            why = "has no bad rating awaiting a 追评 (only one 追评, after the rectification)"
        elif rect.state not in (State.VERDICT_PENDING.value, State.CLOSED.value) or not rect.rectified_at:
            why = "is still being rectified: the 追评 comes after the rectification"
        else:
            taken.add(case.pk)
            rows.append(_row(record, case, received, adapt_dt, json_tags))
            keys.append(f"{record.source}:{record.external_id}")
            report.saw(record.rated_at)
            continue
        report.rejected.append(
            Rejection(where, record.external_id, f"attempt: case {record.case_external_id!r} {why}")
        )
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
                [("page", valid)],
                f"rating {valid.channel.value}",
                report,
                now=now,
                scope=None,
                keep_ids=True,
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
          AND NOT EXISTS (SELECT 1 FROM {rating} r WHERE r.case_id = c.id)
        ON CONFLICT DO NOTHING
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            [int(level), Channel.DEFAULT.value, Attempt.FIRST.value, False, received, True, False, cutoff],
        )
        added = max(int(cursor.rowcount), 0)
        if added:
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


def ratings_scan(*, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> int:
    """Run the anti-gaming detectors over the ratings given in [start, end] (with the look-back each
    detector needs) and raise a flag for each new suspicion; returns how many flags were new."""
    now = now or clock.now()
    limits = _thresholds()
    burst_span = dt.timedelta(minutes=limits.burst_minutes)
    phone_span = dt.timedelta(days=limits.phone_days)
    ratings = Rating.objects.filter(excluded=False)
    unit_of: dict[int, int] = {}
    facts: dict[int, gaming.Facts] = {}

    def add(pk: int, unit_id: int, **values: Any) -> None:
        unit_of[pk] = unit_id
        facts.setdefault(pk, gaming.Facts(rating_id=pk, **values))

    recent = ratings.filter(rated_at__range=(start, end))
    rows = recent.values_list(
        "pk",
        "unit_id",
        "level",
        "channel",
        "rated_at",
        "device",
        "ip",
        "rater_phone",
        "case_id",
        "case__handled_at",
        "case__staff__devices",
    )
    phones: set[str] = set()
    for pk, unit_id, level, channel, at, device, ip, phone, case_id, handled, devices in rows.iterator(5000):
        add(
            pk,
            unit_id,
            level=level,
            channel=channel,
            rated_at=int(at.timestamp()),
            device=device,
            ip=ip or "",
            phone=phone,
            case_id=case_id,
            handled_at=int(handled.timestamp()) if handled else None,
            handler_devices=frozenset(devices.split(",")) if devices else frozenset(),
        )
        if phone:
            phones.add(phone)
    # Look-back: earlier ratings from the same devices and phones complete a burst or a repeat.
    around = ratings.filter(rated_at__range=(start - burst_span, end + burst_span), level=gaming.TOP_LEVEL)
    for pk, unit_id, level, channel, at, device in (
        around.exclude(device="")
        .values_list("pk", "unit_id", "level", "channel", "rated_at", "device")
        .iterator(5000)
    ):
        add(pk, unit_id, level=level, channel=channel, rated_at=int(at.timestamp()), device=device)
    if phones:
        wider = ratings.filter(rated_at__range=(start - phone_span, end + phone_span), case__isnull=False)
        wider = wider.exclude(rater_phone="") if len(phones) > 900 else wider.filter(rater_phone__in=phones)
        for pk, unit_id, level, channel, at, phone, case_id in wider.values_list(
            "pk", "unit_id", "level", "channel", "rated_at", "rater_phone", "case_id"
        ).iterator(5000):
            add(
                pk,
                unit_id,
                level=level,
                channel=channel,
                rated_at=int(at.timestamp()),
                phone=phone,
                case_id=case_id,
            )
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
