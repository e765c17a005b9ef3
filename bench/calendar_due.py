"""calendar_due: due dates for many (start, N working days) pairs in bulk, against a plain loop over
the chinese-calendar package on the same pairs (the reference, same run).

Target: ≤1 s for 1,000,000 pairs, and ≥50× faster than the loop (ratio ≤0.02)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

import numpy as np
from chinese_calendar import constants, find_workday

from bench.common import timed, write_result
from kaoping.workcal.calendar import SHANGHAI, WorkCalendar

NAME = "calendar_due"


def package_calendar() -> WorkCalendar:
    """The same arrangement the database is seeded with, built straight from the package."""
    holidays = {day: str(name) for day, name in constants.holidays.items()}
    make_up = [day for day in constants.workdays if day.weekday() >= 5]
    years = sorted({d.year for d in constants.holidays})
    return WorkCalendar(holidays=holidays, make_up_workdays=make_up, published_years=years)


def make_pairs(count: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    first = int(dt.datetime(2024, 1, 1, tzinfo=SHANGHAI).timestamp())
    last = int(dt.datetime(2026, 9, 1, tzinfo=SHANGHAI).timestamp())
    starts = rng.integers(first, last, count, dtype=np.int64)
    days = rng.integers(1, 21, count, dtype=np.int64)  # 1–20 working days: the catalogue's range
    return starts, days


def reference_loop(start_dates: list[dt.date], days: list[int]) -> list[dt.date]:
    # find_workday(k, d) is the k-th workday after the first workday on or after d; starting from the
    # day after the start and asking for N−1 gives the N-th working day after the start day.
    one = dt.timedelta(days=1)
    return [find_workday(n - 1, start + one) for start, n in zip(start_dates, days, strict=True)]


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"bench {NAME}")
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261121)
    args, _ = parser.parse_known_args(argv)

    build_seconds, calendar = timed(package_calendar)
    starts, days = make_pairs(args.pairs, args.seed)
    bulk_seconds, (due, provisional) = timed(lambda: calendar.due_after_working_days_bulk(starts, days))

    # The loop is handed Python dates, converted outside its timing, as a caller would have them.
    start_dates = [dt.datetime.fromtimestamp(int(s), tz=SHANGHAI).date() for s in starts]
    day_list = [int(n) for n in days]
    reference_seconds, expected = timed(lambda: reference_loop(start_dates, day_list))

    due_dates = (due + 8 * 3600) // 86400
    expected_days = np.array([d.toordinal() - dt.date(1970, 1, 1).toordinal() for d in expected])
    mismatches = int(np.count_nonzero(due_dates != expected_days))
    if mismatches:
        raise SystemExit(f"{NAME}: {mismatches} due dates differ from chinese-calendar's")
    return write_result(
        name=NAME,
        value=bulk_seconds,
        unit="s",
        target=1.0,
        reference=reference_seconds,
        sizes={"pairs": args.pairs, "working_days": "1-20"},
        target_ratio=0.02,
        calendar_build_s=round(build_seconds, 4),
        per_pair_ns=round(bulk_seconds / args.pairs * 1e9, 1),
        provisional=int(provisional.sum()),
        mismatches=mismatches,
    )
