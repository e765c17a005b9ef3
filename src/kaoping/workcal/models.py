"""The calendar's truth: published arrangements by year, their days, and office hours per centre."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from kaoping.evidence.registry import Evidenced, model_state
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.calendar import OfficeHours as PureOfficeHours


class CalendarSource(models.TextChoices):
    PACKAGE = "package", "chinese-calendar 软件包"
    ADMIN = "admin", "后台录入"
    IMPORT = "import", "文件导入"


class CalendarYear(Evidenced):
    """One year's official arrangement (放假安排). Days of an unpublished year are provisional."""

    year = models.PositiveSmallIntegerField("年份", primary_key=True)
    published = models.BooleanField("已发布", default=True)
    source = models.CharField("来源", max_length=20, choices=CalendarSource.choices)
    note = models.CharField("依据", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = "年度放假安排"
        verbose_name_plural = "年度放假安排"

    def __str__(self) -> str:
        return f"{self.year}年"

    def evidence_state(self) -> dict[str, Any]:
        # The year's arrangement is one object: its days belong to its state.
        state = model_state(self)
        state.pop("updated_at")
        state["days"] = [[d.date.isoformat(), d.kind, d.name] for d in self.days.order_by("date")]
        return state


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "节假日"
    WORKDAY = "workday", "调休上班"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a holiday, or a make-up workday (调休)."""

    date = models.DateField("日期", primary_key=True)
    year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name="年份")
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    name = models.CharField("名称", max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日/调休日"
        verbose_name_plural = "节假日/调休日"

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"

    def clean(self) -> None:
        errors = {}
        if self.date and self.year_id and self.date.year != self.year_id:
            errors["date"] = f"{self.date} 不属于 {self.year_id} 年"
        if self.date and self.kind == DayKind.WORKDAY and self.date.weekday() < 5:
            errors["kind"] = f"{self.date} 是工作日（周一至周五），调休上班日应为周六或周日"
        if errors:
            raise ValidationError(errors)


class OfficeHours(Evidenced):
    """Office sessions of a centre, e.g. 09:00–12:00 and 13:30–17:30 (lunch break between)."""

    unit = models.OneToOneField(
        "org.Unit", on_delete=models.CASCADE, related_name="office_hours", verbose_name="服务中心"
    )
    sessions = models.CharField(
        "办公时段", max_length=100, default="09:00-12:00,13:30-17:30", help_text="如 09:00-12:00,13:30-17:30"
    )

    class Meta:
        verbose_name = "办公时间"
        verbose_name_plural = "办公时间"

    def __str__(self) -> str:
        return f"{self.unit}: {self.sessions}"

    def clean(self) -> None:
        try:
            self.sessions = str(PureOfficeHours.parse(self.sessions))
        except CalendarError as exc:
            raise ValidationError({"sessions": str(exc)}) from None
        if self.unit_id and self.unit.kind != "centre":
            raise ValidationError({"unit": "办公时间按政务服务中心设置"})
