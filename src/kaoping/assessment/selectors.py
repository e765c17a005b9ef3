"""Reads of stored assessments, scoped to the user: a run is visible to anyone who can see at least
one of its units; within it, only the results of units in the user's scope (others answer 404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404

from kaoping.assessment.models import Assessment, AssessmentResult, AssessmentStatus, SchemeVersion
from kaoping.cases.deadlines import NodeResult, NodeStatus
from kaoping.cases.evaluation import Calendars, custom_limits, evaluate_case, events_of
from kaoping.cases.models import Case
from kaoping.catalog.models import node_limits
from kaoping.core import clock
from kaoping.core.permissions import User, unit_scope_q


def assessments_visible(user: User) -> QuerySet[Assessment]:
    """Runs with a result the user may see, newest first."""
    if not user.is_authenticated:
        return Assessment.objects.none()
    scoped = AssessmentResult.objects.filter(unit_scope_q(user, field="unit")).values("assessment_id")
    return Assessment.objects.filter(pk__in=scoped).select_related("scheme").order_by("-computed_at", "-pk")


def assessment_get(user: User, pk: int) -> Assessment:
    found = assessments_visible(user).filter(pk=pk).first()
    if found is None:
        raise Http404("assessment not found")
    return found


def results_visible(user: User, assessment: Assessment) -> QuerySet[AssessmentResult]:
    """The run's results the user may see, in rank order (unranked last, by unit code)."""
    return (
        assessment.results.filter(unit_scope_q(user, field="unit"))
        .select_related("unit", "staff")
        .order_by(F("rank").asc(nulls_last=True), "unit__code")
    )


def result_get(user: User, assessment: Assessment, unit_code: str) -> AssessmentResult:
    """A unit's result by its code, or a person's (``AssessmentResult.staff``) by employee number."""
    subject = Q(staff__isnull=True, unit__code=unit_code) | Q(staff__employee_no=unit_code)
    found = results_visible(user, assessment).filter(subject).first()
    if found is None:
        raise Http404("result not found")
    return found


def line_of(result: AssessmentResult, indicator: str) -> dict[str, Any]:
    for line in result.lines:
        if line["indicator"] == indicator:
            return dict(line)
    raise Http404("indicator not found")


def published_for(user: User, scheme_code: str, period: str) -> Assessment | None:
    """The published run of a scheme and period, if the user can see it."""
    return (
        assessments_visible(user)
        .filter(scheme__code=scheme_code, period=period, status=AssessmentStatus.PUBLISHED)
        .first()
    )


def scheme_versions() -> QuerySet[SchemeVersion]:
    return SchemeVersion.objects.order_by("code", "-version")


def late_nodes(cases: Sequence[Case], *, now: dt.datetime | None = None) -> dict[int, list[NodeResult]]:
    """Per case, its timed nodes that ran late (finished late, or overdue now), evaluated from its
    events: what the records behind a lost point show as "how late". One query for all the events."""
    if not cases:
        return {}
    events = events_of([c.pk for c in cases])
    calendars, base = Calendars(), node_limits()
    custom = custom_limits(c.matter_id for c in cases)
    moment = now or clock.now()
    late = (NodeStatus.DONE_LATE, NodeStatus.OVERDUE)
    return {
        case.pk: [
            node
            for node in evaluate_case(
                case,
                events.get(case.pk, []),
                calendars=calendars,
                base_limits=base,
                custom=custom,
                now=moment,
            ).nodes
            if node.status in late
        ]
        for case in cases
    }
