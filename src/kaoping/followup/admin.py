from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kaoping.followup.models import Rectification


@admin.register(Rectification)
class RectificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the workflow's steps are taken on the follow-up pages, each logged as evidence."""

    list_display = (
        "pk",
        "kind",
        "unit",
        "state",
        "real_name",
        "opened_at",
        "revisit_due_at",
        "rectify_due_at",
    )
    list_filter = ("kind", "state", "real_name")
    readonly_fields = [f.name for f in Rectification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Rectification | None = None) -> bool:
        return False
