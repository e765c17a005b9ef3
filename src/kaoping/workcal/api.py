from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from kaoping.core.clock import parse_instant
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.selectors import get_calendar

router = Router(tags=["calendar"])


class DueOut(Schema):
    due: dt.datetime
    provisional: bool


class DayOut(Schema):
    date: dt.date
    kind: str
    workday: bool
    name: str | None
    provisional: bool


@router.get("/due", response=DueOut, summary="Due instant after N working days or hours")
def due(
    request: HttpRequest,
    start: str,
    working_days: int | None = None,
    working_hours: float | None = None,
) -> DueOut:
    """``start`` is ISO 8601 with a UTC offset; give exactly one of the two amounts."""
    if (working_days is None) == (working_hours is None):
        raise KaopingError(
            ErrorCode.INVALID, what="due", why="give exactly one of working_days, working_hours"
        )
    instant = parse_instant(start, what="start")
    calendar = get_calendar()
    try:
        result = (
            calendar.due_after_working_days(instant, working_days)
            if working_days is not None
            else calendar.due_after_working_hours(instant, working_hours or 0)
        )
    except CalendarError as exc:
        raise KaopingError(ErrorCode.OUT_OF_RANGE, what="due", why=str(exc)) from None
    return DueOut(due=result.at, provisional=result.provisional)


@router.get("/days/{year}/{month}", response=list[DayOut], summary="Every day of a month")
def month_days(request: HttpRequest, year: int, month: int) -> list[DayOut]:
    if not 1 <= month <= 12:
        raise KaopingError(ErrorCode.INVALID, what="month", why=f"{month} is not between 1 and 12")
    calendar = get_calendar()
    first = dt.date(year, month, 1)
    days = []
    day = first
    try:
        while day.month == month:
            days.append(
                DayOut(
                    date=day,
                    kind=calendar.day_kind(day).value,
                    workday=calendar.is_workday(day),
                    name=calendar.holiday_name(day),
                    provisional=calendar.is_provisional(day),
                )
            )
            day += dt.timedelta(days=1)
    except CalendarError as exc:
        raise KaopingError(ErrorCode.OUT_OF_RANGE, what="month", why=str(exc)) from None
    return days
