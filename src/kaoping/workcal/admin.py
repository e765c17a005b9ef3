from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from kaoping.evidence.admin import EvidencedAdmin
from kaoping.workcal.models import CalendarDay, CalendarYear, OfficeHours
from kaoping.workcal.selectors import invalidate_calendar_cache
from kaoping.workcal.signals import calendar_changed


class CalendarDayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CalendarDay
    extra = 3


@admin.register(CalendarYear)
class CalendarYearAdmin(EvidencedAdmin):
    """A new year's arrangement is entered here: the year, then its holidays and make-up days."""

    list_display = ("year", "published", "source", "note", "updated_at")
    inlines = (CalendarDayInline,)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        year = form.instance.year

        def notify() -> None:
            invalidate_calendar_cache()
            calendar_changed.send(sender=CalendarYear, years=[year])

        transaction.on_commit(notify)


@admin.register(OfficeHours)
class OfficeHoursAdmin(EvidencedAdmin):
    list_display = ("unit", "sessions")
    autocomplete_fields = ("unit",)
