"""The one clock: aware datetimes in the configured zone (Asia/Shanghai). Tests freeze it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    """The current instant, aware, in the local zone."""
    return timezone.now().astimezone(local_zone())


def today() -> dt.date:
    return now().date()


def parse_instant(text: str, *, what: str, naive_is_local: bool = False) -> dt.datetime:
    """Read an ISO 8601 instant. A value without a UTC offset is refused unless the caller
    documents that it reads such values in the local zone (``naive_is_local``)."""
    from kaoping.core.errors import ErrorCode, KaopingError

    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise KaopingError(
            ErrorCode.BAD_DATETIME,
            what=what,
            why=f"{raw!r} is not an ISO 8601 date or instant (e.g. 2026-03-02T10:00:00+08:00)",
        ) from None
    if value.tzinfo is None:
        if not naive_is_local:
            raise KaopingError(ErrorCode.NAIVE_DATETIME, what=what, why=f"{raw!r} has no UTC offset")
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(local_zone())


def parse_date(text: str, *, what: str) -> dt.date:
    from kaoping.core.errors import ErrorCode, KaopingError

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise KaopingError(
            ErrorCode.BAD_DATE, what=what, why=f"{text.strip()!r} is not an ISO 8601 date (YYYY-MM-DD)"
        ) from None
