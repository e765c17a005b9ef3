"""Working-time arithmetic: pure Python and NumPy, no Django.

A ``WorkCalendar`` is built from plain values (holidays, make-up workdays, the years whose official
arrangement is published, office hours) and answers three questions, each in a scalar and a
vectorised form:

* N working days after an instant: the start day is not counted; the case is due at the close of
  office hours on the N-th working day after it (the administrative-law convention);
* N working seconds (hours, minutes) after an instant, counting office time only;
* working time elapsed between two instants.

Working time is measured on one axis, the *working-second ordinal*: the number of office seconds
from the start of the calendar's span up to an instant. A deadline is then a search on that axis,
which is what makes the bulk form a handful of array operations.

Years without a published arrangement are filled with weekends and the fixed-date statutory
holidays (1 Jan, 1–2 May, 1–3 Oct); anything computed on them is marked ``provisional``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Statutory holidays on fixed Gregorian dates (全国年节及纪念日放假办法, as revised in 2024): the only
# ones that can be placed before the State Council publishes a year's arrangement.
FIXED_DATE_HOLIDAYS: dict[tuple[int, int], str] = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}

MAX_WORKING_DAYS = 1000
MAX_WORKING_SECONDS = 1000 * 24 * 3600

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class CalendarError(ValueError):
    """Input the calendar cannot answer for: says what, where and why."""


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKE_UP_WORKDAY = "make_up_workday"


@dataclass(frozen=True)
class OfficeHours:
    """Office sessions of one day, e.g. 09:00–12:00 and 13:30–17:30 (a lunch break between)."""

    sessions: tuple[tuple[dt.time, dt.time], ...]

    def __post_init__(self) -> None:
        if not self.sessions:
            raise CalendarError("office hours need at least one session")
        previous_end: dt.time | None = None
        for start, end in self.sessions:
            if start >= end:
                raise CalendarError(f"office session {start:%H:%M}-{end:%H:%M} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise CalendarError(f"office session starting {start:%H:%M} overlaps the one before it")
            previous_end = end

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """Read ``"09:00-12:00,13:30-17:30"``."""
        sessions = []
        for part in text.split(","):
            try:
                start_text, end_text = part.strip().split("-")
                sessions.append((dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)))
            except ValueError:
                raise CalendarError(f"office hours {text!r}: {part.strip()!r} is not HH:MM-HH:MM") from None
        return cls(tuple(sessions))

    @property
    def bounds(self) -> list[tuple[int, int]]:
        """Sessions as (start, end) seconds after midnight."""
        return [(_seconds_of(s), _seconds_of(e)) for s, e in self.sessions]

    @property
    def seconds_per_day(self) -> int:
        return sum(end - start for start, end in self.bounds)

    @property
    def close(self) -> dt.time:
        return self.sessions[-1][1]

    def __str__(self) -> str:
        return ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.sessions)


DEFAULT_OFFICE_HOURS = OfficeHours.parse("09:00-12:00,13:30-17:30")


@dataclass(frozen=True)
class Due:
    at: dt.datetime
    provisional: bool


def _seconds_of(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class WorkCalendar:
    """Working days and office hours over a span of years, with every answer in O(log n)."""

    def __init__(
        self,
        *,
        holidays: Mapping[dt.date, str],
        make_up_workdays: Iterable[dt.date],
        published_years: Iterable[int],
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        tz: ZoneInfo = SHANGHAI,
        first_year: int | None = None,
        last_year: int | None = None,
    ) -> None:
        self.published_years = frozenset(published_years)
        self.holidays = dict(holidays)
        self.make_up_workdays = frozenset(make_up_workdays)
        self.office_hours = office_hours
        self.tz = tz
        known = sorted(self.published_years) or [2000]
        self.first_year = first_year if first_year is not None else min(known[0], 2000)
        self.last_year = last_year if last_year is not None else known[-1] + 30
        self.base = dt.date(self.first_year, 1, 1)
        self.end = dt.date(self.last_year, 12, 31)
        self._check_fixed_offset()

        n_days = (self.end - self.base).days + 1
        ordinals = np.arange(n_days, dtype=np.int64)
        weekday = (ordinals + self.base.weekday()) % 7  # Monday = 0
        is_work = weekday < 5
        provisional = np.zeros(n_days, dtype=np.bool_)
        self._kind_override: dict[dt.date, DayKind] = {}
        for year in range(self.first_year, self.last_year + 1):
            if year in self.published_years:
                continue
            start = (dt.date(year, 1, 1) - self.base).days
            provisional[start : start + (366 if _is_leap(year) else 365)] = True
            for (month, day), name in FIXED_DATE_HOLIDAYS.items():
                self.holidays.setdefault(dt.date(year, month, day), name)
        for off in self.holidays:
            if self.base <= off <= self.end:
                is_work[(off - self.base).days] = False
                self._kind_override[off] = DayKind.HOLIDAY
        for on in self.make_up_workdays:
            if self.base <= on <= self.end:
                is_work[(on - self.base).days] = True
                self._kind_override[on] = DayKind.MAKE_UP_WORKDAY

        self._is_work: BoolArray = is_work
        # _cum_work[i]: working days with ordinal <= i; _workdays[k]: ordinal of the (k+1)-th working day.
        self._cum_work: IntArray = np.cumsum(is_work, dtype=np.int64)
        self._workdays: IntArray = np.flatnonzero(is_work).astype(np.int64)
        self._cum_provisional: IntArray = np.cumsum(provisional, dtype=np.int64)
        bounds = office_hours.bounds
        self._session_starts = np.array([s for s, _ in bounds], dtype=np.int64)
        self._session_ends = np.array([e for _, e in bounds], dtype=np.int64)
        lengths = self._session_ends - self._session_starts
        self._session_before = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self._day_seconds = int(lengths.sum())
        self._close_seconds = int(self._session_ends[-1])
        self._epoch_base = int(dt.datetime.combine(self.base, dt.time(), tzinfo=dt.UTC).timestamp())
        # Plain-list copies for the scalar forms.
        self._is_work_l: list[int] = [int(x) for x in is_work.tolist()]
        self._cum_work_l: list[int] = self._cum_work.tolist()
        self._workdays_l: list[int] = self._workdays.tolist()
        self._cum_prov_l: list[int] = self._cum_provisional.tolist()
        self._bounds_l = bounds
        self._starts_l: list[int] = self._session_starts.tolist()
        self._before_l: list[int] = self._session_before.tolist()

    # -- single values ---------------------------------------------------------------------------

    def day_kind(self, day: dt.date) -> DayKind:
        self._check_day(day, "date")
        if day in self._kind_override:
            return self._kind_override[day]
        return DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND

    def is_workday(self, day: dt.date) -> bool:
        self._check_day(day, "date")
        return bool(self._is_work[(day - self.base).days])

    def is_provisional(self, day: dt.date) -> bool:
        return day.year not in self.published_years

    def holiday_name(self, day: dt.date) -> str | None:
        return self.holidays.get(day)

    # The scalar forms walk plain Python lists (a few microseconds a call, where a one-element NumPy
    # round trip costs tens); the bulk forms below do the same arithmetic on arrays, and the tests hold
    # the two to the same answers.

    def due_after_working_days(self, start: dt.datetime, n: int) -> Due:
        _check_amount(n, 1, MAX_WORKING_DAYS, "working days")
        first = self._index_of(self._epoch(start, "start"))
        rank = self._cum_work_l[first] + n
        if rank > len(self._workdays_l):
            raise CalendarError(f"the deadline falls after the calendar's span (ends {self.end.isoformat()})")
        last = self._workdays_l[rank - 1]
        due = self._epoch_base + last * 86400 + self._close_seconds - self._offset
        return Due(self._datetime(due), self._provisional_one(first, last))

    def due_after_working_seconds(self, start: dt.datetime, seconds: int) -> Due:
        _check_amount(seconds, 1, MAX_WORKING_SECONDS, "working seconds")
        epoch = self._epoch(start, "start")
        target = self._ordinal_one(epoch) + seconds
        rank = -(-target // self._day_seconds)
        if rank > len(self._workdays_l):
            raise CalendarError(f"the deadline falls after the calendar's span (ends {self.end.isoformat()})")
        last = self._workdays_l[rank - 1]
        within = target - (rank - 1) * self._day_seconds
        session = min(max(bisect_left(self._before_l, within) - 1, 0), len(self._before_l) - 1)
        tod = self._starts_l[session] + within - self._before_l[session]
        due = self._epoch_base + last * 86400 + tod - self._offset
        return Due(self._datetime(due), self._provisional_one(self._index_of(epoch), last))

    def due_after_working_hours(self, start: dt.datetime, hours: float) -> Due:
        return self.due_after_working_seconds(start, _whole_seconds(hours * 3600, "working hours"))

    def due_after_working_minutes(self, start: dt.datetime, minutes: float) -> Due:
        return self.due_after_working_seconds(start, _whole_seconds(minutes * 60, "working minutes"))

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Office seconds from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        return self._ordinal_one(self._epoch(end, "end")) - self._ordinal_one(self._epoch(start, "start"))

    def working_ordinal(self, instant: dt.datetime) -> int:
        """Office seconds from the start of the span to ``instant``: the scalar form of
        ``working_ordinal_bulk``, for callers that measure many spans from one start."""
        return self._ordinal_one(self._epoch(instant, "instant"))

    def _index_of(self, epoch: int) -> int:
        index = (epoch + self._offset - self._epoch_base) // 86400
        if not 0 <= index < len(self._is_work_l):
            raise CalendarError(
                f"{self._datetime(epoch).isoformat()} is outside the calendar's span "
                f"{self.first_year}–{self.last_year}"
            )
        return index

    def _ordinal_one(self, epoch: int) -> int:
        index = self._index_of(epoch)
        is_work = self._is_work_l[index]
        done = (self._cum_work_l[index] - is_work) * self._day_seconds
        if not is_work:
            return done
        local = epoch + self._offset - self._epoch_base - index * 86400
        return done + sum(min(max(local - s, 0), e - s) for s, e in self._bounds_l)

    def _provisional_one(self, first: int, last: int) -> bool:
        before = self._cum_prov_l[first - 1] if first > 0 else 0
        return self._cum_prov_l[last] - before > 0

    # -- bulk ------------------------------------------------------------------------------------

    def due_after_working_days_bulk(self, starts: IntArray, days: IntArray) -> tuple[IntArray, BoolArray]:
        """Due instants (epoch seconds) and provisional flags for arrays of (start epoch, N days)."""
        starts, days = np.asarray(starts, dtype=np.int64), np.asarray(days, dtype=np.int64)
        _check_amounts(days, 1, MAX_WORKING_DAYS, "working days")
        day_index = self._day_index(starts)
        target = self._cum_work[day_index] + days  # 1-based rank of the due working day
        self._check_rank(target)
        due_index = self._workdays[target - 1]
        due = self._epoch_base + due_index * 86400 + self._close_seconds - self._offset
        return due, self._provisional_between(day_index, due_index)

    def due_after_working_seconds_bulk(
        self, starts: IntArray, seconds: IntArray
    ) -> tuple[IntArray, BoolArray]:
        """Due instants for arrays of (start epoch, office seconds): the first instant by which that
        much office time has passed (a limit ending on a session's close is due at the close)."""
        starts, seconds = np.asarray(starts, dtype=np.int64), np.asarray(seconds, dtype=np.int64)
        _check_amounts(seconds, 1, MAX_WORKING_SECONDS, "working seconds")
        target = self.working_ordinal_bulk(starts) + seconds
        rank = -(-target // self._day_seconds)  # ceil: the working day that holds the target
        self._check_rank(rank)
        due_index = self._workdays[rank - 1]
        within = target - (rank - 1) * self._day_seconds  # in (0, day_seconds]
        session = np.searchsorted(self._session_before, within, side="left") - 1
        session = np.clip(session, 0, len(self._session_starts) - 1)
        tod = self._session_starts[session] + within - self._session_before[session]
        due = self._epoch_base + due_index * 86400 + tod - self._offset
        return due, self._provisional_between(self._day_index(starts), due_index)

    def day_ordinals_bulk(self, instants: IntArray) -> IntArray:
        """The ordinal (``date.toordinal``) of each instant's local day."""
        return np.asarray(self._day_index(np.asarray(instants, dtype=np.int64)) + self.base.toordinal())

    def close_of_day_bulk(self, instants: IntArray) -> IntArray:
        """The office's close on each instant's local day (epoch seconds)."""
        instants = np.asarray(instants, dtype=np.int64)
        return np.asarray(
            self._epoch_base + self._day_index(instants) * 86400 + self._close_seconds - self._offset,
            dtype=np.int64,
        )

    def working_ordinal_bulk(self, instants: IntArray) -> IntArray:
        """Office seconds from the start of the span to each instant (epoch seconds)."""
        instants = np.asarray(instants, dtype=np.int64)
        day_index = self._day_index(instants)
        local = instants + self._offset - self._epoch_base - day_index * 86400
        done_days = self._cum_work[day_index] - self._is_work[day_index]
        clipped = np.clip(
            local[:, None] - self._session_starts[None, :], 0, self._session_ends - self._session_starts
        )
        today = np.where(self._is_work[day_index], clipped.sum(axis=1), 0)
        return np.asarray(done_days * self._day_seconds + today, dtype=np.int64)

    # -- helpers ---------------------------------------------------------------------------------

    def _check_fixed_offset(self) -> None:
        # The bulk form adds one UTC offset; refuse a zone whose offset changes inside the span.
        offsets = {
            dt.datetime(year, month, 1, 12, tzinfo=self.tz).utcoffset()
            for year in range(self.first_year, self.last_year + 1)
            for month in (1, 7)
        }
        if len(offsets) != 1:
            raise CalendarError(
                f"time zone {self.tz.key} changes its UTC offset between "
                f"{self.first_year} and {self.last_year}"
            )
        offset = offsets.pop()
        self._offset = int(offset.total_seconds()) if offset is not None else 0

    def _epoch(self, instant: dt.datetime, what: str) -> int:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise CalendarError(f"{what} {instant.isoformat()} has no UTC offset")
        return int(instant.timestamp())

    def _datetime(self, epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, tz=self.tz)

    def _day_index(self, instants: IntArray) -> IntArray:
        index = (instants + self._offset - self._epoch_base) // 86400
        if index.size and (index.min() < 0 or index.max() >= len(self._is_work)):
            bad = int(instants[(index < 0) | (index >= len(self._is_work))][0])
            raise CalendarError(
                f"{self._datetime(bad).isoformat()} is outside the calendar's span "
                f"{self.first_year}–{self.last_year}"
            )
        return index

    def _check_day(self, day: dt.date, what: str) -> None:
        if not self.base <= day <= self.end:
            raise CalendarError(
                f"{what} {day.isoformat()} is outside the calendar's span {self.first_year}–{self.last_year}"
            )

    def _check_rank(self, rank: IntArray) -> None:
        if rank.size and rank.max() > len(self._workdays):
            raise CalendarError(f"the deadline falls after the calendar's span (ends {self.end.isoformat()})")

    def _provisional_between(self, first: IntArray, last: IntArray) -> BoolArray:
        before = np.where(first > 0, self._cum_provisional[np.maximum(first - 1, 0)], 0)
        return np.asarray(self._cum_provisional[last] - before > 0)


def _check_amounts(values: IntArray, low: int, high: int, what: str) -> None:
    if values.size and (values.min() < low or values.max() > high):
        bad = int(values[(values < low) | (values > high)][0])
        raise CalendarError(f"{bad} {what} is out of range: it must be between {low} and {high}")


def _check_amount(value: int, low: int, high: int, what: str) -> None:
    if not low <= value <= high:
        raise CalendarError(f"{value} {what} is out of range: it must be between {low} and {high}")


def _whole_seconds(value: float, what: str) -> int:
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        raise CalendarError(f"{value} {what} is not a number of {what}")
    return round(value)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
