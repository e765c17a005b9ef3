"""The State Council's official holiday arrangements for 2025 and 2026, typed in from the notices
(国办发明电〔2024〕12号 and 国办发明电〔2025〕7号), independent of the chinese-calendar package."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kaoping.workcal.calendar import WorkCalendar


def _span(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


OFF_2025 = [
    *_span("2025-01-01", "2025-01-01"),  # 元旦
    *_span("2025-01-28", "2025-02-04"),  # 春节
    *_span("2025-04-04", "2025-04-06"),  # 清明节
    *_span("2025-05-01", "2025-05-05"),  # 劳动节
    *_span("2025-05-31", "2025-06-02"),  # 端午节
    *_span("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
]
MAKE_UP_2025 = [
    dt.date(2025, 1, 26),
    dt.date(2025, 2, 8),
    dt.date(2025, 4, 27),
    dt.date(2025, 9, 28),
    dt.date(2025, 10, 11),
]

OFF_2026 = [
    *_span("2026-01-01", "2026-01-03"),  # 元旦
    *_span("2026-02-15", "2026-02-23"),  # 春节
    *_span("2026-04-04", "2026-04-06"),  # 清明节
    *_span("2026-05-01", "2026-05-05"),  # 劳动节
    *_span("2026-06-19", "2026-06-21"),  # 端午节
    *_span("2026-09-25", "2026-09-27"),  # 中秋节
    *_span("2026-10-01", "2026-10-07"),  # 国庆节
]
MAKE_UP_2026 = [
    dt.date(2026, 1, 4),
    dt.date(2026, 2, 14),
    dt.date(2026, 2, 28),
    dt.date(2026, 5, 9),
    dt.date(2026, 9, 20),
    dt.date(2026, 10, 10),
]


def official_calendar(**kwargs: Any) -> WorkCalendar:
    return WorkCalendar(
        holidays={d: "节假日" for d in OFF_2025 + OFF_2026},
        make_up_workdays=MAKE_UP_2025 + MAKE_UP_2026,
        published_years=[2025, 2026],
        first_year=2024,
        last_year=2035,
        **kwargs,
    )
