from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kaoping.evidence.admin import EvidencedAdmin
from kaoping.org.models import RoleAssignment, Staff, Unit, UnitKind


@admin.register(Unit)
class UnitAdmin(EvidencedAdmin):
    list_display = ("name", "code", "kind", "department_kind", "parent", "active", "rating_poster")
    list_filter = ("kind", "department_kind", "active")
    search_fields = ("name", "code", "region_code")
    autocomplete_fields = ("parent",)

    @admin.display(description="评价二维码")
    def rating_poster(self, unit: Unit) -> SafeString | str:
        """Windows get a printable QR poster linking to their public rating page."""
        if unit.kind != UnitKind.WINDOW:
            return ""
        url = reverse("ratings:poster", args=[unit.pk])
        return format_html('<a href="{}" target="_blank">打印海报</a>', url)


@admin.register(Staff)
class StaffAdmin(EvidencedAdmin):
    list_display = ("name", "employee_no", "unit", "user", "devices", "active")
    search_fields = ("name", "employee_no")
    autocomplete_fields = ("unit", "user")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(EvidencedAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    autocomplete_fields = ("unit", "user")
