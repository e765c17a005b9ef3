"""Cases (办件), their events, and the warnings raised on them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from kaoping.cases.deadlines import EventKind, NodeStatus


class ApplicantKind(models.TextChoices):
    PERSON = "person", "自然人"
    LEGAL_ENTITY = "legal_entity", "法人"


class CaseStatus(models.TextChoices):
    OPEN = "open", "在办"
    CLOSED = "closed", "办结"


class Case(models.Model):
    """One case of a matter. The node timestamps and the deadline summary are derived from the
    events by ``services.case_recompute`` and stored here so lists, filters and the sweep are
    single indexed queries."""

    source = models.CharField("来源系统", max_length=40)
    external_id = models.CharField("办件编号", max_length=80)
    # No single-column index on matter and unit: the (matter, received_at) and (unit, received_at, id)
    # indexes lead with them, and each index is written for every case of a million-case import.
    matter = models.ForeignKey(
        "catalog.Matter",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name="事项",
        db_index=False,
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="cases", verbose_name="办理单位", db_index=False
    )
    staff = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name="经办人",
    )
    channel = models.CharField("渠道", max_length=20)
    applicant_kind = models.CharField("申请人类型", max_length=20, choices=ApplicantKind.choices)
    applicant_name = models.CharField("申请人", max_length=100, blank=True)
    applicant_phone = models.CharField("联系电话", max_length=30, blank=True)
    applicant_id_number = models.CharField("证件号码", max_length=30, blank=True)
    received_at = models.DateTimeField("收件时间")

    # Derived from the events.
    status = models.CharField("状态", max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    handled_at = models.DateTimeField("办结时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    handling_due_at = models.DateTimeField("办理时限", null=True, blank=True)
    deadline_status = models.CharField("时限状态", max_length=20, default=NodeStatus.PENDING.value)
    current_node = models.CharField("当前环节", max_length=40, blank=True)
    current_due_at = models.DateTimeField("当前环节时限", null=True, blank=True)
    provisional = models.BooleanField("暂定时限", default=False)
    overdue = models.BooleanField("曾超时", default=False)
    breaker = models.BooleanField("触发熔断", default=False)
    # The current node's alert instants (due soon, breaker) and the next one still to raise live in
    # ``CaseAlert``, a narrow table of their own that the sweep reads and moves.
    trips = models.PositiveSmallIntegerField("跑动次数", default=1)
    resubmissions = models.PositiveSmallIntegerField("补正次数", default=0)
    one_time_notice = models.BooleanField("一次性告知", default=False)
    # Per-node outcomes for the assessment metrics: True finished late, False on time, None while the
    # node runs or when it does not apply (no appointment); and the counter wait in working minutes
    # (arrival to acceptance; None online or before acceptance). See deadlines.finished_late.
    appointment_late = models.BooleanField("预约响应超时", null=True, blank=True)
    acceptance_late = models.BooleanField("受理超时", null=True, blank=True)
    handling_late = models.BooleanField("办理超时", null=True, blank=True)
    delivery_late = models.BooleanField("送达超时", null=True, blank=True)
    wait_minutes = models.FloatField("等候时长（工作分钟）", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "办件"
        verbose_name_plural = "办件"
        constraints = [
            # The number first: ratings and tickets name a case by its number, sometimes without its
            # source system, and this index serves those look-ups too (one index fewer to write).
            models.UniqueConstraint(fields=["external_id", "source"], name="unique_case_per_source")
        ]
        indexes = [
            models.Index(fields=["unit", "-received_at", "-id"]),
            # The unit, matter and two flags ride along (a byte or two each): a list filtered by a
            # subtree of units, a matter kind, the breaker or lateness walks this index without
            # reading the case rows it passes (an empty department's page over a million cases:
            # ~590 ms → ~200 ms). The sweep's flag flips rewrite this entry too.
            models.Index(fields=["-received_at", "-id", "unit", "matter", "breaker", "overdue"]),
            models.Index(fields=["matter", "-received_at"]),
            # The unit and matter ride along: a status filter with a unit or matter kind is checked
            # on the index alone, each case row read only when it is shown (an empty page over a
            # million cases: ~150 ms → ~15 ms).
            models.Index(fields=["deadline_status", "-received_at", "unit", "matter"]),
        ]

    def __str__(self) -> str:
        return f"{self.external_id}"


class CaseKey(models.OneToOneField):  # type: ignore[type-arg]
    """A one-to-one primary key to a case that is, on SQLite, the table's rowid (declared
    ``integer``, SQLite's 64-bit rowid alias, where Django declares ``bigint``): the rows are stored
    in case order and no separate index on the key is written."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class CaseAlert(models.Model):
    """What the warning sweep needs of a case whose current node has an alert still to come, in a
    narrow row of its own: the sweep reads and moves these small rows instead of the wide case rows,
    and rewrites a case row only when its deadline status, ``overdue`` or ``breaker`` changes.

    Written with the case's derived fields by ``services.cases_recompute`` (every path that derives
    them): a row while an alert is pending, none otherwise. The sweep moves ``next_at`` (NULL once the
    node's last warning is raised; the row stays until the next recomputation) and keeps
    ``deadline_status``, ``overdue`` and ``breaker`` equal to the case's."""

    case = CaseKey(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="alert", verbose_name="办件"
    )
    # The case's unit, copied so the sweep's warnings need not read the case row.
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.CASCADE, related_name="+", verbose_name="办理单位", db_index=False
    )
    node = models.CharField("当前环节", max_length=40)
    # The current node's instants: due soon (80%), due (overdue after it), the breaker (130%).
    due_at = models.DateTimeField(null=True, blank=True)
    due_soon_at = models.DateTimeField(null=True, blank=True)
    breaker_at = models.DateTimeField(null=True, blank=True)
    # The next instant at which the sweep has something to raise; NULL when nothing is pending.
    next_at = models.DateTimeField(null=True, blank=True)
    # Copies of the case's fields of the same names, so the sweep knows which case rows change.
    deadline_status = models.CharField(max_length=20)
    overdue = models.BooleanField(default=False)
    breaker = models.BooleanField(default=False)

    class Meta:
        verbose_name = "办件预警时刻"
        verbose_name_plural = "办件预警时刻"
        indexes = [
            # Only rows with an alert still to come: a sweep that raises a case's last warning
            # removes its entry instead of moving it.
            models.Index(
                fields=["next_at"], name="cases_alert_next", condition=models.Q(next_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.node} {self.next_at}"


class CaseEvent(models.Model):
    # Indexed by (case, at) below, which serves every look-up by case.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name="办件", db_index=False
    )
    source = models.CharField("来源系统", max_length=40)
    external_id = models.CharField("事件编号", max_length=120)
    kind = models.CharField("事件", max_length=30, choices=[(k.value, k.value) for k in EventKind])
    at = models.DateTimeField("发生时间")
    node = models.CharField("环节", max_length=40, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = "办件事件"
        verbose_name_plural = "办件事件"
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_event_per_source")
        ]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at}"


