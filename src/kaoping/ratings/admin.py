"""Ratings in the admin: read-only (a rating is evidence: nobody edits one), phone numbers masked."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kaoping.core.masking import mask_phone
from kaoping.ratings.models import Rating, RatingFlag


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "external_id",
        "source",
        "unit",
        "level",
        "channel",
        "attempt",
        "rated_at",
        "masked_phone",
        "defaulted",
        "excluded",
    )
    list_filter = ("level", "channel", "attempt", "defaulted", "excluded")
    search_fields = ("external_id", "case__external_id")
    date_hierarchy = "rated_at"
    exclude = ("rater_phone", "rater_id_number", "rater_name")
    list_select_related = ("unit",)
    show_full_result_count = False

    @admin.display(description="评价人电话")
    def masked_phone(self, rating: Rating) -> str:
        return mask_phone(rating.rater_phone) if rating.rater_phone else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Rating | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Rating | None = None) -> bool:
        return False


@admin.register(RatingFlag)
class RatingFlagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rating", "unit", "pattern", "status", "raised_at", "reviewed_by")
    list_filter = ("pattern", "status")
    readonly_fields = [f.name for f in RatingFlag._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RatingFlag | None = None) -> bool:
        return False
