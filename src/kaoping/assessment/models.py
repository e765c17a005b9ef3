"""Daily rollups behind the assessment metrics, the marks that make them stale, and manual values.

The rollups hold additive counts per unit and calendar day (Asia/Shanghai), so a period of any length
is a SUM over its days (and a subtree a sum over its units) and never a scan of the raw rows. Cases
count on the day they were *received*, ratings on the day they were *given*; a late event changes the
row of that day, which is why ingestion marks the day dirty (``DirtyDay``) and ``rollups_refresh``
rebuilds it. See ``rollups.py`` for the SQL and ``metrics.py`` for what each metric reads.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from kaoping.assessment.schemes import Scheme, read_scheme
from kaoping.evidence.registry import Evidenced, model_state

# Counter-wait histogram (working minutes): bucket i holds waits in [edge[i-1], edge[i]); bucket 0
# holds [0, 1), the last one everything from 240 on. The 90th percentile of merged days is found in
# the bucket holding the ⌈0.9·n⌉-th smallest wait and interpolated linearly inside it, so it is off
# that wait by less than the bucket's width: 1 minute below 6 min, 2 below 12, 3–5 below 30, 10 below
# 60, 30–60 beyond (the last, open bucket ends at the largest wait seen).
WAIT_EDGES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 90, 120, 180, 240)
WAIT_BUCKETS = len(WAIT_EDGES) + 1


def wait_bucket_field(index: int) -> str:
    return f"wait_b{index:02d}"


class DailyCaseStats(models.Model):
    """Counts over the cases a unit *received* on one day, with their outcomes as last recomputed.

    Staff basis of cases per staff per day: ``staff_days`` is the number of distinct staff members
    who were the handler (``Case.staff``) of at least one case received that day, so its sum over a
    period is the number of staff-days worked; ``staffed`` counts the cases that name a handler."""

    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    cases = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    immediate = models.PositiveIntegerField(default=0)  # of an immediate matter (即办件)
    staffed = models.PositiveIntegerField(default=0)
    staff_days = models.PositiveIntegerField(default=0)
    appointment_on_time = models.PositiveIntegerField(default=0)
    appointment_late = models.PositiveIntegerField(default=0)
    acceptance_on_time = models.PositiveIntegerField(default=0)
    acceptance_late = models.PositiveIntegerField(default=0)
    handling_on_time = models.PositiveIntegerField(default=0)
    handling_late = models.PositiveIntegerField(default=0)
    delivery_on_time = models.PositiveIntegerField(default=0)
    delivery_late = models.PositiveIntegerField(default=0)
    overruns = models.PositiveIntegerField(default=0)  # cases with any node past its limit
    breakers = models.PositiveIntegerField(default=0)  # cases that tripped the 130% breaker
    notices = models.PositiveIntegerField(default=0)  # one-time notices (一次性告知) given
    supplemented = models.PositiveIntegerField(
        default=0
    )  # cases asked for documents (notice or resubmission)
    trips = models.PositiveIntegerField(default=0)  # sum of the cases' trips
    resubmitted = models.PositiveIntegerField(default=0)  # cases with at least one resubmission
    wait_count = models.PositiveIntegerField(default=0)
    wait_sum = models.FloatField(default=0.0)  # working minutes
    wait_max = models.FloatField(default=0.0)

    class Meta:
        verbose_name = "办件日汇总"
        verbose_name_plural = "办件日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="unique_daily_case_stats")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


# One column per histogram bucket, so merging days is a SUM in SQL; generated from WAIT_EDGES so the
# columns and the edges cannot drift apart.
for _index in range(WAIT_BUCKETS):
    DailyCaseStats.add_to_class(wait_bucket_field(_index), models.PositiveIntegerField(default=0))


class DailyRatingStats(models.Model):
    """Counts over the ratings given to a unit on one day (confirmed gaming, ``excluded``, left out),
    by level (score 5 = 非常满意 … 1 = 非常不满意), the default ratings among them by level (so a scheme
    can leave them out), and the follow-ups of that day's bad ratings as they stand."""

    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    level_1 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)
    level_5 = models.PositiveIntegerField(default=0)
    defaulted_1 = models.PositiveIntegerField(default=0)
    defaulted_2 = models.PositiveIntegerField(default=0)
    defaulted_3 = models.PositiveIntegerField(default=0)
    defaulted_4 = models.PositiveIntegerField(default=0)
    defaulted_5 = models.PositiveIntegerField(default=0)
    followups = models.PositiveIntegerField(default=0)  # rectifications opened for the bad ratings
    real_name = models.PositiveIntegerField(default=0)  # … of real-name ratings (to be revisited)
    revisited = models.PositiveIntegerField(default=0)  # … real-name ones revisited
    to_rectify = models.PositiveIntegerField(default=0)  # … triaged as fix-now or complex
    rectified = models.PositiveIntegerField(default=0)  # … with the rectification done
    verdicts = models.PositiveIntegerField(default=0)  # … with the citizen's verdict on the fix
    satisfied_verdicts = models.PositiveIntegerField(default=0)  # … 满意 or 基本满意

    class Meta:
        verbose_name = "评价日汇总"
        verbose_name_plural = "评价日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="unique_daily_rating_stats")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


