"""Reads of the calendar: the pure ``WorkCalendar`` built from the database, cached per process."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from kaoping.core.clock import local_zone
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.org.models import Unit
from kaoping.workcal.calendar import DayKind as PureDayKind
from kaoping.workcal.calendar import OfficeHours as PureOfficeHours
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.models import CalendarDay, CalendarYear, DayKind, OfficeHours

# Other processes see a change within this many seconds; this process sees it at once.
CACHE_SECONDS = 60
_cache: dict[str, tuple[float, WorkCalendar]] = {}
_lock = threading.Lock()


def invalidate_calendar_cache() -> None:
    with _lock:
        _cache.clear()


def office_hours_for(unit: Unit | None) -> PureOfficeHours:
    """The office hours of the unit's centre (the nearest ancestor with hours of its own)."""
    if unit is None:
        return PureOfficeHours.parse(settings.KAOPING_OFFICE_HOURS)
    ids = unit.ancestor_ids(include_self=True)
    return _hours_of(ids, {o.unit_id: o.sessions for o in OfficeHours.objects.filter(unit_id__in=ids)})


def _hours_of(ids: list[int], sessions: dict[int, str]) -> PureOfficeHours:
    for unit_id in reversed(ids):
        if unit_id in sessions:
            return PureOfficeHours.parse(sessions[unit_id])
    return PureOfficeHours.parse(settings.KAOPING_OFFICE_HOURS)


def unit_calendars(units: Iterable[Unit]) -> dict[int, WorkCalendar]:
    """Each unit's calendar, the office hours of all of them read in one query (a file import's
    readers get every unit's; one query per unit was thousands)."""
    sessions = dict(OfficeHours.objects.values_list("unit_id", "sessions"))
    return {
        unit.pk: _calendar_with(_hours_of(unit.ancestor_ids(include_self=True), sessions)) for unit in units
    }


def get_calendar(*, unit: Unit | None = None) -> WorkCalendar:
    return _calendar_with(office_hours_for(unit))


def _calendar_with(hours: PureOfficeHours) -> WorkCalendar:
    key = str(hours)
    with _lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    try:
        published = list(CalendarYear.objects.filter(published=True).values_list("year", flat=True))
    except DatabaseError:
        raise KaopingError(
            ErrorCode.CALENDAR_NOT_LOADED,
            what="working-time calendar",
            why="the database is not set up: run `kaoping setup` (or `make demo` / `make test`)",
        ) from None
    if not published:
        raise KaopingError(
            ErrorCode.CALENDAR_NOT_LOADED,
            what="working-time calendar",
            why="no year's arrangement is loaded: run `kaoping calendar seed` (or `kaoping setup`)",
        )
    holidays: dict[dt.date, str] = {}
    make_up: list[dt.date] = []
    for day in CalendarDay.objects.filter(year__published=True).only("date", "kind", "name"):
        if day.kind == DayKind.HOLIDAY:
            holidays[day.date] = day.name
        else:
            make_up.append(day.date)
    calendar = WorkCalendar(
        holidays=holidays,
        make_up_workdays=make_up,
        published_years=published,
        office_hours=hours,
        tz=local_zone(),
    )
    with _lock:
        _cache[key] = (time.monotonic(), calendar)
    return calendar


@dataclass(frozen=True)
class CalendarCell:
    date: dt.date
    kind: PureDayKind
    name: str | None
    provisional: bool
    in_month: bool
    is_today: bool

    @property
    def is_workday(self) -> bool:
        return self.kind in (PureDayKind.WORKDAY, PureDayKind.MAKE_UP_WORKDAY)


def month_weeks(
    year: int, month: int, *, today: dt.date, unit: Unit | None = None
) -> list[list[CalendarCell]]:
    """The month as weeks (Monday first), each day with its kind, for the calendar page."""
    calendar = get_calendar(unit=unit)
    first = dt.date(year, month, 1)
    start = first - dt.timedelta(days=first.weekday())
    weeks: list[list[CalendarCell]] = []
    day = start
    while True:
        week = []
        for _ in range(7):
            week.append(
                CalendarCell(
                    date=day,
                    kind=calendar.day_kind(day),
                    name=calendar.holiday_name(day),
                    provisional=calendar.is_provisional(day),
                    in_month=day.month == month,
                    is_today=day == today,
                )
            )
            day += dt.timedelta(days=1)
        weeks.append(week)
        if day.month != month:
            break
    return weeks


def published_years() -> list[CalendarYear]:
    return list(CalendarYear.objects.order_by("year"))
