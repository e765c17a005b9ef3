"""Hotline tickets (工单), their events, the dispatch catalogue, and the call records (话务记录)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kaoping.evidence.registry import Evidenced
from kaoping.hotline.workflow import ACTION_LABELS, SATISFACTION_LABELS, STATE_LABELS


class Category(models.TextChoices):
    EMERGENCY = "emergency", "紧急求助"
    CONSULTATION = "consultation", "咨询"
    REQUEST = "request", "求助"
    SUGGESTION = "suggestion", "建议"
    COMPLAINT = "complaint", "投诉举报"


STATE_CHOICES = [(s.value, label) for s, label in STATE_LABELS.items()]
ACTION_CHOICES = [(a.value, label) for a, label in ACTION_LABELS.items()]
SATISFACTION_CHOICES = [(v.value, label) for v, label in SATISFACTION_LABELS.items()]


class Ticket(models.Model):
    """One hotline ticket. ``state``, the counters and the instants are the workflow's (``workflow``),
    written by the services or by the import's replay of the events, never by hand."""

    source = models.CharField("来源系统", max_length=40)
    external_id = models.CharField("工单编号", max_length=80)
    # No single-column indexes where a composite index below leads with the column: each index is
    # written for every ticket of an import.
    centre = models.ForeignKey(
        "org.Unit",
        on_delete=models.PROTECT,
        related_name="hotline_tickets",
        verbose_name="热线中心",
        db_index=False,
    )
    caller_name = models.CharField("来电人", max_length=100, blank=True)
    caller_phone = models.CharField("来电号码", max_length=30, blank=True)
    category = models.CharField("诉求类型", max_length=20, choices=Category.choices)
    content = models.TextField("诉求内容")
    address = models.CharField("事发地址", max_length=200, blank=True)
    received_at = models.DateTimeField("受理时间")
    call_taker = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hotline_tickets",
        verbose_name="受理员",
    )
    state = models.CharField("状态", max_length=20, choices=STATE_CHOICES, default="accepted")
    unit = models.ForeignKey(
        "org.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_handled",
        verbose_name="承办单位",
        db_index=False,
    )
    dispatched_at = models.DateTimeField("转派时间", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    due_at = models.DateTimeField("办理时限", null=True, blank=True)
    extended_due_at = models.DateTimeField("延期后时限", null=True, blank=True)
    provisional = models.BooleanField("暂定时限", default=False)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # True: the unit's last reply came by the due instant (extended when approved); None: not closed,
    # or closed without a handling unit.
    on_time = models.BooleanField("按时办结", null=True, blank=True)
    returns = models.PositiveSmallIntegerField("退单次数", default=0)
    return_requests = models.PositiveSmallIntegerField("申请退单次数", default=0)
    reopens = models.PositiveSmallIntegerField("重办次数", default=0)
    urges = models.PositiveSmallIntegerField("督办次数", default=0)
    urge_level = models.PositiveSmallIntegerField("督办级别", default=0)
    extensions = models.PositiveSmallIntegerField("延期次数", default=0)
    extension_requests = models.PositiveSmallIntegerField("申请延期次数", default=0)
    extension_pending = models.BooleanField("延期待审批", default=False)
    dispatches = models.PositiveSmallIntegerField("派单次数", default=0)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        verbose_name="并入工单",
        db_index=False,  # a partial index below: few tickets are merged
    )
    satisfaction = models.CharField("中心回访结果", max_length=15, choices=SATISFACTION_CHOICES, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "工单"
        verbose_name_plural = "工单"
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_ticket_per_source")
        ]
        indexes = [
            models.Index(fields=["centre", "-received_at", "-id"]),
            models.Index(fields=["unit", "state", "-received_at"]),
            models.Index(fields=["centre", "state", "-received_at"]),
            models.Index(fields=["caller_phone", "-received_at"]),
            models.Index(fields=["closed_at"]),
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="hotline_ticket_merged_into",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def effective_due_at(self) -> object:
        return self.extended_due_at or self.due_at


class TicketEvent(models.Model):
    """One step of a ticket. Steps taken in Kaoping have an empty source and id; imported ones keep
    theirs, unique per source, so importing the same file twice stores nothing twice."""

    # Indexed by (ticket, at) below. The actor and unit are read through the ticket, never searched
    # for: no index of their own, as each index is written for every event of an import.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name="工单", db_index=False
    )
    source = models.CharField("来源系统", max_length=40, blank=True)
    external_id = models.CharField("事件编号", max_length=120, blank=True)
    action = models.CharField("动作", max_length=20, choices=ACTION_CHOICES)
    outcome = models.CharField("结论", max_length=15, blank=True)
    at = models.DateTimeField("发生时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
        db_index=False,
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    unit = models.ForeignKey(
        "org.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="涉及单位",
        db_index=False,
    )
    from_state = models.CharField("原状态", max_length=20, blank=True)
    to_state = models.CharField("新状态", max_length=20, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "工单事件"
        verbose_name_plural = "工单事件"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="unique_ticket_event_per_source",
            )
        ]
        # The month's centre revisits and approved returns are searched by instant; one partial
        # index each instead of one over every event's action: an import writes a sixth as much.
        indexes = [
            models.Index(fields=["ticket", "at"]),
            models.Index(
                fields=["at"], condition=models.Q(action="centre_revisit"), name="hotline_event_revisit_at"
            ),
            models.Index(
                fields=["at"], condition=models.Q(action="return_review"), name="hotline_event_return_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action} {self.at}"


class DispatchRule(models.Model):
    """The dispatch catalogue (派单目录): tickets of a category whose text has one of the keywords go
    to this handling unit. The best match is suggested to the call taker; the call taker decides."""

    centre = models.ForeignKey(
        "org.Unit", on_delete=models.CASCADE, related_name="+", verbose_name="热线中心"
    )
    category = models.CharField("诉求类型", max_length=20, choices=Category.choices, blank=True)
    keywords = models.CharField("关键词", max_length=400, blank=True, help_text="以逗号或顿号分隔")
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.CASCADE, related_name="dispatch_rules", verbose_name="承办单位"
    )
    priority = models.SmallIntegerField("优先级", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "派单目录"
        verbose_name_plural = "派单目录"
        ordering = ["centre", "-priority", "pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display() or '任意'}: {self.keywords} → {self.unit}"


class CallRecord(models.Model):
    """One inbound call to the hotline (话务记录), for the GB/T 33358-2016 figures."""

    source = models.CharField("来源系统", max_length=40)
    external_id = models.CharField("话单编号", max_length=80)
    centre = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="hotline_calls", verbose_name="热线中心"
    )
    started_at = models.DateTimeField("呼入时间")
    answered_at = models.DateTimeField("接通时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间")
    abandoned = models.BooleanField("放弃呼叫", default=False)
    agent = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hotline_calls",
        verbose_name="接听受理员",
    )
    # Seconds the caller waited: to the answer, or until hanging up unanswered.
    wait_seconds = models.FloatField("等待时长（秒）")

    class Meta:
        verbose_name = "话务记录"
        verbose_name_plural = "话务记录"
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_call_per_source")
        ]
        indexes = [
            models.Index(fields=["centre", "started_at"]),
            models.Index(fields=["agent", "started_at"]),
        ]

    def __str__(self) -> str:
        return self.external_id


