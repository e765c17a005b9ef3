from django.contrib import admin

from kaoping.catalog.models import Matter
from kaoping.evidence.admin import EvidencedAdmin


@admin.register(Matter)
class MatterAdmin(EvidencedAdmin):
    list_display = ("code", "name", "kind", "owner", "limit_amount", "limit_unit", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("owner",)
