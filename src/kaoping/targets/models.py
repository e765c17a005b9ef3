"""Department target tables (目标责任表, R1.4) and assessment tasks (考核任务, R1.6).

A target table belongs to one department and one year and comes in versions: an approved version is never
changed; a change is the next version, drafted from it. The current table of a department and year is its
latest approved version. At most one version of a department's year is open (not yet approved) at a time.

A task is issued by a centre's director for a scheme and a period to a set of units, with deadlines; each
unit's submission of its manual data is recorded against the deadline; the director closes the task; an
analysis meeting (分析会) may record improvement measures per unit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from kaoping.evidence.registry import Evidenced, model_state
from kaoping.targets.workflow import STATE_LABELS, TASK_STATE_LABELS, State, TaskState

User = settings.AUTH_USER_MODEL


class TargetTable(Evidenced):
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="target_tables", verbose_name="科室"
    )
    year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveSmallIntegerField("版本", default=1)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="修订自"
    )
    state = models.CharField(
        "状态",
        max_length=10,
        choices=[(s.value, label) for s, label in STATE_LABELS.items()],
        default=State.DRAFT.value,
    )
    note = models.TextField("说明", blank=True)
    drafted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="起草人"
    )
    drafted_at = models.DateTimeField("起草时间")
    updated_at = models.DateTimeField("修改时间")
    signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="签字人"
    )
    signed_at = models.DateTimeField("签字时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="审批人"
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    returned_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="退回人"
    )
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)

    class Meta:
        ordering = ["-year", "unit__path", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "version"], name="unique_target_table_version"),
            # The database itself keeps a department's year to one open version at a time.
            models.UniqueConstraint(
                fields=["unit", "year"],
                condition=~models.Q(state="approved"),
                name="one_open_target_table",
            ),
        ]
        verbose_name = "目标责任表"
        verbose_name_plural = "目标责任表"

    def __str__(self) -> str:
        return f"{self.unit} {self.year} 年目标责任表 第 {self.version} 版"

    def evidence_state(self) -> dict[str, Any]:
        """The table and its rows: a row changed behind the log's back shows at verification."""
        state = model_state(self)
        state["rows"] = [row.evidence_state() for row in self.rows.order_by("position", "pk")]
        return state


class TargetRow(models.Model):
    table = models.ForeignKey(
        TargetTable, on_delete=models.CASCADE, related_name="rows", verbose_name="目标责任表"
    )
    position = models.PositiveSmallIntegerField("序号")
    target = models.CharField("目标", max_length=200)
    indicator = models.CharField("指标", max_length=200)
    standard = models.CharField("标准", max_length=200)
    weight = models.DecimalField("权重", max_digits=5, decimal_places=2)
    metric = models.CharField("对应指标项", max_length=60, blank=True)

    class Meta:
        ordering = ["table", "position"]
        constraints = [
            models.UniqueConstraint(fields=["table", "position"], name="unique_target_row_position")
        ]
        verbose_name = "目标"
        verbose_name_plural = "目标"

    def __str__(self) -> str:
        return f"{self.position}. {self.indicator}"

    def evidence_state(self) -> dict[str, Any]:
        state = model_state(self)
        del state["id"], state["table_id"]  # replaced wholesale on each edit: their ids say nothing
        return state


class AssessmentTask(Evidenced):
    centre = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="assessment_tasks", verbose_name="下达单位"
    )
    name = models.CharField("名称", max_length=120)
    scheme_code = models.CharField("考核方案", max_length=60)
    period = models.CharField("考核期", max_length=10)
    data_due_at = models.DateTimeField("数据报送截止")
    results_due_at = models.DateTimeField("结果公布截止")
    note = models.TextField("说明", blank=True)
    state = models.CharField(
        "状态",
        max_length=10,
        choices=[(s.value, label) for s, label in TASK_STATE_LABELS.items()],
        default=TaskState.ISSUED.value,
    )
    issued_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="下达人"
    )
    issued_at = models.DateTimeField("下达时间")
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="关闭人"
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["scheme_code", "period"])]
        verbose_name = "考核任务"
        verbose_name_plural = "考核任务"

    def __str__(self) -> str:
        return self.name

    def evidence_state(self) -> dict[str, Any]:
        """The task and the units it was issued to (their submissions are logged on their own)."""
        state = model_state(self)
        state["units"] = sorted(self.units.values_list("unit_id", flat=True))
        return state


class TaskUnit(Evidenced):
    """A unit a task was issued to, and its submission of data (once, while the task is open)."""

    task = models.ForeignKey(
        AssessmentTask, on_delete=models.CASCADE, related_name="units", verbose_name="考核任务"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="报送人"
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submission_note = models.TextField("报送说明", blank=True)
    late = models.BooleanField("逾期", null=True, blank=True)  # None until submitted

    class Meta:
        ordering = ["task", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["task", "unit"], name="unique_task_unit")]
        verbose_name = "任务单位"
        verbose_name_plural = "任务单位"

    def __str__(self) -> str:
        return f"{self.task_id}/{self.unit_id}"


class AnalysisMeeting(Evidenced):
    """An analysis meeting (分析会) on a closed task's results, with improvement measures per unit."""

    task = models.ForeignKey(
        AssessmentTask, on_delete=models.PROTECT, related_name="meetings", verbose_name="考核任务"
    )
    held_on = models.DateField("召开日期")
    attendees = models.TextField("参会人员", blank=True)
    summary = models.TextField("会议纪要")
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="记录人"
    )
    recorded_at = models.DateTimeField("记录时间")

    class Meta:
        ordering = ["task", "-held_on", "-pk"]
        verbose_name = "分析会"
        verbose_name_plural = "分析会"

    def __str__(self) -> str:
        return f"{self.task} 分析会 {self.held_on}"

    def evidence_state(self) -> dict[str, Any]:
        state = model_state(self)
        state["measures"] = [
            [unit_id, measure, owner, due_on.isoformat() if due_on else None]
            for unit_id, measure, owner, due_on in self.measures.order_by("pk").values_list(
                "unit_id", "measure", "owner", "due_on"
            )
        ]
        return state


class ImprovementMeasure(models.Model):
    meeting = models.ForeignKey(
        AnalysisMeeting, on_delete=models.CASCADE, related_name="measures", verbose_name="分析会"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    measure = models.TextField("改进措施")
    owner = models.CharField("责任人", max_length=60, blank=True)
    due_on = models.DateField("完成时限", null=True, blank=True)

    class Meta:
        ordering = ["meeting", "unit__path", "pk"]
        verbose_name = "改进措施"
        verbose_name_plural = "改进措施"

    def __str__(self) -> str:
        return self.measure[:40]
