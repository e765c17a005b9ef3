"""The simulator replayed into the database: hourly clock, warnings at the hour, idempotent."""

from __future__ import annotations

import datetime as dt

from kaoping.cases.models import Case, CaseWarning
from kaoping.core.clock import local_zone
from kaoping.evidence.verify import verify_chain
from kaoping.sim.demo import load_demo
from kaoping.sim.runner import run_into_database


def test_replay_raises_warnings_on_the_hour_and_counts_once(calendar_db):
    load_demo()
    start = dt.date(2026, 3, 2)
    first = run_into_database(days=12, seed=5, scale=0.5, start=start)
    assert first.accepted_cases == Case.objects.count() > 100
    assert first.rejected == 0 and first.duplicates > 0  # the feed's duplicated deliveries
    assert first.warnings == CaseWarning.objects.count() > 0
    raised = CaseWarning.objects.values_list("raised_at", flat=True)
    assert all(at.minute == 0 and at.second == 0 for at in raised)
    # Quiet hours are swept too: some warning is raised on a weekend, when no record is delivered
    # (a result handed over on Monday whose 24 natural hours ran out on Saturday).
    assert any(at.astimezone(local_zone()).weekday() >= 5 for at in raised)
    again = run_into_database(days=12, seed=5, scale=0.5, start=start)
    assert (again.accepted_cases, again.accepted_events, again.warnings) == (0, 0, 0)
    assert verify_chain().ok


def test_replay_never_runs_ahead_of_the_real_clock(calendar_db, time_machine):
    now = dt.datetime(2026, 3, 10, 12, 30, tzinfo=local_zone())
    time_machine.move_to(now, tick=False)
    load_demo()
    report = run_into_database(days=12, seed=5, scale=0.5, start=dt.date(2026, 3, 2))
    assert report.warnings > 0
    assert max(CaseWarning.objects.values_list("raised_at", flat=True)) <= now
