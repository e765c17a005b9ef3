"""Time limits as plain values ("3 wd", "30 wmin", "24 h") and their due instants. No Django."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kaoping.workcal.calendar import CalendarError, Due, WorkCalendar


class LimitUnit(StrEnum):
    WORKING_MINUTES = "wmin"
    WORKING_HOURS = "wh"
    WORKING_DAYS = "wd"
    NATURAL_HOURS = "h"

    @property
    def label(self) -> str:
        return {"wmin": "个工作分钟", "wh": "个工作小时", "wd": "个工作日", "h": "小时"}[self.value]


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise CalendarError(f"time limit {self.amount} {self.unit.value} must be at least 1")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """Read ``"3 wd"`` (working days), ``"1 wh"``, ``"30 wmin"`` or ``"24 h"`` (natural hours)."""
        parts = text.split()
        units = ", ".join(u.value for u in LimitUnit)
        if len(parts) != 2 or not parts[0].isdigit():
            raise CalendarError(f"time limit {text!r} is not 'AMOUNT UNIT' with UNIT one of {units}")
        try:
            unit = LimitUnit(parts[1])
        except ValueError:
            raise CalendarError(f"time limit {text!r}: unit {parts[1]!r} is not one of {units}") from None
        return cls(int(parts[0]), unit)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}"

    @property
    def label(self) -> str:
        return f"{self.amount}{self.unit.label}"

    def due(self, calendar: WorkCalendar, start: dt.datetime) -> Due:
        if self.unit is LimitUnit.WORKING_DAYS:
            return calendar.due_after_working_days(start, self.amount)
        if self.unit is LimitUnit.WORKING_HOURS:
            return calendar.due_after_working_seconds(start, self.amount * 3600)
        if self.unit is LimitUnit.WORKING_MINUTES:
            return calendar.due_after_working_seconds(start, self.amount * 60)
        return Due(start + dt.timedelta(hours=self.amount), provisional=False)
