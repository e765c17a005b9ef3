"""Units in a tree of any depth, staff, and the roles users hold at units."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from kaoping.evidence.registry import Evidenced


class UnitKind(models.TextChoices):
    REGION = "region", "行政区划"
    CENTRE = "centre", "政务服务中心"
    DEPARTMENT = "department", "科室/部门"
    WINDOW = "window", "窗口"
    HOTLINE_CENTRE = "hotline_centre", "热线中心"
    HANDLING_UNIT = "handling_unit", "承办单位"


# Which kinds may sit under which: region → centre → department / window / hotline → handling unit.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    UnitKind.REGION: {UnitKind.REGION, UnitKind.CENTRE, UnitKind.HOTLINE_CENTRE},
    UnitKind.CENTRE: {UnitKind.DEPARTMENT, UnitKind.WINDOW, UnitKind.HOTLINE_CENTRE},
    UnitKind.DEPARTMENT: {UnitKind.DEPARTMENT, UnitKind.WINDOW},
    UnitKind.WINDOW: set(),
    UnitKind.HOTLINE_CENTRE: {UnitKind.HANDLING_UNIT},
    UnitKind.HANDLING_UNIT: {UnitKind.HANDLING_UNIT},
}


class DepartmentKind(models.TextChoices):
    """R2.2: departments are assessed by different schemes according to whom they serve."""

    INTERNAL_SERVICE = "internal_service", "内部服务型"
    EXTERNAL_SERVICE = "external_service", "对外服务型"
    PROFESSIONAL_SUPPORT = "professional_support", "专业支撑型"


class Unit(Evidenced):
    code = models.CharField("编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=120)
    kind = models.CharField("类型", max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级"
    )
    # Materialised path of primary keys, "/1/4/9/": a subtree is one indexed prefix query.
    path = models.CharField("路径", max_length=400, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)
    region_code = models.CharField("行政区划代码", max_length=12, blank=True)
    department_kind = models.CharField("部门类型", max_length=30, choices=DepartmentKind.choices, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self) -> str:
        return self.name

    def ancestor_ids(self, *, include_self: bool = False) -> list[int]:
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return ids if include_self else ids[:-1]

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self._sync_path()

    def _sync_path(self) -> None:
        parent_path = self.parent.path if self.parent_id and self.parent else "/"
        path = f"{parent_path}{self.pk}/"
        if path == self.path:
            return
        old = self.path
        depth = path.count("/") - 2
        Unit.objects.filter(pk=self.pk).update(path=path, depth=depth)
        self.path, self.depth = path, depth
        if old:
            # A move: every descendant's path starts with the old one.
            for child in Unit.objects.filter(path__startswith=old).exclude(pk=self.pk):
                new_path = path + child.path[len(old) :]
                Unit.objects.filter(pk=child.pk).update(path=new_path, depth=new_path.count("/") - 2)


class Role(models.TextChoices):
    CENTRE_DIRECTOR = "centre_director", "中心主任"
    DEPARTMENT_HEAD = "department_head", "科室负责人"
    WINDOW_STAFF = "window_staff", "窗口人员"
    CALL_TAKER = "call_taker", "话务受理员"
    MONITOR = "monitor", "质检监督员"
    HALL_MANAGER = "hall_manager", "大厅主管"
    EVALUATOR = "evaluator", "第三方评估人员"
    AUDITOR = "auditor", "审计人员"


# Roles that may change what lies in their scope; the others only read it.
WRITE_ROLES = frozenset({Role.CENTRE_DIRECTOR, Role.DEPARTMENT_HEAD, Role.HALL_MANAGER})
# Roles that see citizens' personal data unmasked (call takers talk to the caller).
PERSONAL_DATA_ROLES = frozenset({Role.CENTRE_DIRECTOR, Role.CALL_TAKER, Role.HALL_MANAGER})


class RoleAssignment(Evidenced):
    """A user holds a role at a unit; the role covers that unit and everything below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles", verbose_name="用户"
    )
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="role_assignments", verbose_name="单位"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="unique_role_assignment")
        ]
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.unit}"


class Staff(Evidenced):
    """A person who serves at a unit (window staff, call taker …); may or may not log in."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="staff", verbose_name="所在单位")
    name = models.CharField("姓名", max_length=60)
    employee_no = models.CharField("工号", max_length=40, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        verbose_name="登录账号",
    )
    active = models.BooleanField("在岗", default=True)
    # The terminals this person works at (comma-separated ids, as the hall systems name them): a rating
    # given on one of them right after the person handled the case is suspicious (R4.10).
    devices = models.CharField("工作终端编号", max_length=200, blank=True)

    class Meta:
        ordering = ["unit__path", "employee_no"]
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return f"{self.name}（{self.employee_no}）"
