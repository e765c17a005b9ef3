"""The dispatch catalogue (派单目录) in the admin: rules are added and changed through the services
(checked and logged), switched off rather than deleted. Tickets, their events and call records are
kept out of the admin: the hotline pages show them with personal data masked by role."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from kaoping.core.errors import KaopingError
from kaoping.hotline import services
from kaoping.hotline.models import DispatchRule
from kaoping.org.models import Unit, UnitKind


class DispatchRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """Saves through the service while validating, so a unit outside the centre comes back as a form
    error; the admin's request is one transaction, so nothing is left behind on a later failure."""

    user: Any = None
    rule: DispatchRule | None = None

    class Meta:
        model = DispatchRule
        fields = ["centre", "category", "keywords", "unit", "priority", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only hotline centres and handling units to choose from (the service checks the rest).
        for name, kind in (("centre", UnitKind.HOTLINE_CENTRE), ("unit", UnitKind.HANDLING_UNIT)):
            if name in self.fields:
                field = cast(forms.ModelChoiceField, self.fields[name])  # type: ignore[type-arg]
                field.queryset = Unit.objects.filter(kind=kind, active=True).order_by("path")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            if self.instance.pk is None:
                self.rule = services.dispatch_rule_create(
                    actor=self.user,
                    centre=data["centre"],
                    unit=data["unit"],
                    category=data.get("category") or "",
                    keywords=data.get("keywords") or "",
                    priority=data.get("priority") or 0,
                )
                if not data.get("active", True):
                    self.rule = self._update(self.rule, data)
            else:
                self.rule = self._update(DispatchRule.objects.get(pk=self.instance.pk), data)
        except KaopingError as error:
            raise forms.ValidationError(str(error)) from error
        return data

    def _update(self, rule: DispatchRule, data: dict[str, Any]) -> DispatchRule:
        return services.dispatch_rule_update(
            actor=self.user,
            rule=rule,
            unit=data["unit"],
            category=data.get("category") or "",
            keywords=data.get("keywords") or "",
            priority=data.get("priority") or 0,
            active=bool(data.get("active")),
        )


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = DispatchRuleForm
    list_display = ("centre", "category", "keywords", "unit", "priority", "active")
    list_filter = (("centre", admin.RelatedOnlyFieldListFilter), "category", "active")
    search_fields = ("keywords", "unit__name", "unit__code")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        cast(Any, form).user = request.user
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("centre",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a rule off instead: the log keeps what it suggested

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Stored (and logged) by the service in the form's clean().
        obj.pk = form.rule.pk