class DirtyKind(models.TextChoices):
    CASES = "cases", "办件"
    RATINGS = "ratings", "评价"


class DirtyDay(models.Model):
    """A (unit, day) whose rollup of one kind no longer matches the records. ``version`` grows with
    every new mark, so a refresh deletes only the marks it has seen: one made while it was rebuilding
    survives and is rebuilt next time."""

    kind = models.CharField(max_length=10, choices=DirtyKind.choices)
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "待重算日"
        verbose_name_plural = "待重算日"
        constraints = [models.UniqueConstraint(fields=["kind", "unit", "day"], name="unique_dirty_day")]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit_id} {self.day}"


class ManualCode(Evidenced):
    """An indicator whose value is entered by hand with its evidence (IT faults fixed within 2 h,
    salary accuracy …): a number within [low, high], or, when ``levels`` lists level codes, one of
    those (a behaviourally anchored scale, R2.6)."""

    code = models.SlugField("编码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=120)
    low = models.FloatField("下限", null=True, blank=True)
    high = models.FloatField("上限", null=True, blank=True)
    unit_label = models.CharField("计量单位", max_length=20, blank=True)
    levels = models.CharField("等级（逗号分隔，优者在前）", max_length=200, blank=True)

    @property
    def level_codes(self) -> list[str]:
        return [code.strip() for code in self.levels.split(",") if code.strip()]

    class Meta:
        ordering = ["code"]
        verbose_name = "人工填报指标"
        verbose_name_plural = "人工填报指标"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ManualEntry(Evidenced):
    """A value entered for a unit and period, with the evidence it rests on. A correction is a new
    entry for the same unit, code and period: the latest one counts, the earlier ones stay."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    code = models.ForeignKey(
        ManualCode, on_delete=models.PROTECT, related_name="entries", to_field="code", verbose_name="指标"
    )
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    value = models.FloatField("数值", null=True, blank=True)  # numeric indicators
    level = models.CharField("等级", max_length=20, blank=True)  # level indicators
    evidence = models.TextField("佐证说明")
    evidence_file = models.CharField("佐证材料文件名", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="填报人",
    )
    entered_at = models.DateTimeField("填报时间")
    # A value for one person (hotline staff are assessed one by one, R3.5); ``unit`` is then the
    # person's unit. None: the value is the unit's own.
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="人员"
    )

    class Meta:
        verbose_name = "人工填报值"
        verbose_name_plural = "人工填报值"
        indexes = [models.Index(fields=["unit", "code", "period_start"])]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.code_id} {self.period_start}–{self.period_end}"

    def evidence_state(self) -> dict[str, Any]:
        # Entries for a unit keep the state they were logged with before ``staff`` existed.
        state = model_state(self)
        if state.get("staff_id") is None:
            state.pop("staff_id", None)
        return state


# -- scheme versions, assessments and their results ---------------------------------------------


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已停用"


class SchemeVersion(Evidenced):
    """One version of an indicator scheme (指标体系) as a YAML document. A draft may be edited; a
    published version is immutable (``save`` refuses a change to its document), so every result can
    name the exact rules it was scored by. A change is a new draft with the next version number."""

    code = models.SlugField("编码", max_length=60)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=200)
    unit_type = models.CharField("适用单位类型", max_length=40)
    period_type = models.CharField("考核周期", max_length=20)
    document = models.TextField("方案文档（YAML）")
    content_hash = models.CharField("内容摘要", max_length=64)
    status = models.CharField("状态", max_length=12, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    created_at = models.DateTimeField("创建时间")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="发布人",
    )

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = "考核方案版本"
        verbose_name_plural = "考核方案版本"
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="unique_scheme_version")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"

    def scheme(self) -> Scheme:
        return read_scheme(self.document)

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            stored = SchemeVersion.objects.filter(pk=self.pk).values("status", "document", "version").first()
            if (
                stored
                and stored["status"] != SchemeStatus.DRAFT
                and (stored["document"] != self.document or stored["version"] != self.version)
            ):
                raise ValueError(f"scheme {self.code} v{self.version} is published and cannot change")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class AssessmentStatus(models.TextChoices):
    COMPUTED = "computed", "已计算"
    PUBLISHED = "published", "已公布"
    SUPERSEDED = "superseded", "已被替代"


class Assessment(Evidenced):
    """One run of a scheme version over a period: the results of every unit it assesses, stored as
    they were computed. A run is never changed; a recomputation (new data, an exemption, a re-check)
    is a new run and the previous one of the same scheme and period is marked superseded.
    ``results_digest`` (SHA-256 over the results as canonical JSON) puts the numbers themselves in
    the evidence chain."""

    scheme = models.ForeignKey(
        SchemeVersion, on_delete=models.PROTECT, related_name="assessments", verbose_name="方案版本"
    )
    period = models.CharField("考核期", max_length=10)
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    status = models.CharField(
        "状态", max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.COMPUTED
    )
    computed_at = models.DateTimeField("计算时间")
    computed_by = models.CharField("计算人", max_length=150)
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    published_by = models.CharField("公布人", max_length=150, blank=True)
    reason = models.CharField("计算原因", max_length=300, blank=True)
    results_digest = models.CharField("结果摘要", max_length=64)
    units = models.PositiveIntegerField("单位数", default=0)
    known_results_digest: str | None = None  # not a column: see evidence_state

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = "考核"
        verbose_name_plural = "考核"
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.scheme} {self.period} #{self.pk}"

    def evidence_state(self) -> dict[str, Any]:
        # The digest of the results as they are stored now, so verifying the chain notices a result
        # changed behind the log's back, not only a changed run row. A service logging the run sets
        # ``known_results_digest`` to the digest computed when the results were made (saving a read
        # of every result, and never laundering a result changed since into the log).
        from kaoping.assessment.assess import results_digest

        state = model_state(self)
        known = self.known_results_digest
        state["stored_results"] = (
            known if known is not None else results_digest([r.lines_document() for r in self.results.all()])
        )
        return state


class AssessmentResult(models.Model):
    """A unit's result in one run: the totals the engine gave and every indicator line with its
    value, target, points, deductions and explanation (``lines``, JSON as the engine wrote it).
    Covered by the run's ``results_digest``."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="results")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    # The person assessed, for schemes of persons (hotline_staff); ``unit`` is then the person's unit
    # (the hotline centre) and the subject's code is the employee number (``subject_code``).
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="人员"
    )
    role = models.CharField("岗位", max_length=40, blank=True)
    total = models.DecimalField("得分", max_digits=8, decimal_places=2)
    grade = models.CharField("等次", max_length=12, blank=True)
    rank = models.PositiveIntegerField("排名", null=True)
    ranked_count = models.PositiveIntegerField("参与排名数", default=0)
    percentile = models.DecimalField("百分位", max_digits=5, decimal_places=2, null=True)
    vetoed = models.BooleanField("一票否决", default=False)
    assessed = models.BooleanField("已评定", default=True)
    complete = models.BooleanField("数据完整", default=True)
    deducted = models.DecimalField("扣分", max_digits=8, decimal_places=2, default=0)
    bonus = models.DecimalField("加分", max_digits=8, decimal_places=2, default=0)
    incentive_cut = models.DecimalField("绩效扣减", max_digits=12, decimal_places=2, null=True)
    award_eligible = models.BooleanField("评优资格", null=True)
    explanation = models.TextField("说明")
    lines = models.JSONField("指标明细")

    class Meta:
        ordering = ["assessment", models.F("rank").asc(nulls_last=True), "unit__code"]
        verbose_name = "考核结果"
        verbose_name_plural = "考核结果"
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "unit"], condition=Q(staff__isnull=True), name="unique_result_unit"
            ),
            models.UniqueConstraint(
                fields=["assessment", "staff"], condition=Q(staff__isnull=False), name="unique_result_staff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.unit_id} {self.total}"

    @property
    def subject_code(self) -> str:
        """What the result is about: the unit's code, or the person's employee number."""
        return self.staff.employee_no if self.staff_id and self.staff else self.unit.code

    @property
    def subject_name(self) -> str:
        return self.staff.name if self.staff_id and self.staff else self.unit.name

    def lines_document(self) -> dict[str, Any]:
        """The stored fields as the digest covers them (``staff`` only for a person's result, so the
        digests of unit results stored before it existed stay the same)."""
        return ({"staff": self.staff_id} if self.staff_id is not None else {}) | {
            "unit": self.unit_id,
            "role": self.role,
            "total": str(self.total),
            "grade": self.grade,
            "rank": self.rank,
            "percentile": None if self.percentile is None else str(self.percentile),
            "vetoed": self.vetoed,
            "assessed": self.assessed,
            "complete": self.complete,
            "lines": self.lines,
        }


class Exemption(Evidenced):
    """An approved tolerance exemption (容错免责, R2.11) cancelling one named deduction of one
    indicator for a unit in a period, under one scheme code. It counts in every run after it."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    # A person's result (hotline staff): the exemption is theirs, not their centre's.
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="人员"
    )
    scheme_code = models.SlugField("方案编码", max_length=60)
    period = models.CharField("考核期", max_length=10)
    indicator = models.CharField("指标编码", max_length=60)
    deduction_key = models.CharField("扣分项", max_length=200)
    reason = models.TextField("免责理由")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="批准人"
    )
    approved_at = models.DateTimeField("批准时间")

    class Meta:
        ordering = ["-approved_at"]
        verbose_name = "容错免责"
        verbose_name_plural = "容错免责"
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "scheme_code", "period", "indicator", "deduction_key"],
                condition=models.Q(staff__isnull=True),
                name="unique_exemption",
            ),
            models.UniqueConstraint(
                fields=["staff", "scheme_code", "period", "indicator", "deduction_key"],
                condition=models.Q(staff__isnull=False),
                name="unique_exemption_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.scheme_code} {self.period} {self.indicator}/{self.deduction_key}"


class RecheckStatus(models.TextChoices):
    REQUESTED = "requested", "待复核"
    UPHELD = "upheld", "维持原结果"
    CHANGED = "changed", "已更正"


class Recheck(Evidenced):
    """A request to re-check a published result (复核, R1.6, R0.16) and its outcome. A changed
    outcome is a new run; ``new_result`` is the unit's result in it."""

    result = models.ForeignKey(
        AssessmentResult, on_delete=models.PROTECT, related_name="rechecks", verbose_name="原结果"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间")
    reason = models.TextField("申请理由")
    status = models.CharField(
        "状态", max_length=12, choices=RecheckStatus.choices, default=RecheckStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="复核人",
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    outcome = models.TextField("复核意见", blank=True)
    new_result = models.ForeignKey(
        AssessmentResult,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="更正后结果",
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = "结果复核"
        verbose_name_plural = "结果复核"

    def __str__(self) -> str:
        return f"{self.result_id} {self.status}"


class RemediationItem(Evidenced):
    """A remediation programme (专项整改 / 提升计划) opened for an indicator that too few units met (R0.3):
    the calibration that prompted it (periods and their shares of units that met the standard), the
    director's note, and whether it is still open. At most one open item per scheme and indicator."""

    class Status(models.TextChoices):
        OPEN = "open", "整改中"
        CLOSED = "closed", "已关闭"

    scheme_code = models.SlugField("方案编码", max_length=60)
    indicator = models.CharField("指标编码", max_length=60)
    indicator_name = models.CharField("指标名称", max_length=200, blank=True)
    periods = models.CharField("考核期", max_length=200, blank=True)  # "2026-Q2、2026-Q3"
    shares = models.CharField("达标单位占比", max_length=200, blank=True)  # "55%、50%"
    explanation = models.TextField("校准说明", blank=True)
    note = models.TextField("整改要求", blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="发起人"
    )
    opened_at = models.DateTimeField("发起时间")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="关闭人",
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    outcome = models.TextField("整改结果", blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = "专项整改"
        verbose_name_plural = "专项整改"
        constraints = [
            models.UniqueConstraint(
                fields=["scheme_code", "indicator"],
                condition=models.Q(status="open"),
                name="unique_open_remediation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme_code}/{self.indicator} {self.get_status_display()}"
