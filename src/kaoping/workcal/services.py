"""Writes to the calendar. Each replaces a whole year's arrangement in one transaction, logs the
year's new state in the evidence chain and tells listeners which years changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.evidence.services import Actor, evidence_record
from kaoping.org.models import Unit, UnitKind
from kaoping.workcal.arrangement import parse_arrangement
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.calendar import OfficeHours as PureOfficeHours
from kaoping.workcal.models import CalendarDay, CalendarSource, CalendarYear, DayKind, OfficeHours
from kaoping.workcal.selectors import invalidate_calendar_cache
from kaoping.workcal.signals import calendar_changed


def _notify(years: list[int]) -> None:
    def send() -> None:
        invalidate_calendar_cache()
        calendar_changed.send(sender=CalendarYear, years=years)

    transaction.on_commit(send)


def calendar_year_set(
    *,
    actor: Actor,
    year: int,
    days: list[tuple[dt.date, str, str]],
    source: CalendarSource,
    note: str = "",
) -> CalendarYear:
    """Publish (or replace) one year's arrangement: ``days`` are (date, 'holiday'|'workday', name)."""
    for day, kind, _ in days:
        if day.year != year or kind not in DayKind.values:
            raise KaopingError(
                ErrorCode.INVALID,
                what=f"arrangement of {year}",
                why=f"{day.isoformat()} {kind!r} does not belong to it",
            )
    with transaction.atomic():
        record, _ = CalendarYear.objects.update_or_create(
            year=year, defaults={"published": True, "source": source, "note": note}
        )
        CalendarDay.objects.filter(year=record).delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(date=day, year=record, kind=kind, name=name) for day, kind, name in days
        )
        evidence_record(actor=actor, action="calendar.year_set", instance=record, note=note)
        _notify([year])
    return record


def calendar_seed_from_package(*, actor: Actor) -> list[int]:
    """Create every year the chinese-calendar package knows and the database does not have yet.
    Years already present (entered in the admin or imported) are left as they are."""
    from chinese_calendar import constants

    by_year: dict[int, list[tuple[dt.date, str, str]]] = {}
    for day, holiday in constants.holidays.items():
        by_year.setdefault(day.year, []).append((day, "holiday", _holiday_name(holiday)))
    for day, holiday in constants.workdays.items():
        if day.weekday() >= 5:  # the package lists every workday; only weekend ones are make-up days
            by_year.setdefault(day.year, []).append((day, "workday", _holiday_name(holiday) + "调休"))
    existing = set(CalendarYear.objects.values_list("year", flat=True))
    created = []
    with transaction.atomic():
        for year in sorted(set(by_year) - existing):
            calendar_year_set(
                actor=actor,
                year=year,
                days=sorted(by_year[year]),
                source=CalendarSource.PACKAGE,
                note="chinese-calendar",
            )
            created.append(year)
    return created


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(holiday: object) -> str:
    # The package gives plain English strings (or Holiday enums in some releases).
    value = str(getattr(holiday, "value", holiday) or "")
    return _NAMES.get(value, value)


def calendar_import_file(*, actor: Actor, path: Path) -> list[int]:
    """Import an arrangement file (format in ``workcal.arrangement``): all of it or nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KaopingError(
            ErrorCode.BAD_FILE, what="calendar arrangement", where=str(path), why=f"cannot be read: {exc}"
        ) from None
    arrangement = parse_arrangement(text, source=path.name)
    with transaction.atomic():
        for year, days in sorted(arrangement.years.items()):
            calendar_year_set(
                actor=actor,
                year=year,
                days=sorted(days),
                source=CalendarSource.IMPORT,
                note=f"imported from {path.name}",
            )
    return sorted(arrangement.years)


def office_hours_set(*, actor: Actor, unit: Unit, sessions: str) -> OfficeHours:
    if unit.kind != UnitKind.CENTRE:
        raise KaopingError(
            ErrorCode.INVALID,
            what="office hours",
            where=unit.code,
            why="office hours are set per service centre",
        )
    try:
        normalised = str(PureOfficeHours.parse(sessions))
    except CalendarError as exc:
        raise KaopingError(ErrorCode.INVALID, what="office hours", where=unit.code, why=str(exc)) from None
    with transaction.atomic():
        record, _ = OfficeHours.objects.update_or_create(unit=unit, defaults={"sessions": normalised})
        evidence_record(actor=actor, action="calendar.office_hours_set", instance=record)
        transaction.on_commit(invalidate_calendar_cache)
    return record
