"""Rows of a valid target table and a task issued to the test centre's two departments (`org` fixture)."""

from __future__ import annotations

import datetime as dt

import pytest

from kaoping.assessment.services import schemes_load_defaults
from kaoping.core import clock
from kaoping.targets.models import AssessmentTask, TargetTable
from kaoping.targets.services import target_table_create, task_issue
from kaoping.targets.workflow import RowSpec
from tests.factories import OrgTree

ROWS = [
    RowSpec("提升群众满意度", "满意率", "≥98%，每低1%扣2分", "40", "satisfaction_rate"),
    RowSpec("提高办事效率", "按时办结率", "100%", "35", "handling_on_time_rate"),
    RowSpec("加强队伍建设", "人均服务培训时长", "≥40 小时/年", "25"),
]


@pytest.fixture(autouse=True)
def schemes(db: None) -> None:
    """The published default schemes, as `kaoping setup` stores them."""
    schemes_load_defaults(actor="test")


@pytest.fixture
def table(org: OrgTree) -> TargetTable:
    return target_table_create(actor=org.head_a, unit=org.dept_a, year=2026, rows=ROWS)


def issue(org: OrgTree, *, hours: int = 48) -> AssessmentTask:
    """A monthly window task for both windows of the test centre, data due in ``hours``."""
    now = clock.now()
    return task_issue(
        actor=org.director,
        centre=org.centre,
        scheme_code="window",
        period="2026-06",
        units=[org.window_a, org.window_b],
        data_due_at=now + dt.timedelta(hours=hours),
        results_due_at=now + dt.timedelta(hours=hours * 2),
    )


@pytest.fixture
def task(org: OrgTree) -> AssessmentTask:
    return issue(org)
