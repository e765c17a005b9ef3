"""Periodic work of the assessment app."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kaoping.assessment.rollups import rollups_refresh

log = logging.getLogger("kaoping.assessment")


@db_periodic_task(crontab(minute="*"))
def refresh_rollups() -> int:
    """Every minute: rebuild the daily rollups that late data has made stale."""
    done = rollups_refresh()
    if done:
        log.info("rollups: %d day(s) rebuilt", done)
    return done
