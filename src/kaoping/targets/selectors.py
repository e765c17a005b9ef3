"""Reads of target tables and assessment tasks, scoped to the user's units.

A table is visible to whoever's scope covers its department. A task is visible to whoever's scope covers its
issuing centre or one of its units; within it, a user sees the units in their scope only (a department head
sees their own department's submission, the director every unit's)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from kaoping.assessment.models import ManualEntry
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, unit_scope_q
from kaoping.org.models import Unit
from kaoping.targets.models import AnalysisMeeting, AssessmentTask, ImprovementMeasure, TargetTable, TaskUnit


def _not_found(what: str, pk: int) -> KaopingError:
    return KaopingError(ErrorCode.NOT_FOUND, what=what, where=str(pk), why="no such record in your scope")


def table_list(*, user: User) -> QuerySet[TargetTable]:
    return (
        TargetTable.objects.filter(unit_scope_q(user, field="unit"))
        .select_related("unit", "signed_by", "approved_by")
        .annotate(row_count=Count("rows"))
        .order_by("-year", "unit__path", "-version")
    )


def table_get(*, user: User, table_id: int) -> TargetTable:
    table = (
        TargetTable.objects.filter(unit_scope_q(user, field="unit"), pk=table_id)
        .select_related("unit", "based_on", "drafted_by", "signed_by", "approved_by", "returned_by")
        .first()
    )
    if table is None:
        raise _not_found("target table", table_id)
    return table


def current_table(*, user: User, unit: Unit, year: int) -> TargetTable | None:
    """The table in force for a department's year: its latest approved version."""
    return (
        TargetTable.objects.filter(unit_scope_q(user, field="unit"), unit=unit, year=year, state="approved")
        .order_by("-version")
        .first()
    )


def task_list(*, user: User) -> QuerySet[AssessmentTask]:
    visible = Unit.objects.filter(unit_scope_q(user))
    reached = TaskUnit.objects.filter(unit__in=visible).values("task_id")
    return (
        AssessmentTask.objects.filter(Q(centre__in=visible) | Q(pk__in=reached))
        .select_related("centre")
        .annotate(
            unit_count=Count("units", distinct=True),
            submitted_count=Count("units", filter=Q(units__submitted_at__isnull=False), distinct=True),
        )
        .order_by("-issued_at", "-pk")
    )


def task_get(*, user: User, task_id: int) -> AssessmentTask:
    task = task_list(user=user).select_related("issued_by", "closed_by").filter(pk=task_id).first()
    if task is None:
        raise _not_found("assessment task", task_id)
    return task


@dataclass(frozen=True)
class UnitStatus:
    row: TaskUnit
    manual_entries: int  # manual values entered for the unit over the task's period


def task_units(*, user: User, task: AssessmentTask) -> list[UnitStatus]:
    """The task's units in the user's scope, with their submission and how many manual values they entered."""
    from kaoping.assessment.assess import parse_period

    rows = list(
        TaskUnit.objects.filter(unit_scope_q(user, field="unit"), task=task)
        .select_related("unit", "submitted_by")
        .order_by("unit__path")
    )
    try:
        period = parse_period(task.period)
    except KaopingError:  # stored valid; a period that no longer parses just shows no counts
        return [UnitStatus(row, 0) for row in rows]
    counts = dict(
        ManualEntry.objects.filter(
            unit_id__in=[row.unit_id for row in rows],
            period_start__lte=period.end,
            period_end__gte=period.start,
        )
        .values_list("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    return [UnitStatus(row, counts.get(row.unit_id, 0)) for row in rows]


def task_meetings(
    *, user: User, task: AssessmentTask
) -> list[tuple[AnalysisMeeting, list[ImprovementMeasure]]]:
    """The task's analysis meetings, each with the measures of the units in the user's scope."""
    result: list[tuple[AnalysisMeeting, list[ImprovementMeasure]]] = []
    for meeting in task.meetings.select_related("recorded_by").order_by("-held_on", "-pk"):
        measures = list(meeting.measures.filter(unit_scope_q(user, field="unit")).select_related("unit"))
        result.append((meeting, measures))
    return result