class WarningKind(models.TextChoices):
    DUE_SOON = "due_soon", "即将超时"
    OVERDUE = "overdue", "已超时"
    BREAKER = "breaker", "超时熔断"


class CaseWarning(models.Model):
    """Raised once per case, node and kind by the sweep; acknowledged by a person."""

    # No index of their own on case and unit: the unique (case, node, kind) and the (unit, raised_at)
    # index lead with them, and every index is written for each of the sweep's warnings.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="warnings", verbose_name="办件", db_index=False
    )
    unit = models.ForeignKey(
        "org.Unit",
        on_delete=models.CASCADE,
        related_name="case_warnings",
        verbose_name="单位",
        db_index=False,
    )
    node = models.CharField("环节", max_length=40)
    kind = models.CharField("类型", max_length=20, choices=WarningKind.choices)
    due_at = models.DateTimeField("时限")
    raised_at = models.DateTimeField("预警时间")
    # No index: nothing lists warnings by who acknowledged them, and a catch-up sweep would write an
    # entry for each of its half a million warnings (deleting a user scans the table instead).
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name="确认人",
        db_index=False,
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        constraints = [models.UniqueConstraint(fields=["case", "node", "kind"], name="unique_warning")]
        indexes = [
            models.Index(fields=["unit", "-raised_at"]),
            models.Index(fields=["acknowledged_at", "-raised_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.node} {self.kind}"


class ImportBatch(models.Model):
    """One ingestion (a file, an API call): what it brought, for the evidence log and the report."""

    source = models.CharField(max_length=200)
    actor = models.CharField(max_length=150)
    started_at = models.DateTimeField()
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"


class RecomputeDebt(models.Model):
    """Cases whose derived fields may be stale: a file import stores every record first and recomputes
    the cases it touched once, at its end. Each commit records the ids it touched here (as ranges, a
    superset being harmless), the final pass deletes them as it goes, and what an import that died
    left behind is recomputed by ``services.cases_repair_stale``. ``touched_at`` says the run lives."""

    run = models.CharField(max_length=32)
    first_case_id = models.BigIntegerField()
    last_case_id = models.BigIntegerField()
    touched_at = models.DateTimeField()

    class Meta:
        verbose_name = "待重算办件"
        verbose_name_plural = "待重算办件"

    def __str__(self) -> str:
        return f"{self.run} {self.first_case_id}–{self.last_case_id}"
