"""Demo data for targets and tasks: this year's approved target table of every department (drafted and
signed by its head, approved by its centre's director), and one issued window task for last month with one
window's data already submitted.

Idempotent: a second load finds what it made and changes nothing. The rows follow R2.2's examples for each
kind of department. A department without a head of its own (the demo's IT section and the district's
department) has its table drafted and signed by the administrator, so that the director, a different
person, approves it."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from kaoping.core import clock
from kaoping.org.models import DepartmentKind, Role, RoleAssignment, Unit, UnitKind
from kaoping.targets.models import AssessmentTask, TargetTable
from kaoping.targets.services import (
    target_table_approve,
    target_table_create,
    target_table_sign,
    task_issue,
    task_submit,
)
from kaoping.targets.workflow import RowSpec
from kaoping.workcal.limits import Limit, LimitUnit
from kaoping.workcal.selectors import get_calendar

ROWS: dict[str, list[RowSpec]] = {
    DepartmentKind.EXTERNAL_SERVICE: [
        RowSpec("提升群众满意度", "满意率", "≥98%，每低 1% 扣 2 分", "30", "satisfaction_rate"),
        RowSpec("提高办事效率", "按时办结率", "100%", "25", "handling_on_time_rate"),
        RowSpec("推进即来即办", "即办件占比", "≥70%", "15", "immediate_share"),
        RowSpec("减少群众跑动", "群众跑动次数", "≤1 次", "15", "trips_per_case"),
        RowSpec("落实一次性告知", "一次性告知率", "100%", "15", "one_time_notice_rate"),
    ],
    DepartmentKind.INTERNAL_SERVICE: [
        RowSpec("保障内部需求", "需求响应及时率", "≥95%", "30", "manual:request_response_rate"),
        RowSpec("规范审批流程", "流程合规率", "100%", "30", "manual:process_compliance_rate"),
        RowSpec("提升服务质量", "问题解决满意度", "≥90%", "25", "manual:resolution_satisfaction"),
        RowSpec("加强队伍建设", "人均服务培训时长", "≥40 小时/年", "15", "manual:training_hours"),
    ],
    DepartmentKind.PROFESSIONAL_SUPPORT: [
        RowSpec("保障系统稳定运行", "系统故障修复时长", "≤2 小时", "35", "manual:it_fault_fix_hours"),
        RowSpec("提升信息化服务", "员工 IT 培训满意度", "≥90%", "25", "manual:it_training_satisfaction"),
        RowSpec("防范法律风险", "合同审核准确率", "100%", "20", "manual:contract_review_accuracy"),
        RowSpec("控制运行成本", "预算编制偏差率", "≤5%", "20", "manual:budget_deviation"),
    ],
}
TASK_NOTE = "请各窗口所在科室于截止时间前完成人工填报指标的录入并上传佐证材料。"


def _holder(role: Role, unit: Unit, *, exact: bool) -> AbstractBaseUser | None:
    """A user holding the role at the unit itself (``exact``) or at the nearest unit above it."""
    ids = unit.ancestor_ids(include_self=True)
    found = RoleAssignment.objects.filter(role=role, unit_id__in=[unit.pk] if exact else ids).select_related(
        "user", "unit"
    )
    best = max(found, key=lambda a: a.unit.depth, default=None)
    return best.user if best else None


def _previous_month(today: dt.date) -> str:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def load_demo_targets() -> None:
    """Approved target tables for this year and one issued task (see the module docstring)."""
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return
    year = clock.today().year
    departments = Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("path")
    with transaction.atomic():
        for department in departments:
            rows = ROWS.get(department.department_kind)
            director = _holder(Role.CENTRE_DIRECTOR, department, exact=False)
            if (
                not rows
                or director is None
                or TargetTable.objects.filter(unit=department, year=year).exists()
            ):
                continue
            head = _holder(Role.DEPARTMENT_HEAD, department, exact=True) or admin
            table = target_table_create(
                actor=head, unit=department, year=year, rows=rows, note=f"{year} 年度目标责任书"
            )
            target_table_sign(actor=head, table=table)
            target_table_approve(actor=director, table=table)
        _load_task(admin)


def _load_task(admin: AbstractBaseUser) -> None:
    period = _previous_month(clock.today())
    if AssessmentTask.objects.filter(scheme_code="window", period=period).exists():
        return
    # The top-most centre first: in the demo, the city centre rather than a district one.
    for centre in Unit.objects.filter(kind=UnitKind.CENTRE, active=True).order_by("depth", "path"):
        director = _holder(Role.CENTRE_DIRECTOR, centre, exact=True)
        windows = list(
            Unit.objects.filter(kind=UnitKind.WINDOW, active=True, path__startswith=centre.path).order_by(
                "path"
            )
        )
        if director is None or not windows:
            continue
        now = clock.now()
        calendar = get_calendar(unit=centre)
        task = task_issue(
            actor=director,
            centre=centre,
            scheme_code="window",
            period=period,
            units=windows,
            data_due_at=Limit(5, LimitUnit.WORKING_DAYS).due(calendar, now).at,
            results_due_at=Limit(10, LimitUnit.WORKING_DAYS).due(calendar, now).at,
            note=TASK_NOTE,
        )
        first = windows[0]
        head = _holder(Role.DEPARTMENT_HEAD, first, exact=False) or admin
        task_submit(actor=head, task=task, unit=first, note="本窗口人工填报指标已录入，佐证材料已上传")
        return
