"""The sweep's narrow ``CaseAlert`` rows: written with the derived fields, moved by the sweep, and
always what a recomputation at the same moment would write; the case rows' status and flags too."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from kaoping.assessment.models import DirtyDay
from kaoping.cases import services
from kaoping.cases.models import Case, CaseAlert, CaseWarning
from kaoping.cases.services import cases_recompute, cases_sweep
from tests.cases.test_ingest import at, case, event, ingest, matters  # noqa: F401  (matters is a fixture)

ALERT = ("unit_id", "node", "due_at", "due_soon_at", "breaker_at", "next_at", "deadline_status", "overdue")
FLAGS = ("deadline_status", "overdue", "breaker", "current_node", "current_due_at")


def _state() -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    alerts = {row[0]: row[1:] for row in CaseAlert.objects.values_list("case_id", *ALERT, "breaker")}
    cases = {row[0]: row[1:] for row in Case.objects.values_list("pk", *FLAGS)}
    return alerts, cases


def _pending(alerts: dict[int, tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    """The rows with an alert to come (the sweep leaves a row whose last warning it raised, with no
    next instant, until the next recomputation deletes it)."""
    return {pk: row for pk, row in alerts.items() if row[ALERT.index("next_at")] is not None}


@pytest.fixture(params=["index", "scan"])
def way(request, monkeypatch):
    """Both ways of a sweep on SQLite: through the next_at index (a steady minute) and reading the
    whole narrow table (a catch-up). PostgreSQL's planner chooses by itself."""
    if request.param == "scan" and connection.vendor != "sqlite":
        pytest.skip("reading the whole table is SQLite's hint")
    monkeypatch.setattr(services, "_scan_whole_table", lambda *args: request.param == "scan")
    return request.param


def test_the_alert_row_follows_its_case_through_ingest_sweeps_and_recompute(matters, time_machine, way):  # noqa: F811
    time_machine.move_to(at("2026-03-02T09:00"))
    ingest(case("Q1", matter="M-IMM"), event("q1", "arrived", "2026-03-02T09:00", case_id="Q1"))
    stored = Case.objects.get()
    alert = CaseAlert.objects.get(case=stored)
    assert (alert.unit_id, alert.node, alert.due_at) == (
        stored.unit_id,
        stored.current_node,
        stored.current_due_at,
    )
    assert alert.due_soon_at == at("2026-03-02T09:24") and alert.next_at == alert.due_soon_at  # 80% of 30'
    assert alert.breaker_at == at("2026-03-02T09:39:01") and alert.deadline_status == stored.deadline_status

    assert cases_sweep(now=at("2026-03-02T09:25")).raised == 1
    alert.refresh_from_db()
    stored.refresh_from_db()
    assert stored.deadline_status == alert.deadline_status == "due_soon" and not stored.overdue
    assert alert.next_at == alert.due_at

    DirtyDay.objects.all().delete()
    assert cases_sweep(now=at("2026-03-02T09:31")).raised == 1
    alert.refresh_from_db()
    stored.refresh_from_db()
    assert stored.deadline_status == alert.deadline_status == "overdue" and stored.overdue and alert.overdue
    assert alert.next_at == alert.breaker_at and not stored.breaker
    assert DirtyDay.objects.exists()  # the case became overdue: its day's rollups are stale

    assert cases_sweep(now=at("2026-03-02T09:40")).raised == 1
    alert.refresh_from_db()
    stored.refresh_from_db()
    assert stored.breaker and alert.breaker and alert.next_at is None
    assert cases_sweep(now=at("2026-03-02T10:40")).examined == 0

    # Nothing left to raise: a recomputation keeps the case as the sweep left it and drops the row.
    cases_recompute(case_ids=[stored.pk], now=at("2026-03-02T09:45"))
    assert not CaseAlert.objects.exists()
    stored.refresh_from_db()
    assert (stored.deadline_status, stored.overdue, stored.breaker) == ("overdue", True, True)

    # A later event starts the next node: a row again, for that node.
    ingest(event("q2", "accepted", "2026-03-02T09:50", case_id="Q1"))
    assert CaseAlert.objects.get().node == Case.objects.get().current_node == "handling"
    assert sorted(CaseWarning.objects.values_list("kind", flat=True)) == ["breaker", "due_soon", "overdue"]


def test_after_each_sweep_the_rows_are_what_a_recomputation_writes(matters, time_machine, way):  # noqa: F811
    time_machine.move_to(at("2026-03-02T08:00"))
    # Cases at different stages, so that each sweep finds some due and some not.
    for i, minute in enumerate(range(0, 60, 6)):
        ingest(
            case(f"S{i}", matter="M-IMM" if i % 2 else "M-COM"),
            event(f"s{i}", "arrived", f"2026-03-02T09:{minute:02d}", case_id=f"S{i}"),
        )
    ingest(case("D1"), event("d1", "accepted", "2026-03-06T09:00", case_id="D1"))
    ingest(event("d2", "handled", "2026-03-06T15:00", case_id="D1"))  # its result delivery runs
    ids = list(Case.objects.values_list("pk", flat=True))
    for when in ("2026-03-02T09:20", "2026-03-02T09:45", "2026-03-02T10:30", "2026-03-07T16:00"):
        cases_sweep(now=at(when))
        swept_alerts, swept_cases = _state()
        warnings = CaseWarning.objects.count()
        cases_recompute(case_ids=ids, now=at(when))
        alerts, cases = _state()
        assert (_pending(swept_alerts), swept_cases) == (_pending(alerts), cases), when
        assert set(alerts) <= set(swept_alerts) and CaseWarning.objects.count() == warnings
        assert cases_sweep(now=at(when)).raised == 0  # each warning once
    assert CaseWarning.objects.filter(case__external_id="D1", node="result_delivery").count() == 2
