"""Daily rollups behind the assessment metrics, the marks that make them stale, and manual values.

The rollups hold additive counts per unit and calendar day (Asia/Shanghai), so a period of any length
is a SUM over its days (and a subtree a sum over its units) and never a scan of the raw rows. Cases
count on the day they were *received*, ratings on the day they were *given*; a late event changes the
row of that day, which is why ingestion marks the day dirty (``DirtyDay``) and ``rollups_refresh``
rebuilds it. See ``rollups.py`` for the SQL and ``metrics.py`` for what each metric reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kaoping.evidence.registry import Evidenced

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

    class Meta:
        verbose_name = "人工填报值"
        verbose_name_plural = "人工填报值"
        indexes = [models.Index(fields=["unit", "code", "period_start"])]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.code_id} {self.period_start}–{self.period_end}"
