"""Building the daily rollups in SQL, and keeping them true when late data arrives.

``rollups_rebuild`` recomputes the rows of the given days set-based: per day and kind, one DELETE and
one INSERT … SELECT … GROUP BY unit over that day's records, in one transaction (the same statements
on SQLite and PostgreSQL). A day is an instant range in the local zone, so the records are read
through their time index and the day itself is a parameter, not an expression per row.

Whatever changes a record a rollup counts marks its (unit, day) dirty in the same transaction
(``days_mark_dirty``: case recomputation and the sweep, rating ingestion and defaults, the review of
anti-gaming flags, each step of a rectification); the periodic ``rollups_refresh`` rebuilds the
marked days and clears the marks it has rebuilt.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from kaoping.assessment.models import (
    WAIT_BUCKETS,
    WAIT_EDGES,
    DailyCaseStats,
    DailyRatingStats,
    DirtyDay,
    DirtyKind,
    wait_bucket_field,
)
from kaoping.cases.models import Case, CaseStatus
from kaoping.catalog.models import Matter, MatterKind
from kaoping.core import clock
from kaoping.followup.models import Rectification
from kaoping.followup.workflow import Triage, Verdict
from kaoping.ratings.models import Rating

# Above this many dirty units on one day, the whole day is rebuilt: one plain statement beats a long
# IN list, and the result is the same.
WHOLE_DAY_UNITS = 200


# -- days ------------------------------------------------------------------------------------------


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of a local calendar day and the first instant after it."""
    zone = clock.local_zone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def local_day(value: dt.date | dt.datetime | str) -> dt.date:
    """The local calendar day of an instant: an aware datetime, or a naive one / text as Django
    stores it (UTC), e.g. a row about to be inserted by a bulk writer."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(clock.local_zone()).date()
    return value


def _runs(days: Iterable[dt.date]) -> list[dt.date]:
    return sorted(set(days))


# -- dirty marks -----------------------------------------------------------------------------------


def days_mark_dirty(
    *, kind: DirtyKind | str, pairs: Iterable[tuple[int, dt.date | dt.datetime | str]]
) -> int:
    """Mark (unit, day) rollups of ``kind`` stale; the second element may be the day or an instant in
    it. Runs inside the caller's transaction, so the mark commits with the change it reports.
    Returns the number of distinct (unit, day) pairs marked."""
    marks = sorted({(int(unit_id), local_day(when)) for unit_id, when in pairs})
    if not marks:
        return 0
    table = connection.ops.quote_name(DirtyDay._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    # A repeated mark bumps the version, so a refresh running now keeps it (see rollups_refresh).
    sql = (
        f"INSERT INTO {table} (kind, unit_id, day, version) VALUES (%s, %s, %s, 1) "
        f"ON CONFLICT (kind, unit_id, day) DO UPDATE SET version = {table}.version + 1"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(str(kind), unit_id, adapt(day)) for unit_id, day in marks])
    return len(marks)


def cases_mark_dirty_where(where: str, params: Sequence[Any]) -> int:
    """Mark the (unit, receipt day) of the cases matching a WHERE clause on the case table, for
    set-based writers (the sweep) that change cases without loading them."""
    return _mark_where(DirtyKind.CASES, Case._meta.db_table, "received_at", where, params)


def ratings_mark_dirty_where(where: str, params: Sequence[Any]) -> int:
    """Mark the (unit, day given) of the ratings matching a WHERE clause on the rating table (for
    default ratings, excluded ones, and follow-ups moving on)."""
    return _mark_where(DirtyKind.RATINGS, Rating._meta.db_table, "rated_at", where, params)


def _mark_where(kind: DirtyKind, table: str, column: str, where: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT unit_id, {column} FROM {connection.ops.quote_name(table)} WHERE {where}",
            list(params),
        )
        rows = cursor.fetchall()
    return days_mark_dirty(kind=kind, pairs=rows)


# -- rebuilding --------------------------------------------------------------------------------------


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _case_select() -> tuple[list[str], list[str]]:
    """Target columns and the expressions over the case table ``c`` that fill them."""
    matter = connection.ops.quote_name(Matter._meta.db_table)
    immediate = f"c.matter_id IN (SELECT id FROM {matter} WHERE kind = '{MatterKind.IMMEDIATE.value}')"
    columns = {
        "cases": "COUNT(*)",
        "closed": _sum(f"c.status = '{CaseStatus.CLOSED.value}'"),
        "immediate": _sum(immediate),
        "staffed": "COUNT(c.staff_id)",
        "staff_days": "COUNT(DISTINCT c.staff_id)",
    }
    for node in ("appointment", "acceptance", "handling", "delivery"):
        # NOT NULL is NULL: a node still running (or never run) counts on neither side.
        columns[f"{node}_on_time"] = _sum(f"NOT c.{node}_late")
        columns[f"{node}_late"] = _sum(f"c.{node}_late")
    columns |= {
        "overruns": _sum("c.overdue"),
        "breakers": _sum("c.breaker"),
        "notices": _sum("c.one_time_notice"),
        "supplemented": _sum("c.one_time_notice OR c.resubmissions > 0"),
        "trips": "COALESCE(SUM(c.trips), 0)",
        "resubmitted": _sum("c.resubmissions > 0"),
        "wait_count": "COUNT(c.wait_minutes)",
        "wait_sum": "COALESCE(SUM(c.wait_minutes), 0)",
        "wait_max": "COALESCE(MAX(c.wait_minutes), 0)",
    }
    lows = (0, *WAIT_EDGES)
    for index in range(WAIT_BUCKETS):
        condition = f"c.wait_minutes >= {lows[index]}"
        if index < len(WAIT_EDGES):
            condition += f" AND c.wait_minutes < {WAIT_EDGES[index]}"
        columns[wait_bucket_field(index)] = _sum(condition)
    return list(columns), list(columns.values())


def _rating_select() -> tuple[list[str], list[str]]:
    """Target columns and the expressions over ratings ``r`` left-joined to their follow-ups ``f``."""
    columns = {f"level_{k}": _sum(f"r.level = {k}") for k in range(1, 6)}
    columns |= {f"defaulted_{k}": _sum(f"r.defaulted AND r.level = {k}") for k in range(1, 6)}
    rectifiable = f"'{Triage.FIX_NOW.value}', '{Triage.COMPLEX.value}'"
    satisfied = f"'{Verdict.SATISFIED.value}', '{Verdict.BASIC.value}'"
    # The same counts as followup.workflow.measures: revisits count for real-name ratings only.
    columns |= {
        "followups": "COUNT(f.id)",
        "real_name": _sum("f.real_name"),
        "revisited": _sum("f.real_name AND f.revisited_at IS NOT NULL"),
        "to_rectify": _sum(f"f.triage IN ({rectifiable})"),
        "rectified": _sum("f.rectified_at IS NOT NULL"),
        "verdicts": _sum("f.verdict <> ''"),
        "satisfied_verdicts": _sum(f"f.verdict IN ({satisfied})"),
    }
    return list(columns), list(columns.values())


def _day_param() -> str:
    # PostgreSQL must be told the parameter in the select list is a date; SQLite stores the text.
    return "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"


def _rebuild_day(kind: DirtyKind, day: dt.date, unit_ids: Sequence[int] | None) -> None:
    """Delete and re-insert one day's rows of one kind (for some units, or all), in the caller's
    transaction."""
    quote = connection.ops.quote_name
    start, end = (connection.ops.adapt_datetimefield_value(at) for at in day_bounds(day))
    day_value = connection.ops.adapt_datefield_value(day)
    units_sql = ""
    if unit_ids is not None:
        units_sql = f" AND {{alias}}.unit_id IN ({', '.join(['%s'] * len(unit_ids))})"
    if kind == DirtyKind.CASES:
        target = DailyCaseStats._meta.db_table
        columns, expressions = _case_select()
        source = f"{quote(Case._meta.db_table)} c"
        where = "c.received_at >= %s AND c.received_at < %s" + units_sql.format(alias="c")
        group = "c.unit_id"
    else:
        target = DailyRatingStats._meta.db_table
        columns, expressions = _rating_select()
        source = (
            f"{quote(Rating._meta.db_table)} r LEFT JOIN {quote(Rectification._meta.db_table)} f "
            "ON f.rating_id = r.id"
        )
        where = "r.rated_at >= %s AND r.rated_at < %s AND NOT r.excluded" + units_sql.format(alias="r")
        group = "r.unit_id"
    units = list(unit_ids or [])
    delete = f"DELETE FROM {quote(target)} WHERE day = %s" + units_sql.format(alias=quote(target))
    insert = (
        f"INSERT INTO {quote(target)} (unit_id, day, {', '.join(columns)}) "
        f"SELECT {group}, {_day_param()}, {', '.join(expressions)} FROM {source} "
        f"WHERE {where} GROUP BY {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(delete, [day_value, *units])
        cursor.execute(insert, [day_value, start, end, *units])


@dataclass
class RebuildReport:
    days: dict[str, int] = field(default_factory=dict)  # kind → days rebuilt


def _all_days(kind: DirtyKind) -> list[dt.date]:
    """Every local day from the first record of this kind to the last."""
    model, column = (Case, "received_at") if kind == DirtyKind.CASES else (Rating, "rated_at")
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT MIN({column}), MAX({column}) FROM {table}")
        first, last = cursor.fetchone()
    if first is None:
        return []
    first_day, last_day = local_day(first), local_day(last)
    return [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def rollups_rebuild(
    *,
    days: Iterable[dt.date] | None,
    unit_ids: Iterable[int] | None = None,
    kinds: Iterable[DirtyKind] = (DirtyKind.CASES, DirtyKind.RATINGS),
) -> RebuildReport:
    """Recompute the rollup rows of these days (None: every day with records, and rows of days
    outside them dropped) for these units (None: all). Each day of each kind is one transaction:
    readers see the old row or the new one, never none. Idempotent."""
    units = sorted(set(unit_ids)) if unit_ids is not None else None
    report = RebuildReport()
    for kind in kinds:
        wanted = _runs(days) if days is not None else _all_days(kind)
        if days is None:
            _drop_outside(kind, wanted)
        for day in wanted:
            with transaction.atomic():
                _rebuild_day(kind, day, units)
        report.days[str(kind)] = len(wanted)
    return report


def _drop_outside(kind: DirtyKind, wanted: list[dt.date]) -> None:
    model = DailyCaseStats if kind == DirtyKind.CASES else DailyRatingStats
    rows = model.objects.all()
    if wanted:
        rows = rows.exclude(day__gte=wanted[0], day__lte=wanted[-1])
    rows.delete()


def rollups_refresh(*, max_days: int | None = None) -> int:
    """Rebuild the (kind, day)s marked dirty, for the marked units, oldest first; returns how many
    (kind, day)s were rebuilt. Each is one transaction that rebuilds, then deletes the marks it read
    *at the version it read*: a mark made meanwhile has a higher version and stays for next time."""
    marks: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for kind, unit_id, day, version in DirtyDay.objects.values_list("kind", "unit_id", "day", "version"):
        marks[(kind, day)].append((unit_id, version))
    done = 0
    table = connection.ops.quote_name(DirtyDay._meta.db_table)
    for kind, day in sorted(marks, key=lambda key: (key[1], key[0])):
        if max_days is not None and done >= max_days:
            break
        seen = marks[(kind, day)]
        units = None if len(seen) > WHOLE_DAY_UNITS else sorted(unit for unit, _ in seen)
        with transaction.atomic():
            _rebuild_day(DirtyKind(kind), day, units)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"DELETE FROM {table} WHERE kind = %s AND day = %s AND unit_id = %s AND version = %s",
                    [(kind, connection.ops.adapt_datefield_value(day), unit, v) for unit, v in seen],
                )
        done += 1
    return done
