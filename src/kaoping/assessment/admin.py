"""The assessment in the admin. Scheme versions: a draft's YAML is edited here and checked on save
(every error listed); a published version is read-only; publishing and new drafts go through the
services, so they are logged. Runs, results, exemptions and re-checks are records: read-only here
(their pages hold the actions). Manual values are entered through ``manual_entry_submit``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from kaoping.assessment import services
from kaoping.assessment.models import (
    Assessment,
    AssessmentResult,
    Exemption,
    ManualCode,
    ManualEntry,
    Recheck,
    SchemeStatus,
    SchemeVersion,
)
from kaoping.assessment.schemes import InvalidSchemeError, read_scheme
from kaoping.core.errors import KaopingError
from kaoping.evidence.admin import EvidencedAdmin


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SchemeVersionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SchemeVersion
        fields = ["document"]
        widgets = {"document": forms.Textarea(attrs={"rows": 40, "cols": 110, "class": "vLargeTextField"})}

    def clean_document(self) -> str:
        text = str(self.cleaned_data["document"])
        try:
            scheme = read_scheme(text)
        except InvalidSchemeError as error:
            raise forms.ValidationError([str(e) for e in error.errors]) from error
        if self.instance.pk and (scheme.code, scheme.version) != (self.instance.code, self.instance.version):
            raise forms.ValidationError(
                f"文档写的是 {scheme.code} v{scheme.version}，"
                f"本草稿是 {self.instance.code} v{self.instance.version}"
            )
        return text


@admin.register(SchemeVersion)
class SchemeVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = SchemeVersionForm
    list_display = ("code", "version", "name", "unit_type", "period_type", "status", "published_at")
    list_filter = ("status", "unit_type", "period_type")
    actions = ["publish", "new_draft", "export_yaml"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a new version starts from an existing one ("new draft"); defaults come from setup

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fixed = ("code", "version", "name", "unit_type", "period_type", "status", "content_hash")
        if obj is not None and obj.status != SchemeStatus.DRAFT:
            return (*fixed, "document")
        return fixed

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.scheme_draft_update(actor=request.user, draft=obj, text=form.cleaned_data["document"])

    @admin.action(description="发布所选草稿")
    def publish(self, request: HttpRequest, queryset: QuerySet[SchemeVersion]) -> None:
        for version in queryset:
            try:
                services.scheme_publish(actor=request.user, draft=version)
                self.message_user(request, f"{version} 已发布")
            except KaopingError as error:
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description="以所选版本为基础新建草稿")
    def new_draft(self, request: HttpRequest, queryset: QuerySet[SchemeVersion]) -> None:
        for version in queryset:
            try:
                draft = services.scheme_draft_create(actor=request.user, base=version)
                self.message_user(request, f"已建立 {draft}")
            except KaopingError as error:
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description="导出所选版本（YAML）")
    def export_yaml(self, request: HttpRequest, queryset: QuerySet[SchemeVersion]) -> HttpResponse:
        text = "\n---\n".join(version.document for version in queryset.order_by("code", "version"))
        response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="schemes.yaml"'
        return response


class ResultInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AssessmentResult
    fields = ("unit", "total", "grade", "rank", "percentile", "vetoed", "complete")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assessment)
class AssessmentAdmin(_ReadOnly):
    list_display = ("pk", "scheme", "period", "status", "units", "computed_at", "computed_by")
    list_filter = ("status", "period")
    inlines = [ResultInline]


@admin.register(Exemption)
class ExemptionAdmin(_ReadOnly):
    list_display = (
        "unit",
        "scheme_code",
        "period",
        "indicator",
        "deduction_key",
        "approved_by",
        "approved_at",
    )


@admin.register(Recheck)
class RecheckAdmin(_ReadOnly):
    list_display = ("result", "requested_by", "requested_at", "status", "decided_by", "decided_at")
    list_filter = ("status",)


@admin.register(ManualCode)
class ManualCodeAdmin(EvidencedAdmin):
    list_display = ("code", "name", "low", "high", "unit_label", "levels")


class ManualEntryForm(forms.ModelForm):  # type: ignore[type-arg]
    """Submits through the service while validating, so a value outside the indicator's range (or
    without evidence) comes back as a form error; the admin's request is one transaction, so a
    later failure leaves nothing behind."""

    user: Any = None
    entry: ManualEntry | None = None

    class Meta:
        model = ManualEntry
        fields = ["unit", "code", "period_start", "period_end", "value", "level", "evidence", "evidence_file"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.entry = services.manual_entry_submit(
                actor=self.user,
                unit=data["unit"],
                code=data["code"].code,
                period_start=data["period_start"],
                period_end=data["period_end"],
                evidence=data.get("evidence") or "",
                value=data.get("value"),
                level=data.get("level") or "",
                evidence_file=data.get("evidence_file") or "",
            )
        except KaopingError as error:
            raise forms.ValidationError(str(error)) from error
        return data


@admin.register(ManualEntry)
class ManualEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Entries are added (a correction is a new entry), never edited or deleted."""

    form = ManualEntryForm
    list_display = (
        "unit",
        "code",
        "period_start",
        "period_end",
        "value",
        "level",
        "entered_by",
        "entered_at",
    )
    list_filter = ("code",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        cast(Any, form).user = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Stored (and logged) by the service in the form's clean().
        obj.pk = form.entry.pk
        obj.entered_at = form.entry.entered_at
