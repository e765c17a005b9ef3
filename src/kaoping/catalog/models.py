"""The matter catalogue (事项目录): kinds, time limits, owning units, channels."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kaoping.evidence.registry import Evidenced
from kaoping.workcal.limits import Limit, LimitUnit


class MatterKind(models.TextChoices):
    IMMEDIATE = "immediate", "即办件"
    COMMITTED = "committed", "承诺件"
    JOINT = "joint", "联办件"


class Channel(models.TextChoices):
    """R0.2: each channel has its own response-time indicators."""

    WINDOW = "window", "窗口办理"
    ONLINE = "online", "网上办理"
    HOME_VISIT = "home_visit", "上门服务"


class TimedNode(models.TextChoices):
    """R0.4: the four timed nodes of a case."""

    APPOINTMENT_RESPONSE = "appointment_response", "预约响应"
    ACCEPTANCE = "acceptance", "受理"
    HANDLING = "handling", "办理"
    RESULT_DELIVERY = "result_delivery", "结果送达"


class Matter(Evidenced):
    code = models.CharField("事项编码", max_length=60, unique=True)
    name = models.CharField("事项名称", max_length=200)
    kind = models.CharField("办件类型", max_length=20, choices=MatterKind.choices)
    owner = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="matters", verbose_name="责任单位"
    )
    # Empty means the default limit of the kind (settings.KAOPING_MATTER_LIMITS).
    limit_amount = models.PositiveIntegerField("承诺时限", null=True, blank=True)
    limit_unit = models.CharField(
        "时限单位", max_length=10, blank=True, choices=[(u.value, u.label) for u in LimitUnit]
    )
    channels = models.JSONField("办理渠道", default=list)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "事项"
        verbose_name_plural = "事项"

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def handling_limit(self) -> Limit:
        if self.limit_amount and self.limit_unit:
            return Limit(self.limit_amount, LimitUnit(self.limit_unit))
        return default_limit(self.kind)

    @property
    def has_own_limit(self) -> bool:
        return bool(self.limit_amount and self.limit_unit)

    def channel_labels(self) -> list[str]:
        return [Channel(c).label for c in self.channels if c in Channel.values]


def default_limit(kind: str) -> Limit:
    return Limit.parse(settings.KAOPING_MATTER_LIMITS[kind])


def node_limits() -> dict[str, Limit]:
    """The R0.4 limits other than handling (which is per matter), from settings."""
    return {node: Limit.parse(text) for node, text in settings.KAOPING_NODE_LIMITS.items()}


MAX_NODES_PER_MATTER = 42  # R0.7


class MatterNode(Evidenced):
    """A key process node of a matter beyond the four timed ones, captured from the business systems
    as node_started / node_finished events; timed when it has a limit."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="nodes", verbose_name="事项")
    code = models.CharField("环节编码", max_length=40)
    name = models.CharField("环节名称", max_length=100)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    limit_amount = models.PositiveIntegerField("时限", null=True, blank=True)
    limit_unit = models.CharField(
        "时限单位", max_length=10, blank=True, choices=[(u.value, u.label) for u in LimitUnit]
    )

    class Meta:
        ordering = ["matter", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["matter", "code"], name="unique_node_per_matter")]
        verbose_name = "办理环节"
        verbose_name_plural = "办理环节"

    def __str__(self) -> str:
        return f"{self.matter.code}/{self.code} {self.name}"

    @property
    def limit(self) -> Limit | None:
        if self.limit_amount and self.limit_unit:
            return Limit(self.limit_amount, LimitUnit(self.limit_unit))
        return None

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if bool(self.limit_amount) != bool(self.limit_unit):
            raise ValidationError("时限与时限单位须同时填写")
        siblings = MatterNode.objects.filter(matter_id=self.matter_id).exclude(pk=self.pk).count()
        if siblings >= MAX_NODES_PER_MATTER:
            raise ValidationError(f"每个事项最多 {MAX_NODES_PER_MATTER} 个办理环节")