class FindingKind(models.TextChoices):
    """What a quality check (质检) found against a person of the hotline centre (R3.3). Each kind feeds
    one count of the ``hotline_staff`` scheme (``assessment.hotline_metrics``)."""

    RECORD_ERROR = "record_error", "受理信息差错"  # call taker: wrong record, rude or unskilled answer
    MISSED_URGE_REVISIT = "missed_urge_revisit", "未按要求督办回访"  # call taker
    COMPLAINT = "complaint", "群众有效投诉"  # either role: a verified complaint about the person
    MISSED_ERROR_CHECK = "missed_error_check", "差错漏查"  # monitor: an error the check let through
    REPLY_QUALITY_ERROR = "reply_quality_error", "回复信息差错"  # monitor: inaccurate or void reply


class QualityFinding(Evidenced):
    """One finding of a quality check against one person (the monitor's review of records and
    replies, a verified complaint …), with the ticket it concerns when there is one. Recorded through
    ``hotline.quality`` (one evidence entry each, or one per batch); imported ones keep their source
    and id, unique per source."""

    centre = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="热线中心"
    )
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="hotline_findings", verbose_name="责任人"
    )
    kind = models.CharField("类型", max_length=30, choices=FindingKind.choices)
    ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name="涉及工单",
    )
    found_at = models.DateTimeField("发现时间")
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="检查人",
    )
    note = models.TextField("说明")
    source = models.CharField("来源系统", max_length=40, blank=True)
    external_id = models.CharField("编号", max_length=120, blank=True)

    class Meta:
        verbose_name = "质检发现"
        verbose_name_plural = "质检发现"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="unique_quality_finding_per_source",
            )
        ]
        indexes = [models.Index(fields=["staff", "found_at"]), models.Index(fields=["centre", "found_at"])]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.kind} {self.found_at}"
