"""Reads of cases, scoped to the user's units, with personal data masked for roles that do not need it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

# Reading a timeline is a read: offered here with the other selectors.
from kaoping.cases.evaluation import case_timeline as case_timeline
from kaoping.cases.models import Case, CaseEvent, CaseStatus, CaseWarning
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_id_number, mask_name, mask_phone
from kaoping.core.permissions import User, sees_personal_data, unit_scope_q
from kaoping.org.models import Unit

PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseFilters:
    unit: int | None = None
    matter: int | None = None
    kind: str = ""
    channel: str = ""
    status: str = ""  # open / closed / on_time / due_soon / overdue / paused / breaker / late
    start: dt.date | None = None
    end: dt.date | None = None


def case_list(
    *, user: User, filters: CaseFilters, after: tuple[dt.datetime, int] | None = None, limit: int = PAGE_SIZE
) -> list[Case]:
    """One page, newest first. Keyset pagination (received_at, id) keeps every page one index range
    scan however many millions of cases lie behind it; there is deliberately no total count."""
    cases = Case.objects.filter(unit_scope_q(user, field="unit"))
    if filters.unit:
        unit = Unit.objects.filter(pk=filters.unit).only("path").first()
        if unit is None:
            cases = cases.none()
        elif not filters.status and not Unit.objects.filter(parent_id=unit.pk).exists():
            # A unit without units below it (a window, say), no status asked: the (unit,
            # received_at, id) index gives its page in order, even when it has no cases (a walk of
            # every case otherwise). With a status, SQLite would take that index too and read each
            # of the unit's cases, where the status index, which carries the unit, is the better.
            cases = cases.filter(unit_id=unit.pk)
        else:
            # A subtree: walked on the received_at index (or the status index), which carries the
            # unit (a list of the subtree's units would have SQLite sort all their cases first).
            cases = cases.filter(unit__path__startswith=unit.path)
    if filters.matter:
        cases = cases.filter(matter_id=filters.matter)
    if filters.kind:
        cases = cases.filter(matter__kind=filters.kind)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.status in (CaseStatus.OPEN, CaseStatus.CLOSED):
        cases = cases.filter(status=filters.status)
    elif filters.status == "breaker":
        cases = cases.filter(breaker=True)
    elif filters.status == "late":  # any node overdue now or finished late
        cases = cases.filter(overdue=True)
    elif filters.status:
        cases = cases.filter(deadline_status=filters.status)
    # Days are local days, turned into instant ranges so the received_at index serves them.
    zone = clock.local_zone()
    if filters.start:
        cases = cases.filter(received_at__gte=dt.datetime.combine(filters.start, dt.time(), tzinfo=zone))
    if filters.end:
        next_day = filters.end + dt.timedelta(days=1)
        cases = cases.filter(received_at__lt=dt.datetime.combine(next_day, dt.time(), tzinfo=zone))
    if after:
        received, pk = after
        cases = cases.filter(Q(received_at__lt=received) | Q(received_at=received, pk__lt=pk))
    return list(cases.select_related("matter", "unit").order_by("-received_at", "-pk")[:limit])


def parse_cursor(text: str) -> tuple[dt.datetime, int] | None:
    """The keyset position a previous page handed out as ``next`` ("" for the first page)."""
    if not text:
        return None
    try:
        stamp, pk = text.rsplit("_", 1)
        after = dt.datetime.fromisoformat(stamp)
        if after.tzinfo is None:
            raise ValueError("naive")
        return after, int(pk)
    except ValueError:
        raise KaopingError(
            ErrorCode.INVALID, what="after", why=f"{text!r} is not a cursor from `next`"
        ) from None


def make_cursor(case: Case) -> str:
    return f"{case.received_at.isoformat()}_{case.pk}"


def case_get(*, user: User, case_id: int) -> Case:
    case = (
        Case.objects.filter(unit_scope_q(user, field="unit"), pk=case_id)
        .select_related("matter", "unit", "staff")
        .first()
    )
    if case is None:
        raise KaopingError(
            ErrorCode.NOT_FOUND, what="case", where=str(case_id), why="no such case in your scope"
        )
    return case


def applicant_view(*, user: User, case: Case) -> dict[str, str]:
    """The applicant's personal data as this user may see it."""
    if sees_personal_data(user, case.unit):
        return {
            "name": case.applicant_name,
            "phone": case.applicant_phone,
            "id_number": case.applicant_id_number,
        }
    return {
        "name": mask_name(case.applicant_name) if case.applicant_name else "",
        "phone": mask_phone(case.applicant_phone) if case.applicant_phone else "",
        "id_number": mask_id_number(case.applicant_id_number) if case.applicant_id_number else "",
    }


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.order_by("at", "pk")


def warning_list(*, user: User, acknowledged: bool | None = None, limit: int = 200) -> list[CaseWarning]:
    warnings = CaseWarning.objects.filter(unit_scope_q(user, field="unit"))
    if acknowledged is not None:
        warnings = warnings.filter(acknowledged_at__isnull=not acknowledged)
    return list(
        warnings.select_related("case", "unit", "case__matter", "acknowledged_by").order_by(
            "-raised_at", "-pk"
        )[:limit]
    )


def unit_day(*, user: User, unit: Unit, day: dt.date, tz: Any) -> dict[str, int]:
    """A unit's day at a glance: received, closed, overdue, warnings (the unit and everything below)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    scope = Q(unit__path__startswith=unit.path) & unit_scope_q(user, field="unit")
    cases = Case.objects.filter(scope)
    counts = cases.aggregate(
        received=Count("pk", filter=Q(received_at__gte=start, received_at__lt=end)),
        closed=Count("pk", filter=Q(handled_at__gte=start, handled_at__lt=end)),
        closed_late=Count(
            "pk", filter=Q(handled_at__gte=start, handled_at__lt=end, deadline_status="done_late")
        ),
    )
    counts["open_overdue"] = cases.filter(status=CaseStatus.OPEN, deadline_status="overdue").count()
    counts["warnings"] = CaseWarning.objects.filter(scope, raised_at__gte=start, raised_at__lt=end).count()
    counts["unacknowledged"] = CaseWarning.objects.filter(scope, acknowledged_at__isnull=True).count()
    return counts
