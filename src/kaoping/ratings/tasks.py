"""Periodic work on ratings: the anti-gaming scan and the default level for unrated cases."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kaoping.ratings.services import ratings_default, ratings_scan, ratings_scan_recent

log = logging.getLogger("kaoping.ratings")


@db_periodic_task(crontab(minute="*/5"))
def scan_recent_ratings() -> int:
    """Every five minutes: flag suspicious patterns among the ratings received lately."""
    added = ratings_scan_recent(minutes=15)
    if added:
        log.info("scan: %d rating(s) flagged for review", added)
    return added


@db_periodic_task(crontab(minute="10", hour="1"))
def default_unrated_cases() -> int:
    """Nightly: unrated cases past the configured number of days take the default level (if enabled)."""
    added = ratings_default()
    if added:
        log.info("default ratings: %d case(s)", added)
    return added


@db_task()
def scan_period(start: str, end: str) -> int:
    """After a bulk import: the anti-gaming scan over the imported ratings' period (ISO instants)."""
    import datetime as dt

    added = ratings_scan(start=dt.datetime.fromisoformat(start), end=dt.datetime.fromisoformat(end))
    log.info("scan %s – %s: %d rating(s) flagged for review", start, end, added)
    return added
