from django.contrib import admin

from kaoping.evidence.admin import EvidencedAdmin
from kaoping.org.models import RoleAssignment, Staff, Unit


@admin.register(Unit)
class UnitAdmin(EvidencedAdmin):
    list_display = ("name", "code", "kind", "department_kind", "parent", "active")
    list_filter = ("kind", "department_kind", "active")
    search_fields = ("name", "code", "region_code")
    autocomplete_fields = ("parent",)


@admin.register(Staff)
class StaffAdmin(EvidencedAdmin):
    list_display = ("name", "employee_no", "unit", "user", "active")
    search_fields = ("name", "employee_no")
    autocomplete_fields = ("unit", "user")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(EvidencedAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    autocomplete_fields = ("unit", "user")
