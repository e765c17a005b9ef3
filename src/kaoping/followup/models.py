"""Rectifications (整改): the follow-up of a bad rating now; of complaints and inspections later."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kaoping.followup.workflow import STATE_LABELS, VERDICT_LABELS, Triage


class RectificationKind(models.TextChoices):
    BAD_RATING = "bad_rating", "差评整改"


class Rectification(models.Model):
    kind = models.CharField("类型", max_length=20, choices=RectificationKind.choices)
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="rectifications", verbose_name="责任单位"
    )
    # The record that opened it; one field per kind, exactly one is set.
    rating = models.OneToOneField(
        "ratings.Rating",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification",
        verbose_name="差评",
    )
    state = models.CharField(
        "状态", max_length=20, choices=[(s.value, label) for s, label in STATE_LABELS.items()]
    )
    real_name = models.BooleanField("实名", default=False)
    opened_at = models.DateTimeField("启动时间")
    revisit_due_at = models.DateTimeField("回访时限", null=True, blank=True)
    revisited_at = models.DateTimeField("回访时间", null=True, blank=True)
    revisit_note = models.TextField("回访情况", blank=True)
    triage = models.CharField(
        "研判",
        max_length=10,
        blank=True,
        choices=[
            (Triage.FIX_NOW.value, "立行立改"),
            (Triage.COMPLEX.value, "限期整改"),
            (Triage.NO_BASIS.value, "无法律依据"),
        ],
    )
    explanation = models.TextField("解释说明", blank=True)
    rectify_due_at = models.DateTimeField("整改时限", null=True, blank=True)
    rectified_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    rectification_note = models.TextField("整改措施", blank=True)
    verdict = models.CharField(
        "群众评价",
        max_length=15,
        blank=True,
        choices=[(v.value, label) for v, label in VERDICT_LABELS.items()],
    )
    verdict_at = models.DateTimeField("评价时间", null=True, blank=True)
    follow_up_rating = models.OneToOneField(
        "ratings.Rating",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rectification_followed",
        verbose_name="追评",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="经办人"
    )

    class Meta:
        verbose_name = "整改"
        verbose_name_plural = "整改"
        indexes = [models.Index(fields=["unit", "state", "-opened_at"]), models.Index(fields=["opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
