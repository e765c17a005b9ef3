"""Property tests: the array arithmetic agrees with a plain day-by-day walk, and working time
behaves like a clock that only runs in office hours."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.workcal.calendar import SHANGHAI
from tests.workcal.official import MAKE_UP_2025, MAKE_UP_2026, OFF_2025, OFF_2026, official_calendar

CAL = official_calendar()
OFF = set(OFF_2025 + OFF_2026)
MAKE_UP = set(MAKE_UP_2025 + MAKE_UP_2026)
FIXED = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
SESSIONS = [(dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]


def is_workday(day: dt.date) -> bool:
    if day in MAKE_UP:
        return True
    if day in OFF or (day.year not in (2025, 2026) and (day.month, day.day) in FIXED):
        return False
    return day.weekday() < 5


def reference_days(start: dt.datetime, n: int) -> dt.datetime:
    day = start.date()
    while n:
        day += dt.timedelta(days=1)
        n -= is_workday(day)
    return dt.datetime.combine(day, dt.time(17, 30), tzinfo=SHANGHAI)


def reference_seconds(start: dt.datetime, seconds: int) -> dt.datetime:
    day, cursor = start.date(), start
    while True:
        if is_workday(day):
            for open_, close in SESSIONS:
                begin = max(cursor, dt.datetime.combine(day, open_, tzinfo=SHANGHAI))
                end = dt.datetime.combine(day, close, tzinfo=SHANGHAI)
                if begin >= end:
                    continue
                available = int((end - begin).total_seconds())
                if seconds <= available:
                    return begin + dt.timedelta(seconds=seconds)
                seconds -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)


# hypothesis takes naive bounds and attaches the zone itself.
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(SHANGHAI),
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(start=instants, n=st.integers(1, 60))
def test_working_days_match_a_day_by_day_walk(start, n):
    assert CAL.due_after_working_days(start, n).at == reference_days(start, n)


@settings(max_examples=300, deadline=None)
@given(start=instants, seconds=st.integers(1, 20 * 7 * 3600))
def test_working_seconds_match_a_session_by_session_walk(start, seconds):
    assert CAL.due_after_working_seconds(start, seconds).at == reference_seconds(start, seconds)


@settings(max_examples=200, deadline=None)
@given(start=instants, seconds=st.integers(1, 30 * 7 * 3600))
def test_elapsed_time_undoes_the_deadline(start, seconds):
    due = CAL.due_after_working_seconds(start, seconds).at
    assert CAL.working_seconds_between(start, due) == seconds


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_elapsed_time_adds_up(a, b, c):
    assert CAL.working_seconds_between(a, b) + CAL.working_seconds_between(
        b, c
    ) == CAL.working_seconds_between(a, c)


@settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(1, 59))
def test_more_working_days_never_come_sooner(start, n):
    assert CAL.due_after_working_days(start, n).at < CAL.due_after_working_days(start, n + 1).at


@settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(1, 60))
def test_provisional_exactly_when_the_deadline_reaches_an_unpublished_year(start, n):
    due = CAL.due_after_working_days(start, n)
    assert due.provisional == (due.at.year > 2026)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(instants, st.integers(1, 30 * 7 * 3600)), min_size=1, max_size=20))
def test_bulk_forms_agree_with_the_scalar_forms(pairs):
    import numpy as np

    starts = np.array([int(s.timestamp()) for s, _ in pairs], dtype=np.int64)
    amounts = np.array([a for _, a in pairs], dtype=np.int64)
    due, provisional = CAL.due_after_working_seconds_bulk(starts, amounts)
    ordinals = CAL.working_ordinal_bulk(starts)
    for (start, amount), at, flag, ordinal in zip(pairs, due, provisional, ordinals, strict=True):
        one = CAL.due_after_working_seconds(start, amount)
        assert (int(one.at.timestamp()), one.provisional) == (int(at), bool(flag))
        assert CAL.working_seconds_between(pairs[0][0], start) == int(ordinal - ordinals[0])
    closes = CAL.close_of_day_bulk(starts)
    days = CAL.day_ordinals_bulk(starts)
    for (start, _), close, day in zip(pairs, closes.tolist(), days.tolist(), strict=True):
        local = start.astimezone(CAL.tz)
        assert day == local.date().toordinal()
        expected = dt.datetime.combine(local.date(), CAL.office_hours.close, tzinfo=CAL.tz)
        assert close == int(expected.timestamp())
