"""Periodic and background work on cases."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kaoping.cases.services import cases_recompute, cases_repair_stale, cases_sweep, open_case_ids

log = logging.getLogger("kaoping.cases")


@db_periodic_task(crontab(minute="*"))
def sweep_open_cases() -> int:
    """Every minute: raise the warnings whose moment has come, each once."""
    report = cases_sweep()
    if report.raised:
        log.info("sweep: %d warning(s) raised on %d case(s)", report.raised, report.examined)
    return report.raised


@db_task()
def recompute_provisional_cases() -> int:
    """After a new year's arrangement: open cases with provisional deadlines get real ones."""
    return cases_recompute(case_ids=list(open_case_ids(provisional_only=True)))


@db_periodic_task(crontab(minute="*/10"))
def repair_stale_cases() -> int:
    """Every ten minutes: recompute the cases a file import touched and did not live to recompute."""
    repaired = cases_repair_stale()
    if repaired:
        log.warning("repaired %d case(s) left stale by an interrupted import", repaired)
    return repaired
