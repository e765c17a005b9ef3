"""Reads of the organisation, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, unit_scope_q
from kaoping.org.models import Staff, Unit


def unit_list(*, user: User, kind: str | None = None, parent: int | None = None) -> QuerySet[Unit]:
    units = Unit.objects.filter(unit_scope_q(user)).annotate(child_count=Count("children"))
    if kind:
        units = units.filter(kind=kind)
    if parent is not None:
        units = units.filter(parent_id=parent)
    return units.order_by("path")


def unit_get(*, user: User, unit_id: int) -> Unit:
    """One unit the user may see; one the user may not see does not exist for them."""
    unit = Unit.objects.filter(unit_scope_q(user), pk=unit_id).select_related("parent").first()
    if unit is None:
        raise KaopingError(
            ErrorCode.NOT_FOUND, what="unit", where=str(unit_id), why="no such unit in your scope"
        )
    return unit


def unit_children(*, user: User, unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(unit_scope_q(user), parent=unit).order_by("code")


def unit_ancestors(*, unit: Unit) -> list[Unit]:
    ids = unit.ancestor_ids()
    by_id = Unit.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def staff_list(*, user: User, unit: Unit | None = None) -> QuerySet[Staff]:
    staff = Staff.objects.filter(unit_scope_q(user, field="unit")).select_related("unit")
    if unit is not None:
        staff = staff.filter(unit__path__startswith=unit.path)
    return staff
