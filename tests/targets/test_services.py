"""Target tables and tasks through their services: the workflow, who may do what (404-style outside the
scope, forbidden inside it), every problem at once, nothing partial, one evidence entry per write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain
from kaoping.targets.models import AnalysisMeeting, AssessmentTask, TargetRow, TargetTable, TaskUnit
from kaoping.targets.services import (
    MeasureSpec,
    known_schemes,
    meeting_record,
    target_table_approve,
    target_table_create,
    target_table_edit,
    target_table_return,
    target_table_revise,
    target_table_sign,
    task_close,
    task_issue,
    task_submit,
)
from kaoping.targets.workflow import Action, RowSpec, State, transition
from tests.factories import OrgTree
from tests.targets.conftest import ROWS, issue


def entries(obj: Any) -> list[str]:
    return list(
        EvidenceEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def period_for(scheme_code: str) -> str:
    """A period of the kind the scheme is assessed by (the default schemes may change their kind)."""
    kind = known_schemes()[scheme_code][2]
    return {"month": "2026-07", "quarter": "2026-Q3", "half_year": "2026-H2", "year": "2026"}[kind]


def refused(code: ErrorCode, call: Any, **kwargs: Any) -> KaopingError:
    with pytest.raises(KaopingError) as info:
        call(**kwargs)
    assert info.value.code is code, info.value.message
    return info.value


# --- target tables --------------------------------------------------------------------------------


def test_a_table_is_drafted_signed_and_approved_with_one_entry_per_step(org: OrgTree, table: TargetTable):
    assert table.state == State.DRAFT and table.version == 1
    assert [r.indicator for r in table.rows.all()] == ["满意率", "按时办结率", "人均服务培训时长"]
    assert sum(r.weight for r in table.rows.all()) == 100
    target_table_sign(actor=org.head_a, table=table)
    approved = target_table_approve(actor=org.director, table=table)
    assert approved.state == State.APPROVED
    assert approved.signed_by_id == org.head_a.pk and approved.approved_by_id == org.director.pk
    assert entries(table) == ["targets.table_create", "targets.table_sign", "targets.table_approve"]
    assert verify_chain().ok


def test_a_returned_table_keeps_the_reason_and_is_edited_and_signed_again(org: OrgTree, table: TargetTable):
    target_table_sign(actor=org.head_a, table=table)
    refused(ErrorCode.INVALID, target_table_return, actor=org.director, table=table, reason="  ")
    returned = target_table_return(actor=org.director, table=table, reason="培训时长标准偏低")
    assert returned.state == State.RETURNED and returned.return_reason == "培训时长标准偏低"
    assert returned.signed_by_id is None  # the signature went with the returned version
    rows = [*ROWS[:2], RowSpec("加强队伍建设", "人均服务培训时长", "≥60 小时/年", "25")]
    edited = target_table_edit(actor=org.head_a, table=table, rows=rows, note="按审批意见提高")
    assert edited.state == State.DRAFT and edited.note == "按审批意见提高"
    assert table.rows.get(position=3).standard == "≥60 小时/年" and table.rows.count() == 3
    target_table_sign(actor=org.head_a, table=table)
    target_table_approve(actor=org.director, table=table)
    assert entries(table)[-1] == "targets.table_approve"
    assert verify_chain().ok


def test_an_approved_table_cannot_change_and_a_new_version_copies_it(org: OrgTree, table: TargetTable):
    target_table_sign(actor=org.head_a, table=table)
    target_table_approve(actor=org.director, table=table)
    error = refused(ErrorCode.INVALID, target_table_edit, actor=org.head_a, table=table, rows=ROWS)
    assert "new version" in error.why
    refused(ErrorCode.INVALID, target_table_sign, actor=org.head_a, table=table)
    v2 = target_table_revise(actor=org.head_a, table=table, note="年中调整")
    assert (v2.version, v2.based_on_id, v2.state) == (2, table.pk, State.DRAFT)
    assert list(v2.rows.values_list("indicator", "weight")) == list(
        table.rows.values_list("indicator", "weight")
    )
    # One open version at a time, whether by revising or by drafting anew.
    refused(ErrorCode.INVALID, target_table_revise, actor=org.head_a, table=table)
    refused(ErrorCode.INVALID, target_table_create, actor=org.head_a, unit=org.dept_a, year=2026, rows=ROWS)
    target_table_edit(actor=org.head_a, table=v2, rows=[*ROWS[:2], RowSpec("创新", "创新举措", "≥1项", 25)])
    table.refresh_from_db()
    assert table.state == State.APPROVED and table.rows.get(position=3).indicator == "人均服务培训时长"
    refused(ErrorCode.INVALID, target_table_revise, actor=org.head_a, table=v2)  # not approved
    assert verify_chain().ok


def test_bad_rows_are_refused_with_every_problem_and_nothing_is_stored(org: OrgTree):
    rows = [RowSpec("", "满意率", "≥98%", "50"), RowSpec("效率", "满意率", "", "0", "bogus")]
    error = refused(
        ErrorCode.INVALID, target_table_create, actor=org.head_a, unit=org.dept_a, year=2026, rows=rows
    )
    for part in (
        "第 1 行：目标不能为空",
        "第 2 行：标准不能为空",
        "第 2 行：权重须大于 0",
        "与第 1 行重复",
        "'bogus'",
    ):
        assert part in error.why
    assert "各行权重合计须为 100，现为 50" in error.why
    assert not TargetTable.objects.exists() and not TargetRow.objects.exists()
    assert not EvidenceEntry.objects.filter(object_type="targets.targettable").exists()


def test_a_bad_edit_leaves_the_draft_as_it_was(org: OrgTree, table: TargetTable):
    before = list(table.rows.values_list("indicator", "weight"))
    refused(ErrorCode.INVALID, target_table_edit, actor=org.head_a, table=table, rows=ROWS[:2])
    assert list(table.rows.values_list("indicator", "weight")) == before
    assert entries(table) == ["targets.table_create"]


def test_only_a_department_in_a_sensible_year_has_a_table(org: OrgTree):
    error = refused(
        ErrorCode.INVALID, target_table_create, actor=org.admin, unit=org.window_a, year=1999, rows=ROWS
    )
    assert "甲窗口 is not a department" in error.why and "year 1999 is outside" in error.why


def test_who_may_draft_sign_approve_and_return(org: OrgTree, table: TargetTable):
    # Outside the scope the table's department does not exist; inside it, the wrong role is forbidden.
    refused(ErrorCode.NOT_FOUND, target_table_create, actor=org.head_b, unit=org.dept_a, year=2026, rows=ROWS)
    refused(ErrorCode.NOT_FOUND, target_table_sign, actor=org.staff_a, table=table)
    refused(
        ErrorCode.FORBIDDEN, target_table_create, actor=org.director, unit=org.dept_a, year=2027, rows=ROWS
    )
    refused(ErrorCode.FORBIDDEN, target_table_sign, actor=org.director, table=table)
    refused(ErrorCode.FORBIDDEN, target_table_sign, actor=org.auditor, table=table)
    target_table_sign(actor=org.head_a, table=table)
    refused(ErrorCode.FORBIDDEN, target_table_approve, actor=org.head_a, table=table)
    refused(ErrorCode.FORBIDDEN, target_table_return, actor=org.head_a, table=table, reason="x")
    refused(ErrorCode.NOT_FOUND, target_table_approve, actor=org.head_b, table=table)
    assert TargetTable.objects.get().state == State.SIGNED
    assert entries(table) == ["targets.table_create", "targets.table_sign"]


def test_the_signer_cannot_approve_their_own_table(org: OrgTree):
    table = target_table_create(actor=org.admin, unit=org.dept_b, year=2026, rows=ROWS)
    target_table_sign(actor=org.admin, table=table)
    error = refused(ErrorCode.FORBIDDEN, target_table_approve, actor=org.admin, table=table)
    assert "signed" in error.why
    assert target_table_approve(actor=org.director, table=table).state == State.APPROVED


ACTORS = ["head_a", "director", "head_b", "staff_a"]
STEPS = ["edit", "sign", "approve", "return"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(ACTORS), st.sampled_from(STEPS)), max_size=8))
def test_the_stored_table_follows_the_state_machine_whatever_is_tried(
    org: OrgTree, steps: list[tuple[str, str]]
):
    """Each example on a fresh year: a step either is refused (nothing changes, no entry) or moves the
    stored state exactly as the pure machine does, with one entry; an approved table keeps its rows."""
    year = 2030 + TargetTable.objects.count()
    table = target_table_create(actor=org.head_a, unit=org.dept_a, year=year, rows=ROWS)
    expected = State.DRAFT
    logged = 1
    calls = {
        "edit": lambda actor: target_table_edit(actor=actor, table=table, rows=ROWS),
        "sign": lambda actor: target_table_sign(actor=actor, table=table),
        "approve": lambda actor: target_table_approve(actor=actor, table=table),
        "return": lambda actor: target_table_return(actor=actor, table=table, reason="请补充"),
    }
    for who, step in steps:
        actor = getattr(org, who)
        try:
            calls[step](actor)
        except KaopingError:
            pass
        else:
            assert who == ("director" if step in ("approve", "return") else "head_a")
            expected = transition(expected, Action(step))
            logged += 1
        stored = TargetTable.objects.get(pk=table.pk)
        assert stored.state == expected
        assert len(entries(table)) == logged
        if stored.state == State.APPROVED:
            assert stored.signed_by_id == org.head_a.pk and stored.approved_by_id == org.director.pk


# --- tasks ----------------------------------------------------------------------------------------


def test_a_task_is_issued_submitted_on_time_and_late_and_closed(org: OrgTree, time_machine: Any):
    time_machine.move_to(dt.datetime(2026, 7, 1, 9, 0, tzinfo=clock.local_zone()))
    task = issue(org, hours=24)
    assert task.name == "2026-06 窗口考核方案" or task.name.startswith("2026-06 ")
    assert sorted(task.units.values_list("unit__code", flat=True)) == ["WA", "WB"]
    on_time = task_submit(actor=org.head_a, task=task, unit=org.window_a, note="已填报")
    assert on_time.late is False and on_time.submitted_by_id == org.head_a.pk
    time_machine.move_to(dt.datetime(2026, 7, 2, 9, 30, tzinfo=clock.local_zone()))
    late = task_submit(actor=org.head_b, task=task, unit=org.window_b)
    assert late.late is True
    refused(ErrorCode.INVALID, task_submit, actor=org.head_a, task=task, unit=org.window_a)  # only once
    closed = task_close(actor=org.director, task=task)
    assert closed.state == "closed" and closed.closed_by_id == org.director.pk
    refused(ErrorCode.INVALID, task_close, actor=org.director, task=task)
    assert entries(task) == ["targets.task_issue", "targets.task_close"]
    assert entries(on_time) == ["targets.task_submit"]
    assert verify_chain().ok


def test_submissions_are_scoped_and_refused_after_closing(org: OrgTree, task: AssessmentTask):
    refused(ErrorCode.NOT_FOUND, task_submit, actor=org.head_a, task=task, unit=org.window_b)
    refused(ErrorCode.FORBIDDEN, task_submit, actor=org.staff_a, task=task, unit=org.window_a)  # reads only
    refused(ErrorCode.INVALID, task_submit, actor=org.head_a, task=task, unit=org.dept_a)  # not in the task
    refused(ErrorCode.FORBIDDEN, task_close, actor=org.head_a, task=task)
    task_close(actor=org.director, task=task)
    refused(ErrorCode.INVALID, task_submit, actor=org.head_a, task=task, unit=org.window_a)
    assert not TaskUnit.objects.filter(submitted_at__isnull=False).exists()


def test_a_bad_task_is_refused_with_every_problem(org: OrgTree):
    now = clock.now()
    error = refused(
        ErrorCode.INVALID,
        task_issue,
        actor=org.director,
        centre=org.centre,
        scheme_code="window",
        period="2026-Q3",
        units=[org.window_a, org.dept_b, org.window_a, org.region],
        data_due_at=now - dt.timedelta(hours=1),
        results_due_at=now - dt.timedelta(hours=2),
    )
    for part in (
        "per month, but '2026-Q3' is a quarter",
        "has already passed",
        "results cannot be due before the data",
        "甲窗口 is listed twice",
        "does not assess 乙科",
        "测试市 is not under",
    ):
        assert part in error.why, error.why
    error = refused(
        ErrorCode.INVALID,
        task_issue,
        actor=org.director,
        centre=org.centre,
        scheme_code="nope",
        period="2026-13",
        units=[],
        data_due_at=dt.datetime(2030, 1, 1),  # noqa: DTZ001 - refused: naive on purpose
        results_due_at=dt.datetime(2030, 1, 2),  # noqa: DTZ001
    )
    for part in (
        "no scheme 'nope'",
        "month 13 does not exist",
        "data_due_at has no time zone",
        "at least one unit",
    ):
        assert part in error.why, error.why
    assert not AssessmentTask.objects.exists() and not TaskUnit.objects.exists()


def test_only_a_director_over_the_centre_issues_tasks(org: OrgTree):
    now = clock.now()
    kwargs: dict[str, Any] = {
        "centre": org.centre,
        "scheme_code": "department_external",
        "period": period_for("department_external"),
        "units": [org.dept_a],
        "data_due_at": now + dt.timedelta(days=3),
        "results_due_at": now + dt.timedelta(days=9),
    }
    refused(ErrorCode.NOT_FOUND, task_issue, actor=org.head_a, **kwargs)
    refused(ErrorCode.FORBIDDEN, task_issue, actor=org.auditor, **kwargs)
    task = task_issue(actor=org.director, **kwargs)
    assert task.period == kwargs["period"] and task.units.get().unit == org.dept_a


def test_the_analysis_meeting_records_measures_per_unit_after_closing(org: OrgTree, task: AssessmentTask):
    today = clock.today()
    measures = [
        MeasureSpec(org.window_a, "增设午间错峰窗口", "张三", today + dt.timedelta(days=30)),
        MeasureSpec(org.window_b, "一次性告知清单上墙"),
    ]
    kwargs: dict[str, Any] = {
        "task": task,
        "held_on": today,
        "summary": "分析等候时长偏长的原因",
        "measures": measures,
    }
    refused(ErrorCode.INVALID, meeting_record, actor=org.director, **kwargs)  # still open
    task_close(actor=org.director, task=task)
    task.refresh_from_db()
    refused(ErrorCode.FORBIDDEN, meeting_record, actor=org.auditor, **kwargs)
    error = refused(
        ErrorCode.INVALID,
        meeting_record,
        actor=org.director,
        **kwargs
        | {
            "held_on": today + dt.timedelta(days=1),
            "summary": " ",
            "measures": [MeasureSpec(org.dept_a, " "), MeasureSpec(org.window_a, "x", due_on=today)],
        },
    )
    for part in (
        "in the future",
        "summary is required",
        "not issued to 甲科",
        "measure 1: say what",
        "before the meeting",
    ):
        assert part in error.why, error.why
    assert not AnalysisMeeting.objects.exists()
    meeting = meeting_record(actor=org.director, attendees="王主任、各科长", **kwargs)
    assert [(m.unit.code, m.owner) for m in meeting.measures.order_by("pk")] == [("WA", "张三"), ("WB", "")]
    assert entries(meeting) == ["targets.meeting_record"]
    assert verify_chain().ok


def test_evidence_catches_a_row_changed_behind_the_logs_back(org: OrgTree, table: TargetTable):
    TargetRow.objects.filter(table=table, position=1).update(weight=Decimal("45"))
    report = verify_chain()
    assert not report.ok
