"""Admin for questionnaires and campaigns. Drafts only: once a campaign is open its settings and its
questionnaire are fixed (answers refer to them); the workflow runs through the pages and services.
Responses and invitations are deliberately not in the admin (anonymity)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from kaoping.evidence.admin import EvidencedAdmin
from kaoping.org.models import Unit, UnitKind
from kaoping.reviews.models import CampaignGroup, CampaignStatus, QuestionItem, Questionnaire, ReviewCampaign
from kaoping.reviews.scoring import weight_problems


class QuestionItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = QuestionItem
    extra = 1
    fields = ("position", "text", "anchor_5", "anchor_4", "anchor_3", "anchor_2", "anchor_1")


@admin.register(Questionnaire)
class QuestionnaireAdmin(EvidencedAdmin):
    list_display = ("name", "centre", "created_at")
    search_fields = ("name",)
    autocomplete_fields = ("centre",)
    inlines = [QuestionItemInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.campaigns.exclude(status=CampaignStatus.DRAFT).exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.campaigns.exists():
            return False
        return super().has_delete_permission(request, obj)


class GroupFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    """The weights of all five groups are checked together against R2.4, every problem at once."""

    def clean(self) -> None:
        super().clean()
        weights: dict[str, Decimal] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("weight") is None:
                continue
            group = str(data["group"])
            if group in weights:
                raise forms.ValidationError(f"{group} is listed twice")
            weights[group] = data["weight"]
        problems = weight_problems(weights)
        if problems:
            raise forms.ValidationError([str(p) for p in problems])


class CampaignGroupInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignGroup
    formset = GroupFormSet
    extra = 5
    max_num = 5


class CampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ReviewCampaign
        fields = [
            "centre",
            "name",
            "period_start",
            "period_end",
            "questionnaire",
            "units",
            "min_respondents",
            "outlier_points",
            "outlier_sd",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "units" in self.fields:
            self.fields["units"].queryset = Unit.objects.filter(kind=UnitKind.DEPARTMENT)  # type: ignore[attr-defined]
        if "centre" in self.fields:
            self.fields["centre"].queryset = Unit.objects.filter(kind=UnitKind.CENTRE)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        centre, units = data.get("centre"), data.get("units")
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "考评期止不能早于考评期起")
        if centre is not None and units is not None:
            strays = [u.name for u in units if not u.path.startswith(centre.path)]
            if strays:
                self.add_error("units", f"不属于{centre.name}：{'、'.join(strays)}")
        questionnaire = data.get("questionnaire")
        if centre is not None and questionnaire is not None and questionnaire.centre_id != centre.pk:
            self.add_error("questionnaire", "问卷属于其他中心")
        return data


@admin.register(ReviewCampaign)
class ReviewCampaignAdmin(EvidencedAdmin):
    form = CampaignForm
    list_display = ("name", "centre", "period_start", "period_end", "status")
    list_filter = ("status",)
    search_fields = ("name",)
    filter_horizontal = ("units",)
    inlines = [CampaignGroupInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)
