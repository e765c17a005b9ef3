from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.registry import Evidenced
from kaoping.evidence.services import evidence_record, evidence_record_delete


class EvidencedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Admin edits leave evidence-log entries like any other write."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._record(request, obj, "admin.change" if change else "admin.add")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            if formsets:
                # Inline rows belong to the parent's state: record it again with them.
                self._record(request, form.instance, "admin.change_related")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            pk = obj.pk
            super().delete_model(request, obj)
            evidence_record_delete(actor=request.user, model=type(obj), object_id=pk, note="admin")

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def _record(self, request: HttpRequest, obj: Any, action: str) -> None:
        if isinstance(obj, Evidenced):
            evidence_record(actor=request.user, action=action, instance=obj, note="admin")


@admin.register(EvidenceEntry)
class EvidenceEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("seq", "at", "actor", "action", "object_type", "object_id", "short_hash")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor")

    @admin.display(description="哈希")
    def short_hash(self, obj: EvidenceEntry) -> str:
        return obj.hash[:12]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
