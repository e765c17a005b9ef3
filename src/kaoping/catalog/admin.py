from django.contrib import admin

from kaoping.catalog.models import MAX_NODES_PER_MATTER, Matter, MatterNode
from kaoping.evidence.admin import EvidencedAdmin


class MatterNodeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = MatterNode
    extra = 1
    max_num = MAX_NODES_PER_MATTER


@admin.register(Matter)
class MatterAdmin(EvidencedAdmin):
    inlines = (MatterNodeInline,)
    list_display = ("code", "name", "kind", "owner", "limit_amount", "limit_unit", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("owner",)
