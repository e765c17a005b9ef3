"""Nightly walk of the evidence chain: a break is logged as an error for the operators' alerting."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kaoping.evidence.verify import verify_chain

log = logging.getLogger("kaoping.evidence")


@db_periodic_task(crontab(hour="2", minute="30"))
def verify_evidence_chain() -> bool:
    report = verify_chain()
    if report.ok:
        log.info("evidence chain ok: %d entries, %d objects", report.entries, report.objects)
    else:
        log.error("evidence chain BROKEN: %s (%d problems)", report.first_bad, len(report.problems))
    return report.ok
