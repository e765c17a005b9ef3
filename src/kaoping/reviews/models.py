"""Multi-rater review campaigns (R2.4, R2.10): questionnaires, group weights, one-time invitations and
anonymous responses.

Anonymity by construction: a ``Response`` has no link to the ``Invitation`` it was submitted with (no
foreign key, no token, no hash), it keeps only the *day* it was submitted, and an invitation keeps only
*whether* it was used, never when. Nothing in the database pairs a response with an invitation."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kaoping.core import clock
from kaoping.evidence.registry import Evidenced, model_state
from kaoping.reviews.scoring import GROUP_LABELS, Item, Level, RaterGroup

GROUP_CHOICES = [(group.value, label) for group, label in GROUP_LABELS.items()]
MIN_ANONYMITY = 3  # the least a campaign may ask for: with 2, each respondent can work out the other


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class RecheckOutcome(models.TextChoices):
    PENDING = "pending", "待复核"
    KEPT = "kept", "复核保留"
    EXCLUDED = "excluded", "复核剔除"


class Questionnaire(Evidenced):
    centre = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="review_questionnaires", verbose_name="所属中心"
    )
    name = models.CharField("名称", max_length=120)
    created_at = models.DateTimeField("创建时间", default=clock.now)

    class Meta:
        ordering = ["centre", "name"]
        verbose_name = "测评问卷"
        verbose_name_plural = "测评问卷"

    def __str__(self) -> str:
        return self.name

    def evidence_state(self) -> dict[str, Any]:
        state = model_state(self)
        state["items"] = [item.evidence_state() for item in self.items.order_by("position", "pk")]
        return state


class QuestionItem(models.Model):
    """A five-point item; anchors describe the behaviour at a level (R2.6 behaviourally anchored)."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="items", verbose_name="问卷"
    )
    position = models.PositiveSmallIntegerField("序号", default=1)
    text = models.CharField("题目", max_length=200)
    anchor_5 = models.CharField("5级行为描述", max_length=200, blank=True)
    anchor_4 = models.CharField("4级行为描述", max_length=200, blank=True)
    anchor_3 = models.CharField("3级行为描述", max_length=200, blank=True)
    anchor_2 = models.CharField("2级行为描述", max_length=200, blank=True)
    anchor_1 = models.CharField("1级行为描述", max_length=200, blank=True)

    class Meta:
        ordering = ["questionnaire", "position", "pk"]
        verbose_name = "测评题目"
        verbose_name_plural = "测评题目"

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"

    @property
    def anchors(self) -> dict[int, str]:
        values = {level: getattr(self, f"anchor_{level}") for level in range(1, 6)}
        return {level: text for level, text in values.items() if text}

    def as_item(self) -> Item:
        return Item(self.text, self.anchors)

    def levels(self) -> list[Level]:
        return self.as_item().levels()

    def evidence_state(self) -> dict[str, Any]:
        return model_state(self)


