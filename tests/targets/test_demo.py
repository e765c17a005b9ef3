"""The demo's target tables and task: approved tables per department, one issued task, loaded once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kaoping.evidence.verify import verify_chain
from kaoping.targets.demo import _previous_month, load_demo_targets
from kaoping.targets.models import AssessmentTask, TargetTable, TaskUnit
from tests.factories import OrgTree


def test_previous_month():
    assert _previous_month(dt.date(2026, 1, 15)) == "2025-12"
    assert _previous_month(dt.date(2026, 10, 31)) == "2026-09"


def test_the_demo_tables_are_approved_and_the_task_issued_once(org: OrgTree, calendar_db: Any):
    load_demo_targets()
    load_demo_targets()  # a second load changes nothing
    tables = list(TargetTable.objects.order_by("unit__path"))
    assert [(t.unit.code, t.state, t.version) for t in tables] == [
        ("DA", "approved", 1),
        ("DB", "approved", 1),
    ]
    assert tables[0].signed_by_id == org.head_a.pk and tables[0].approved_by_id == org.director.pk
    assert sum(r.weight for r in tables[0].rows.all()) == 100
    assert tables[0].rows.filter(metric="immediate_share").exists()  # R2.2: 即办件占比 ≥70%
    task = AssessmentTask.objects.get()
    assert task.scheme_code == "window" and task.state == "issued" and task.data_due_at < task.results_due_at
    assert sorted(task.units.values_list("unit__code", flat=True)) == ["WA", "WB"]
    submitted = TaskUnit.objects.get(submitted_at__isnull=False)
    assert (
        submitted.unit == org.window_a and submitted.submitted_by_id == org.head_a.pk and not submitted.late
    )
    assert verify_chain().ok


def test_on_the_demo_organisation(calendar_db: Any):
    """Every demo department gets its table, those without a head of their own signed by the
    administrator and approved by their own centre's director."""
    from kaoping.sim.demo import load_demo

    load_demo()
    load_demo_targets()
    tables = {t.unit.code: t for t in TargetTable.objects.select_related("unit", "signed_by", "approved_by")}
    assert set(tables) == {"D-ZH", "D-SP", "D-XX", "D-LJ-ZH"}
    assert all(t.state == "approved" for t in tables.values())
    assert tables["D-ZH"].signed_by.username == "head_zh"  # type: ignore[union-attr]
    assert tables["D-XX"].signed_by.username == "admin"  # type: ignore[union-attr]
    assert tables["D-LJ-ZH"].approved_by.username == "lj_director"  # type: ignore[union-attr]
    task = AssessmentTask.objects.get()
    assert task.centre.code == "C9901" and task.units.count() == 4
    assert TaskUnit.objects.get(submitted_at__isnull=False).unit.code == "W-01"
