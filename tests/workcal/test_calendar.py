"""Working-time arithmetic on the official 2025 and 2026 arrangements (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kaoping.workcal.calendar import SHANGHAI, CalendarError, DayKind, OfficeHours, WorkCalendar
from kaoping.workcal.limits import Limit
from tests.workcal.official import MAKE_UP_2025, MAKE_UP_2026, OFF_2025, OFF_2026, official_calendar

CAL = official_calendar()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("day", MAKE_UP_2025 + MAKE_UP_2026, ids=str)
def test_every_make_up_day_is_a_workday_on_a_weekend(day):
    assert day.weekday() >= 5
    assert CAL.is_workday(day)
    assert CAL.day_kind(day) is DayKind.MAKE_UP_WORKDAY


@pytest.mark.parametrize("day", OFF_2025 + OFF_2026, ids=str)
def test_every_official_day_off_is_not_a_workday(day):
    assert not CAL.is_workday(day)


def test_working_day_counts_per_year_match_the_notices():
    # 2025: 261 weekdays − 18 weekdays off + 5 make-up days = 248.
    # 2026: 261 weekdays − 19 weekdays off + 6 make-up days = 248.
    for year, expected in ((2025, 248), (2026, 248)):
        days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(365)]
        assert sum(CAL.is_workday(d) for d in days) == expected


def test_ordinary_weekend_and_weekday():
    assert CAL.day_kind(dt.date(2026, 3, 7)) is DayKind.WEEKEND
    assert CAL.day_kind(dt.date(2026, 3, 9)) is DayKind.WORKDAY


# -- N working days: start day not counted, due at close of office hours -------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Plain week: Monday + 3 → Thursday 17:30, whatever the hour of the start.
        ("2026-03-02T08:00", 3, "2026-03-05T17:30"),
        ("2026-03-02T23:59", 3, "2026-03-05T17:30"),
        # Friday + 1 → Monday.
        ("2026-03-06T10:00", 1, "2026-03-09T17:30"),
        # Started on a Saturday: Monday is the first working day after it.
        ("2026-03-07T10:00", 1, "2026-03-09T17:30"),
        # National Day 2025: Fri 26 Sep + 3 counts Sun 28 Sep (make-up), Mon 29, Tue 30.
        ("2025-09-26T10:00", 3, "2025-09-30T17:30"),
        # … + 4 jumps the whole holiday to Thu 9 Oct; + 5 is Fri 10; + 6 the make-up Sat 11 Oct.
        ("2025-09-26T10:00", 4, "2025-10-09T17:30"),
        ("2025-09-26T10:00", 6, "2025-10-11T17:30"),
        # Spring Festival 2026: Fri 13 Feb + 1 is the make-up Sat 14 Feb, + 2 is Tue 24 Feb.
        ("2026-02-13T16:00", 1, "2026-02-14T17:30"),
        ("2026-02-13T16:00", 2, "2026-02-24T17:30"),
        # New Year 2026: Wed 31 Dec 2025 + 1 → the make-up Sun 4 Jan 2026.
        ("2025-12-31T10:00", 1, "2026-01-04T17:30"),
        # Labour Day 2026: Thu 30 Apr + 1 → Wed 6 May; + 4 → the make-up Sat 9 May.
        ("2026-04-30T10:00", 1, "2026-05-06T17:30"),
        ("2026-04-30T10:00", 4, "2026-05-09T17:30"),
        # The committed-matter default: 3 working days.
        ("2026-09-24T15:00", 3, "2026-09-30T17:30"),
    ],
)
def test_due_after_working_days(start, n, due):
    result = CAL.due_after_working_days(at(start), n)
    assert result.at == at(due)
    assert result.at.utcoffset() == dt.timedelta(hours=8)
    assert result.provisional is False


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ("2026-03-02T09:00", 1, "2026-03-02T10:00"),
        # Across lunch: 11:30 + 1 h → 12:00, then 13:30 + 30 min.
        ("2026-03-02T11:30", 1, "2026-03-02T14:00"),
        # Arriving in the lunch break: the clock starts at 13:30.
        ("2026-03-02T12:15", 1, "2026-03-02T14:30"),
        # Ending exactly at a session's close is due at the close, not at the next opening.
        ("2026-03-02T09:00", 3, "2026-03-02T12:00"),
        ("2026-03-02T13:30", 4, "2026-03-02T17:30"),
        # Across the evening: 17:00 + 1 h → next morning 09:30.
        ("2026-03-02T17:00", 1, "2026-03-03T09:30"),
        # Before opening: the clock starts at 09:00.
        ("2026-03-02T06:00", 2, "2026-03-02T11:00"),
        # Across a weekend: Friday 17:00 + 1 h → Monday 09:30.
        ("2026-03-06T17:00", 1, "2026-03-09T09:30"),
        # Across a holiday into a make-up day: Fri 13 Feb 2026 17:00 + 1 h → Sat 14 Feb 09:30.
        ("2026-02-13T17:00", 1, "2026-02-14T09:30"),
        # Sat 14 Feb (make-up) 17:00 + 1 h → Tue 24 Feb after the Spring Festival.
        ("2026-02-14T17:00", 1, "2026-02-24T09:30"),
        # A whole working day is 7 office hours.
        ("2026-03-02T09:00", 7, "2026-03-02T17:30"),
        ("2026-03-02T09:00", 8, "2026-03-03T10:00"),
    ],
)
def test_due_after_working_hours(start, hours, due):
    assert CAL.due_after_working_hours(at(start), hours).at == at(due)


def test_working_minutes_for_the_acceptance_node():
    # R0.4 acceptance ≤30 working minutes: arrival at 11:50 is due at 13:50.
    assert CAL.due_after_working_minutes(at("2026-03-02T11:50"), 30).at == at("2026-03-02T13:50")


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-03-02T09:00", "2026-03-02T17:30", 7),
        ("2026-03-02T11:00", "2026-03-03T10:00", 6),
        ("2026-03-02T12:10", "2026-03-02T13:20", 0),  # all in the lunch break
        ("2026-03-06T17:00", "2026-03-09T09:30", 1),  # over a weekend
        ("2026-09-30T17:00", "2026-10-08T09:00", 0.5),  # over National Day (1–7 Oct)
        ("2026-03-03T10:00", "2026-03-02T11:00", -6),  # backwards is negative
    ],
)
def test_working_time_between(start, end, hours):
    assert CAL.working_seconds_between(at(start), at(end)) == hours * 3600


def test_other_office_hours():
    cal = official_calendar(office_hours=OfficeHours.parse("08:30-12:00,14:00-17:30"))
    assert cal.due_after_working_hours(at("2026-03-02T11:30"), 1).at == at("2026-03-02T14:30")
    assert cal.due_after_working_days(at("2026-03-02T11:30"), 1).at == at("2026-03-03T17:30")


def test_instants_in_another_zone_are_converted():
    utc_start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert CAL.due_after_working_hours(utc_start, 1).at == at("2026-03-02T10:00")


# -- provisional years ---------------------------------------------------------------------------


def test_deadline_into_an_unpublished_year_is_provisional_on_weekends_and_fixed_holidays():
    # 2027 is not published: 1 Jan is a fixed-date holiday, 2–3 Jan a weekend.
    result = CAL.due_after_working_days(at("2026-12-30T10:00"), 2)
    assert result.at == at("2027-01-04T17:30")
    assert result.provisional is True
    assert CAL.due_after_working_days(at("2026-12-28T10:00"), 2).provisional is False
    assert CAL.day_kind(dt.date(2027, 10, 2)) is DayKind.HOLIDAY
    # A lunar holiday cannot be known before publication: 2027's Spring Festival is a workday here.
    assert CAL.is_workday(dt.date(2027, 2, 8))


def test_publishing_the_year_changes_the_answer_and_drops_the_mark():
    published = WorkCalendar(
        holidays={**{d: "x" for d in OFF_2026}, dt.date(2027, 1, 1): "元旦", dt.date(2027, 1, 4): "调休"},
        make_up_workdays=MAKE_UP_2026,
        published_years=[2026, 2027],
        first_year=2024,
        last_year=2035,
    )
    result = published.due_after_working_days(at("2026-12-30T10:00"), 2)
    assert result == published.due_after_working_days(at("2026-12-30T10:00"), 2)
    assert result.at == at("2027-01-05T17:30")
    assert result.provisional is False


# -- bulk equals scalar --------------------------------------------------------------------------


def test_bulk_matches_scalar():
    rng = np.random.default_rng(7)
    starts = rng.integers(
        int(at("2025-01-01T00:00").timestamp()), int(at("2026-12-01T00:00").timestamp()), 300
    )
    days = rng.integers(1, 40, 300)
    due, provisional = CAL.due_after_working_days_bulk(starts, days)
    for s, n, d, p in zip(starts, days, due, provisional, strict=True):
        one = CAL.due_after_working_days(dt.datetime.fromtimestamp(int(s), tz=SHANGHAI), int(n))
        assert (int(one.at.timestamp()), one.provisional) == (int(d), bool(p))


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 1001])
def test_absurd_working_days_are_refused(n):
    with pytest.raises(CalendarError, match="out of range"):
        CAL.due_after_working_days(at("2026-03-02T10:00"), n)


def test_naive_instant_is_refused():
    with pytest.raises(CalendarError, match="no UTC offset"):
        CAL.due_after_working_days(dt.datetime(2026, 3, 2, 10), 1)  # noqa: DTZ001


def test_outside_the_span_is_refused():
    with pytest.raises(CalendarError, match="outside the calendar's span"):
        CAL.is_workday(dt.date(1999, 1, 1))
    with pytest.raises(CalendarError, match="after the calendar's span"):
        CAL.due_after_working_days(at("2035-12-20T10:00"), 30)


@pytest.mark.parametrize("text", ["9-12", "12:00-09:00", "09:00-12:00,11:00-13:00", ""])
def test_bad_office_hours(text):
    with pytest.raises(CalendarError):
        OfficeHours.parse(text)


def test_limits_parse_and_apply():
    assert Limit.parse("3 wd").due(CAL, at("2025-09-26T10:00")).at == at("2025-09-30T17:30")
    assert Limit.parse("30 wmin").due(CAL, at("2026-03-02T11:50")).at == at("2026-03-02T13:50")
    assert Limit.parse("24 h").due(CAL, at("2026-10-01T10:00")).at == at("2026-10-02T10:00")
    for bad in ["3", "three wd", "3 weeks", "0 wd"]:
        with pytest.raises(CalendarError):
            Limit.parse(bad)
