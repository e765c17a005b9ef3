"""Evaluating stored cases: their events, limits and calendar, handed to the pure deadline engine.
Shared by the writes that store the derived fields (services) and the reads that show a timeline
(selectors)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import orjson
from django.db import connection

from kaoping.cases.deadlines import Event, EventKind, Timeline, evaluate
from kaoping.cases.models import Case, CaseEvent
from kaoping.cases.pipeline import EvalContext
from kaoping.catalog.models import Matter, MatterNode, node_limits
from kaoping.core import clock
from kaoping.org.models import Unit
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit
from kaoping.workcal.selectors import get_calendar, unit_calendars


def events_of(case_ids: list[int]) -> dict[int, list[Event]]:
    events: dict[int, list[Event]] = defaultdict(list)
    zone = clock.local_zone()
    for start in range(0, len(case_ids), 900):
        chunk = case_ids[start : start + 900]
        for case_id, kind, at, node, detail in _event_rows(chunk):
            events[case_id].append(
                Event(
                    at=at.astimezone(zone),
                    kind=EventKind(kind),
                    node=node,
                    pause_kind=detail.get("pause_kind", ""),
                    reason=detail.get("reason", ""),
                    approver=detail.get("approver", ""),
                    limit=detail.get("limit", ""),
                )
            )
    return events


def _event_rows(case_ids: list[int]) -> Iterable[tuple[int, str, dt.datetime, str, dict[str, str]]]:
    """(case, kind, instant, node, detail) of the cases' events. On SQLite read raw and converted here
    (the instants are stored in UTC without an offset, the detail as JSON text): the ORM's
    converters were a tenth of a large import."""
    if connection.vendor != "sqlite":
        return CaseEvent.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "kind", "at", "node", "detail"
        )
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT case_id, kind, at, node, detail FROM {table} "
            f"WHERE case_id IN ({', '.join(['%s'] * len(case_ids))})",
            case_ids,
        )
        rows = cursor.fetchall()
    utc = dt.UTC
    return [
        (
            case_id,
            kind,
            (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at)).replace(tzinfo=utc),
            node,
            orjson.loads(detail) if detail != "{}" else {},
        )
        for case_id, kind, at, node, detail in rows
    ]


class Calendars:
    """One WorkCalendar per unit's office hours, fetched once per recomputation."""

    def __init__(self) -> None:
        self._by_unit: dict[int, WorkCalendar] = {}

    def of(self, unit: Unit) -> WorkCalendar:
        if unit.pk not in self._by_unit:
            self._by_unit[unit.pk] = get_calendar(unit=unit)
        return self._by_unit[unit.pk]


def custom_limits(matter_ids: Iterable[int]) -> dict[int, dict[str, Limit]]:
    limits: dict[int, dict[str, Limit]] = defaultdict(dict)
    for node in MatterNode.objects.filter(matter_id__in=set(matter_ids), limit_amount__isnull=False):
        if node.limit is not None:
            limits[node.matter_id][node.code] = node.limit
    return limits


def eval_context(now: dt.datetime) -> EvalContext:
    """Every matter's limits and every unit's calendar, for a file reader to evaluate cases with."""
    matters = list(Matter.objects.all())
    return EvalContext(
        now=now,
        zone=clock.local_zone(),
        base_limits=node_limits(),
        handling={m.pk: m.handling_limit for m in matters},
        custom=dict(custom_limits(m.pk for m in matters)),
        calendars=unit_calendars(Unit.objects.only("pk", "path")),
    )


def evaluate_case(
    case: Case,
    events: list[Event],
    *,
    calendars: Calendars,
    base_limits: dict[str, Limit],
    custom: dict[int, dict[str, Limit]],
    now: dt.datetime,
) -> Timeline:
    return evaluate(
        events,
        limits={**base_limits, "handling": case.matter.handling_limit},
        calendar=calendars.of(case.unit),
        now=now,
        received_at=case.received_at.astimezone(clock.local_zone()),
        custom_limits=custom.get(case.matter_id),
    )


def case_timeline(case: Case, *, now: dt.datetime | None = None) -> Timeline:
    return evaluate_case(
        case,
        events_of([case.pk]).get(case.pk, []),
        calendars=Calendars(),
        base_limits=node_limits(),
        custom=custom_limits([case.matter_id]),
        now=now or clock.now(),
    )
