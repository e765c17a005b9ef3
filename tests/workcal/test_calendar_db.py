"""The database calendar: seeding, importing a new year, admin-entered arrangements, office hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chinese_calendar import constants
from django.test import TestCase

from kaoping.core.errors import KaopingError
from kaoping.evidence.models import EvidenceEntry
from kaoping.org.models import Unit
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.models import CalendarDay, CalendarYear
from kaoping.workcal.selectors import get_calendar, unit_calendars
from kaoping.workcal.services import calendar_import_file, calendar_seed_from_package, office_hours_set
from kaoping.workcal.signals import calendar_changed
from tests.workcal.official import MAKE_UP_2025, MAKE_UP_2026, OFF_2025, OFF_2026

PACKAGE_LAST_YEAR = max(constants.holidays).year
NEXT_YEAR = PACKAGE_LAST_YEAR + 1


def test_seeded_calendar_agrees_with_the_official_2025_and_2026_arrangements(calendar_db):
    calendar = get_calendar()
    for day in MAKE_UP_2025 + MAKE_UP_2026:
        assert calendar.is_workday(day), day
    for day in OFF_2025 + OFF_2026:
        assert not calendar.is_workday(day), day
    assert {2025, 2026} <= calendar.published_years


def test_seeding_twice_adds_nothing(calendar_db):
    entries = EvidenceEntry.objects.count()
    assert calendar_seed_from_package(actor="test") == []
    assert EvidenceEntry.objects.count() == entries


def test_seeding_leaves_a_year_entered_by_hand_alone(db, tmp_path):
    path = tmp_path / "2026.txt"
    path.write_text("year 2026\n2026-03-02 holiday 测试假日\n", encoding="utf-8")
    calendar_import_file(actor="test", path=path)
    calendar_seed_from_package(actor="test")
    assert CalendarDay.objects.filter(year_id=2026).count() == 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "arrangement.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_importing_next_years_arrangement_recomputes_a_provisional_deadline(calendar_db, tmp_path):
    start = dt.datetime(PACKAGE_LAST_YEAR, 12, 30, 10, tzinfo=SHANGHAI)
    before = get_calendar().due_after_working_days(start, 3)
    assert before.provisional is True

    heard: list[list[int]] = []

    def listener(sender, years, **kwargs):
        heard.append(years)

    calendar_changed.connect(listener)
    try:
        # Declare 1–4 Jan off and the first Saturday a make-up day.
        jan = [dt.date(NEXT_YEAR, 1, d) for d in range(5, 15)]
        saturday = next(d for d in jan if d.weekday() == 5)
        path = write(
            tmp_path,
            f"# test arrangement\nyear {NEXT_YEAR}\n"
            f"{NEXT_YEAR}-01-01..{NEXT_YEAR}-01-04 holiday 元旦\n"
            f"{saturday.isoformat()} workday 元旦调休\n",
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert calendar_import_file(actor="test", path=path) == [NEXT_YEAR]
    finally:
        calendar_changed.disconnect(listener)

    after = get_calendar().due_after_working_days(start, 3)
    assert after.provisional is False
    assert heard == [[NEXT_YEAR]]
    calendar = get_calendar()
    assert not calendar.is_workday(dt.date(NEXT_YEAR, 1, 4))
    assert calendar.is_workday(saturday)
    assert EvidenceEntry.objects.filter(action="calendar.year_set", object_id=str(NEXT_YEAR)).exists()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("year 2031\n2031-01-01 holiday 元旦\n2031-13-01 holiday 坏\n", 3, "not a date"),
        ("2031-01-01 holiday 元旦\n2031-01-02 vacation 坏\n", 2, "is not 'holiday' or 'workday'"),
        ("2031-01-01 holiday\n2031-01-01 holiday 重复\n", 2, "already given on line 1"),
        ("2031-01-06 workday 周一\n", 1, "must fall on a weekend"),
        ("year twenty\n", 1, "expected 'year YYYY'"),
        ("2031-02-01..2031-01-01 holiday x\n", 1, "must run forwards"),
        ("2031-01-01\n", 1, "expected 'DATE"),
    ],
)
def test_a_malformed_line_is_named_and_nothing_is_imported(calendar_db, tmp_path, text, line, reason):
    years = CalendarYear.objects.count()
    days = CalendarDay.objects.count()
    with pytest.raises(KaopingError) as caught:
        calendar_import_file(actor="test", path=write(tmp_path, text))
    assert f"line {line}" in caught.value.message
    assert reason in caught.value.message
    assert (CalendarYear.objects.count(), CalendarDay.objects.count()) == (years, days)


def test_an_unreadable_file_is_refused(calendar_db, tmp_path):
    with pytest.raises(KaopingError, match="cannot be read"):
        calendar_import_file(actor="test", path=tmp_path / "missing.txt")


def test_no_calendar_loaded_is_a_clear_error(db):
    from kaoping.workcal.selectors import invalidate_calendar_cache

    invalidate_calendar_cache()
    with pytest.raises(KaopingError, match="kaoping calendar seed"):
        get_calendar()


def test_office_hours_per_centre(calendar_db, org):
    office_hours_set(actor=org.admin, unit=org.centre, sessions="08:30-12:00, 14:00-17:30")
    window_calendar = get_calendar(unit=org.window_a)
    start = dt.datetime(2026, 3, 2, 11, 30, tzinfo=SHANGHAI)
    assert window_calendar.due_after_working_hours(start, 1).at == dt.datetime(
        2026, 3, 2, 14, 30, tzinfo=SHANGHAI
    )
    assert get_calendar().due_after_working_hours(start, 1).at == dt.datetime(
        2026, 3, 2, 14, 0, tzinfo=SHANGHAI
    )
    with pytest.raises(KaopingError, match="per service centre"):
        office_hours_set(actor=org.admin, unit=org.window_a, sessions="08:30-12:00")
    with pytest.raises(KaopingError, match="ends before it starts"):
        office_hours_set(actor=org.admin, unit=org.centre, sessions="12:00-08:30")


def test_every_units_calendar_in_one_look_at_office_hours(calendar_db, org, django_assert_max_num_queries):
    office_hours_set(actor=org.admin, unit=org.centre, sessions="08:30-12:00, 14:00-17:30")
    units = list(Unit.objects.all())
    unit_calendars(units)  # builds the calendars, which are then cached
    with django_assert_max_num_queries(1):
        calendars = unit_calendars(units)
    assert len(units) > 3
    for unit in units:
        assert calendars[unit.pk].office_hours == get_calendar(unit=unit).office_hours
    assert str(calendars[org.window_a.pk].office_hours) == "08:30-12:00,14:00-17:30"
    assert calendars[org.region.pk].office_hours == get_calendar().office_hours  # above the centre


def test_seeded_days_carry_their_chinese_names(calendar_db):
    calendar = get_calendar()
    assert calendar.holiday_name(dt.date(2026, 2, 17)) == "春节"
    assert calendar.holiday_name(dt.date(2025, 10, 1)) == "国庆节"
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 14)).name == "春节调休"
