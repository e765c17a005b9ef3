"""Citizen ratings (好差评) and the flags the anti-gaming checks raise on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kaoping.ratings.codes import CHANNEL_LABELS, LEVEL_LABELS, Attempt, Level

# The source name of ratings given on the public pages (QR posters, case links).
PUBLIC_SOURCE = "public"


class Rating(models.Model):
    """One rating of a case, or of a window, unit or staff member when there is no case.

    ``level`` is the score, higher is better (5 = 非常满意 … 1 = 非常不满意); see ``codes``."""

    source = models.CharField("来源系统", max_length=40)
    external_id = models.CharField("评价编号", max_length=80)
    # Lookups by case go through the partial unique index on (case, channel) (first ratings).
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name="办件",
        db_index=False,
    )
    # Few indexes: every one costs time on a million-row import. Unit lookups use (unit, rated_at);
    # staff figures filter by unit first.
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="ratings", verbose_name="评价对象", db_index=False
    )
    staff = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings",
        verbose_name="被评价人",
        db_index=False,
    )
    level = models.PositiveSmallIntegerField(
        "评价等级", choices=[(int(k), v) for k, v in LEVEL_LABELS.items()]
    )
    channel = models.CharField(
        "评价渠道", max_length=20, choices=[(c.value, label) for c, label in CHANNEL_LABELS.items()]
    )
    attempt = models.CharField(
        "评价次数",
        max_length=10,
        choices=[(Attempt.FIRST.value, "首次评价"), (Attempt.FOLLOW_UP.value, "追评")],
        default=Attempt.FIRST.value,
    )
    rater_kind = models.CharField(
        "评价人类型", max_length=20, choices=[("person", "自然人"), ("legal_entity", "法人")]
    )
    real_name = models.BooleanField("实名", default=False)
    rater_name = models.CharField("评价人", max_length=100, blank=True)
    rater_phone = models.CharField("评价人电话", max_length=30, blank=True)
    rater_id_number = models.CharField("评价人证件号码", max_length=30, blank=True)
    text = models.TextField("评价内容", blank=True)
    tags = models.JSONField("评价标签", default=list, blank=True)
    rated_at = models.DateTimeField("评价时间")
    received_at = models.DateTimeField("接收时间")
    device = models.CharField("终端/设备", max_length=80, blank=True)
    ip = models.GenericIPAddressField("IP地址", null=True, blank=True)
    defaulted = models.BooleanField("默认评价", default=False)
    # Set when a reviewer confirms a flag: the rating is kept (nothing is dropped) but no longer counts.
    excluded = models.BooleanField("不计入统计", default=False)

    class Meta:
        verbose_name = "评价"
        verbose_name_plural = "评价"
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_rating_per_source"),
            # One first rating per case and channel (GB/T 39046-2020); the database holds the line.
            models.UniqueConstraint(
                fields=["case", "channel"],
                condition=Q(attempt="first", case__isnull=False),
                name="one_first_rating_per_case_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "rated_at"]),
            models.Index(fields=["rated_at"]),
            # The public page's rate limits count recent public ratings per device and per address;
            # imported ratings need neither index, so these are partial.
            models.Index(
                fields=["device", "rated_at"], condition=Q(source=PUBLIC_SOURCE), name="rating_public_device"
            ),
            models.Index(
                fields=["ip", "rated_at"], condition=Q(source=PUBLIC_SOURCE), name="rating_public_ip"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {LEVEL_LABELS.get(self.level, self.level)}"  # type: ignore[call-overload]

    @property
    def bad(self) -> bool:
        return Level(self.level).bad


class FlagPattern(models.TextChoices):
    BURST = "burst", "同一终端短时集中好评"
    OWN_TERMINAL = "own_terminal", "办结后立即在经办人终端评价"
    PHONE_REPEAT = "phone_repeat", "同一手机号多次评价"
    CENTRE_NETWORK = "centre_network", "公共渠道评价来自中心内网"


class FlagStatus(models.TextChoices):
    PENDING = "pending", "待核查"
    CONFIRMED = "confirmed", "确认违规"
    CLEARED = "cleared", "核查无误"


class RatingFlag(models.Model):
    """A suspicion (R4.10, R4.12) raised for a person to review; the rating itself is never dropped."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="flags", verbose_name="评价")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+", verbose_name="单位")
    pattern = models.CharField("疑似情形", max_length=20, choices=FlagPattern.choices)
    detail = models.CharField("依据", max_length=300)
    raised_at = models.DateTimeField("发现时间")
    status = models.CharField(
        "核查状态", max_length=10, choices=FlagStatus.choices, default=FlagStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="核查人"
    )
    reviewed_at = models.DateTimeField("核查时间", null=True, blank=True)
    note = models.CharField("核查意见", max_length=300, blank=True)

    class Meta:
        verbose_name = "疑似刷评"
        verbose_name_plural = "疑似刷评"
        constraints = [models.UniqueConstraint(fields=["rating", "pattern"], name="unique_rating_flag")]
        indexes = [models.Index(fields=["unit", "status", "-raised_at"])]

    def __str__(self) -> str:
        return f"{self.rating_id} {self.pattern}"
