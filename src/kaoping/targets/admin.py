"""Read-only admin: target tables and tasks change through their pages and services, each step logged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kaoping.targets.models import (
    AnalysisMeeting,
    AssessmentTask,
    ImprovementMeasure,
    TargetRow,
    TargetTable,
    TaskUnit,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TargetRowInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TargetRow
    fields = ("position", "target", "indicator", "standard", "weight", "metric")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TargetTable)
class TargetTableAdmin(ReadOnlyAdmin):
    list_display = ("unit", "year", "version", "state", "signed_at", "approved_at")
    list_filter = ("state", "year")
    inlines = [TargetRowInline]


class TaskUnitInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TaskUnit
    fields = ("unit", "submitted_at", "submitted_by", "late", "submission_note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssessmentTask)
class AssessmentTaskAdmin(ReadOnlyAdmin):
    list_display = ("name", "centre", "scheme_code", "period", "data_due_at", "results_due_at", "state")
    list_filter = ("state", "scheme_code")
    inlines = [TaskUnitInline]


class MeasureInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ImprovementMeasure
    fields = ("unit", "measure", "owner", "due_on")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AnalysisMeeting)
class AnalysisMeetingAdmin(ReadOnlyAdmin):
    list_display = ("task", "held_on", "recorded_by")
    inlines = [MeasureInline]
