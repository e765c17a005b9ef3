"""The arrangement file read by ``kaoping calendar import``: pure parsing, no Django.

One line per day or range of days, ``#`` starts a comment::

    # 2027 (国办发明电〔2026〕…号)
    year 2027
    2027-01-01 holiday 元旦
    2027-02-06..2027-02-13 holiday 春节
    2027-02-14 workday 春节调休

``holiday`` is a day off, ``workday`` a make-up workday (调休上班). ``year YYYY`` declares a year whose
arrangement the file holds even if it lists no days; every year named by a day is declared too.
Importing a year replaces that year's whole arrangement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kaoping.core.errors import ErrorCode, KaopingError

KINDS = ("holiday", "workday")
MAX_RANGE_DAYS = 31


@dataclass
class Arrangement:
    years: dict[int, list[tuple[dt.date, str, str]]] = field(default_factory=dict)


def parse_arrangement(text: str, *, source: str = "file") -> Arrangement:
    """Parse a whole file; the first malformed line raises with its number and nothing is kept."""
    result = Arrangement()
    seen: dict[dt.date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}, line {number}"

        def fail(why: str, where: str = where) -> KaopingError:
            return KaopingError(ErrorCode.BAD_FILE, what="calendar arrangement", where=where, why=why)

        parts = line.split(maxsplit=2)
        if parts[0] == "year":
            if len(parts) != 2 or not parts[1].isdigit() or not 1900 < int(parts[1]) < 2200:
                raise fail(f"{line!r}: expected 'year YYYY'")
            result.years.setdefault(int(parts[1]), [])
            continue
        if len(parts) < 2:
            raise fail(f"{line!r}: expected 'DATE[..DATE] holiday|workday [NAME]'")
        first, _, last = parts[0].partition("..")
        try:
            start = dt.date.fromisoformat(first)
            end = dt.date.fromisoformat(last) if last else start
        except ValueError:
            raise fail(f"{parts[0]!r} is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD") from None
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            raise fail(f"range {parts[0]} must run forwards and span at most {MAX_RANGE_DAYS} days")
        kind = parts[1]
        if kind not in KINDS:
            raise fail(f"kind {kind!r} is not 'holiday' or 'workday'")
        name = parts[2].strip() if len(parts) > 2 else ""
        day = start
        while day <= end:
            if day in seen:
                raise fail(f"{day.isoformat()} is already given on line {seen[day]}")
            if kind == "workday" and day.weekday() < 5:
                raise fail(f"{day.isoformat()} is a weekday: a make-up workday must fall on a weekend")
            seen[day] = number
            result.years.setdefault(day.year, []).append((day, kind, name))
            day += dt.timedelta(days=1)
    if not result.years:
        raise KaopingError(
            ErrorCode.BAD_FILE,
            what="calendar arrangement",
            where=source,
            why="the file declares no year and no day",
        )
    return result