class ReviewCampaign(Evidenced):
    """A round of multi-rater reviews of some departments of a centre."""

    centre = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="review_campaigns", verbose_name="所属中心"
    )
    name = models.CharField("名称", max_length=120)
    period_start = models.DateField("考评期起")
    period_end = models.DateField("考评期止")
    status = models.CharField(
        "状态", max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="campaigns", verbose_name="问卷"
    )
    units = models.ManyToManyField(
        "org.Unit", related_name="review_campaigns_reviewed", verbose_name="被评单位"
    )
    min_respondents = models.PositiveSmallIntegerField(
        "最少答卷人数",
        default=5,
        validators=[MinValueValidator(MIN_ANONYMITY)],
        help_text="某一评价主体答卷少于此数时，其结果不显示、不计分（匿名保护）",
    )
    outlier_points = models.DecimalField(
        "异常偏离阈值（分）",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(4))],
        help_text="与同组其他人均值相差超过此分值（五分制）且超过下列倍数标准差时，标记复核",
    )
    outlier_sd = models.DecimalField(
        "异常偏离阈值（标准差倍数）",
        max_digits=3,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal(0))],
    )
    created_at = models.DateTimeField("创建时间", default=clock.now)
    opened_at = models.DateTimeField("开始时间", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-pk"]
        verbose_name = "测评活动"
        verbose_name_plural = "测评活动"

    def __str__(self) -> str:
        return self.name

    def evidence_state(self) -> dict[str, Any]:
        """The row, the reviewed units and the group weights: a weight changed behind the log's back
        shows up at verification."""
        state = model_state(self)
        state["units"] = sorted(self.units.values_list("pk", flat=True))
        state["groups"] = [
            [group, weight, minimum]
            for group, weight, minimum in self.groups.order_by("group").values_list(
                "group", "weight", "min_respondents"
            )
        ]
        return state


class CampaignGroup(models.Model):
    """A rater group's weight in a campaign (percent, R2.4) and, optionally, its own minimum of
    respondents (e.g. 1 for self-assessment, which is not anonymous anyway)."""

    campaign = models.ForeignKey(
        ReviewCampaign, on_delete=models.CASCADE, related_name="groups", verbose_name="测评活动"
    )
    group = models.CharField("评价主体", max_length=20, choices=GROUP_CHOICES)
    weight = models.DecimalField("权重（%）", max_digits=5, decimal_places=2)
    min_respondents = models.PositiveSmallIntegerField(
        "本组最少答卷人数",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="留空则用活动的最少答卷人数",
    )

    class Meta:
        ordering = ["campaign", "group"]
        constraints = [models.UniqueConstraint(fields=["campaign", "group"], name="unique_campaign_group")]
        verbose_name = "评价主体权重"
        verbose_name_plural = "评价主体权重"

    def __str__(self) -> str:
        return f"{RaterGroup(self.group).label} {self.weight}%"


class Invitation(models.Model):
    """A one-time link for one rater of a group reviewing a unit. Only a SHA-256 of the token is kept;
    the token itself is shown once, when issued. Whether it was used is kept, not when (anonymity)."""

    campaign = models.ForeignKey(
        ReviewCampaign, on_delete=models.CASCADE, related_name="invitations", verbose_name="测评活动"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="review_invitations", verbose_name="被评单位"
    )
    group = models.CharField("评价主体", max_length=20, choices=GROUP_CHOICES)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField("发放时间", default=clock.now)
    used = models.BooleanField("已使用", default=False)

    class Meta:
        indexes = [models.Index(fields=["campaign", "unit", "group"])]
        verbose_name = "测评邀请"
        verbose_name_plural = "测评邀请"

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}/{self.group}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class Response(Evidenced):
    """One rater's answers, anonymous: see the module docstring."""

    campaign = models.ForeignKey(
        ReviewCampaign, on_delete=models.PROTECT, related_name="responses", verbose_name="测评活动"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="review_responses", verbose_name="被评单位"
    )
    group = models.CharField("评价主体", max_length=20, choices=GROUP_CHOICES)
    submitted_on = models.DateField("提交日期")
    mean = models.FloatField("平均分（五分制）")
    # Derived from all the group's answers and recomputed as answers arrive: not part of the evidence
    # state (the answers are); the re-check outcome, a person's decision, is.
    flagged = models.BooleanField("偏离标记", default=False)
    recheck = models.CharField(
        "复核结果", max_length=10, choices=RecheckOutcome.choices, default=RecheckOutcome.PENDING
    )
    recheck_reason = models.TextField("复核理由", blank=True)
    recheck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review_rechecks",
        verbose_name="复核人",
    )
    rechecked_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        ordering = ["campaign", "unit", "group", "pk"]
        indexes = [
            models.Index(fields=["campaign", "unit", "group"]),
            models.Index(fields=["campaign", "flagged", "recheck"]),
        ]
        verbose_name = "测评答卷"
        verbose_name_plural = "测评答卷"

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}/{self.group}#{self.pk}"

    def evidence_state(self) -> dict[str, Any]:
        state = model_state(self)
        del state["flagged"]
        state["answers"] = sorted(self.answers.values_list("item_id", "score"))
        return state


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name="答卷"
    )
    item = models.ForeignKey(
        QuestionItem, on_delete=models.PROTECT, related_name="answers", verbose_name="题目"
    )
    score = models.PositiveSmallIntegerField("得分（1–5）")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="unique_answer_per_item"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="answer_score_1_to_5"
            ),
        ]
        verbose_name = "答题"
        verbose_name_plural = "答题"

    def __str__(self) -> str:
        return f"{self.response_id}:{self.item_id}={self.score}"
