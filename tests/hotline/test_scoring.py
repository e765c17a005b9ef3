"""Scoring the hotline through the assessment engine (R3.3, R3.4, R3.5): handling units from their
tickets, call takers and monitors one by one from calls, tickets and quality findings, with their
manual items; stored runs carry the incentive cut and the award eligibility."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser

from kaoping.assessment.assess import parse_period, scheme_by_code, subjects_for
from kaoping.assessment.hotline_metrics import records
from kaoping.assessment.metrics import compute, compute_staff
from kaoping.assessment.models import AssessmentResult
from kaoping.assessment.selectors import result_get
from kaoping.assessment.services import (
    assessment_run,
    manual_code_define,
    manual_entry_submit,
    schemes_load_defaults,
)
from kaoping.core.errors import KaopingError
from kaoping.evidence.verify import verify_chain
from kaoping.hotline.imports import hotline_ingest
from kaoping.hotline.models import FindingKind
from kaoping.hotline.quality import FindingRow, finding_record, findings_store
from kaoping.org.models import Staff
from kaoping.org.services import staff_create
from tests.hotline.conftest import Hotline, at

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _ticket(tid: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ticket",
        "source": "12345",
        "id": tid,
        "centre": "H1",
        "category": "request",  # 5 working days: dispatched 2 March 10:05, due 9 March 17:30
        "content": "楼顶漏水",
        "received_at": "2026-03-02T10:00:00+08:00",
        "call_taker": "CT01",
        **extra,
    }


def _event(tid: str, n: int, action: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "source": "12345",
        "id": f"{tid}-{n}",
        "ticket": tid,
        "action": action,
        "at": f"2026-03-{when}:00+08:00",
        **extra,
    }


def _closed(tid: str, unit: str = "HU-A", reply: str = "03T12:00", *, first: str = "satisfied") -> list[Any]:
    """A ticket dispatched to ``unit`` and closed; ``first``: the centre's first revisit (after a
    dissatisfied one the unit handles it again and replies by its deadline, then 满意)."""
    revisit = "20" if first == "satisfied" else "04"
    out = [
        _ticket(tid),
        _event(tid, 1, "dispatch", "02T10:05", unit=unit),
        _event(tid, 2, "sign", "02T11:00"),
        _event(tid, 3, "handle", reply),
        _event(tid, 4, "reply", reply),
        _event(tid, 5, "unit_revisit", f"{revisit}T09:00", satisfaction="satisfied"),
        _event(tid, 6, "centre_revisit", f"{revisit}T10:00", satisfaction=first),
    ]
    if first != "satisfied":
        out += [
            _event(tid, 7, "handle", "05T10:00"),
            _event(tid, 8, "reply", "05T11:00"),
            _event(tid, 9, "unit_revisit", "06T09:00", satisfaction="satisfied"),
            _event(tid, 10, "centre_revisit", "06T10:00", satisfaction="satisfied"),
        ]
    return out


def _extended(tid: str) -> list[Any]:
    """Asked on 5 March for 20 March, approved, replied on the 16th: on time by its extension."""
    base = _closed(tid, reply="16T12:00")
    return [
        *base[:3],
        _event(tid, 20, "extension_request", "05T09:00", until="2026-03-20T17:30:00+08:00"),
        _event(tid, 21, "extension_decide", "05T15:00", outcome="approved"),
        *base[3:],
    ]


def _calls(count: int, agent: str) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(
            minutes=5 * n
        )
        out.append(
            {
                "type": "call",
                "source": "acd",
                "id": f"C{n}",
                "centre": "H1",
                "started_at": start.isoformat(),
                "answered_at": (start + dt.timedelta(seconds=8)).isoformat(),
                "ended_at": (start + dt.timedelta(minutes=3)).isoformat(),
                "agent": agent,
            }
        )
    return out


def _ingest(rows: list[dict[str, Any]]) -> None:
    report = hotline_ingest(
        actor="test", records=[(f"line {i + 1}", r) for i, r in enumerate(rows)], label="scoring"
    )
    assert report.rejected == []


MANUAL = {
    "discipline_violations": "违反劳动纪律",
    "appearance_violations": "仪容仪表不合规",
    "hygiene_violations": "环境卫生不合格",
    "safety_violations": "安全隐患或违规",
    "handover_violations": "工作交接不到位",
    "data_leak": "泄露群众个人信息",
    "commendations": "群众表扬",
    "meeting_absences": "未按要求参会或组织培训",
    "archive_deficiencies": "档案整理不合格",
    "publicity_shortfalls": "宣传工作未完成",
}


def _manual(actor: AbstractUser, values: dict[str, float], *, unit: Any, staff: Staff | None = None) -> None:
    for code, value in values.items():
        manual_entry_submit(
            actor=actor,
            unit=unit,
            staff=staff,
            code=code,
            period_start=MARCH[0],
            period_end=MARCH[1],
            value=value,
            evidence="三月考勤与巡查记录",
        )


@pytest.fixture
def month(hot: Hotline, time_machine: Any) -> dict[str, Any]:
    """March 2026 at the test hotline: tickets, calls, findings and manual values, assessed on
    2 April (an overdue ticket counts once its deadline has passed)."""
    time_machine.move_to(at("2026-04-02T09:00"), tick=False)
    admin = hot.org.admin
    schemes_load_defaults(actor=admin)
    for code, name in MANUAL.items():
        manual_code_define(actor=admin, code=code, name=name, low=0, high=1000)
    ct = Staff.objects.get(employee_no="CT01")
    mo = staff_create(actor=admin, unit=hot.centre, name="周质检", employee_no="MO01", user=hot.monitor)  # type: ignore[arg-type]
    # Unit A: T1 on time; T2 late and never urged; T3 on time by an approved extension; T4 reopened
    # once (不满意, then 满意); T5–T10 on time. Unit B: U1 on time.
    rows = [
        *_closed("T1"),
        *_closed("T2", reply="12T12:00"),
        *_extended("T3"),
        *_closed("T4", first="dissatisfied"),
    ]
    for n in range(5, 11):
        rows += _closed(f"T{n}")
    rows += _closed("U1", unit="HU-B")
    rows += _calls(520, "CT01")
    _ingest(rows)
    # The monitor's findings: three record errors and a complaint against the call taker, and the
    # late ticket T2 named as not urged (counted once with the automatic count); against the monitor
    # eight missed error checks and two inaccurate replies.
    found = at("2026-03-25T10:00")
    for n in range(3):
        finding_record(
            actor=hot.monitor, staff=ct, kind=FindingKind.RECORD_ERROR, note=f"地址错录{n}", found_at=found
        )
    finding_record(
        actor=hot.hallmgr, staff=ct, kind="complaint", note="来电人投诉态度生硬，经核实", found_at=found
    )
    from kaoping.hotline.models import Ticket

    t2 = Ticket.objects.get(external_id="T2")
    finding_record(
        actor=hot.monitor,
        staff=ct,
        kind=FindingKind.MISSED_URGE_REVISIT,
        note="超时未督办",
        found_at=found,
        ticket=t2,
    )
    stored = findings_store(
        actor="test",
        rows=[
            FindingRow("qc", f"M{n}", "MO01", FindingKind.MISSED_ERROR_CHECK, found, "差错漏查")
            for n in range(8)
        ]
        + [
            FindingRow("qc", f"R{n}", "MO01", FindingKind.REPLY_QUALITY_ERROR, found, "回复不准确")
            for n in range(2)
        ],
    )
    assert stored == 10
    zero = dict.fromkeys(
        ["discipline_violations", "appearance_violations", "hygiene_violations", "safety_violations"], 0.0
    ) | {"handover_violations": 0.0, "data_leak": 0.0, "commendations": 0.0}
    _manual(admin, zero | {"discipline_violations": 2}, unit=hot.centre, staff=ct)
    _manual(admin, zero | {"hygiene_violations": 1}, unit=hot.centre, staff=mo)
    unit_zero = {"meeting_absences": 0.0, "archive_deficiencies": 0.0, "publicity_shortfalls": 0.0}
    _manual(admin, unit_zero | {"meeting_absences": 1}, unit=hot.unit_a)
    _manual(admin, unit_zero, unit=hot.unit_b)
    return {"ct": ct, "mo": mo}


def test_handling_unit_metrics_count_closure_extension_reopen_and_satisfaction(
    hot: Hotline, month: Any
) -> None:
    names = [
        "ticket_on_time_closure_rate",
        "ticket_overdue_count",
        "ticket_extended_count",
        "ticket_reopen_count",
        "ticket_urge_rate",
        "first_revisit_rate",
        "ticket_satisfaction_rate",
        "call_answer_rate",
    ]
    values = compute(
        names, unit_ids=[hot.unit_a.pk, hot.unit_b.pk, hot.centre.pk], start=MARCH[0], end=MARCH[1]
    )
    a = values[hot.unit_a.pk]
    assert (a["ticket_on_time_closure_rate"].numerator, a["ticket_on_time_closure_rate"].denominator) == (
        9,
        10,
    )
    assert a["ticket_overdue_count"].value == 1 and a["ticket_extended_count"].value == 1
    assert a["ticket_reopen_count"].value == 1 and a["ticket_urge_rate"].value == 0
    # T4: the unit's first revisit reported 满意, the centre's found 不满意: 9 of 10 agree.
    assert (a["first_revisit_rate"].numerator, a["first_revisit_rate"].denominator) == (9, 10)
    # Eleven centre revisits (T4 twice), ten 满意.
    sat = a["ticket_satisfaction_rate"]
    assert (sat.numerator, sat.denominator) == (10, 11) and "中心回访11次" in sat.basis
    assert a["call_answer_rate"].value is None  # a handling unit takes no calls
    # The centre covers its handling units' tickets and has the calls.
    centre = values[hot.centre.pk]
    assert centre["ticket_on_time_closure_rate"].denominator == 11
    assert centre["call_answer_rate"].value == 100
    # The click-through lists the late ticket.
    late = records("ticket_overdue_count", start=MARCH[0], end=MARCH[1], unit=hot.unit_a)
    assert [t.external_id for t in late] == ["T2"]


def test_person_metrics_come_from_their_calls_tickets_and_findings(hot: Hotline, month: Any) -> None:
    ct, mo = month["ct"], month["mo"]
    names = [
        "calls_handled",
        "record_error_count",
        "missed_urge_revisit_count",
        "staff_complaint_count",
        "missed_error_check_count",
        "reply_quality_error_count",
        "manual:discipline_violations",
        "satisfaction_rate",
    ]
    values = compute_staff(names, staff_ids=[ct.pk, mo.pk], start=MARCH[0], end=MARCH[1])
    mine = values[ct.pk]
    assert mine["calls_handled"].value == 520
    assert mine["record_error_count"].value == 3 and mine["staff_complaint_count"].value == 1
    # T2: named by a finding and late without an urge: one missed urge, not two.
    assert mine["missed_urge_revisit_count"].value == 1
    assert mine["manual:discipline_violations"].value == 2
    assert mine["satisfaction_rate"].value is None  # a unit's metric: not assessable for a person
    theirs = values[mo.pk]
    assert theirs["missed_error_check_count"].value == 8 and theirs["reply_quality_error_count"].value == 2
    assert theirs["calls_handled"].value == 0 and theirs["record_error_count"].value == 0
    # Who the staff scheme assesses: the call taker and the monitor, in their roles.
    subjects = subjects_for(scheme_by_code("hotline_staff"))
    assert [(s.code, s.role) for s in subjects] == [("CT01", "call_taker"), ("MO01", "monitor")]


def test_stored_runs_carry_the_seeds_arithmetic(hot: Hotline, month: Any) -> None:
    staff_run = assessment_run(actor="test", scheme_code="hotline_staff", period="2026-03")
    results = {r.subject_code: r for r in staff_run.results.select_related("staff", "unit")}
    assert set(results) == {"CT01", "MO01"}
    ct = results["CT01"]
    # 100 − call volume (520 of 600: one whole step of 50, −2) − record errors (3 × 1) − missed urge
    # (1 × 2) − complaint (1 × 5) − discipline (2 × 2) = 84; incentive 600 × 16 / 100 = 96.00 cut.
    assert ct.staff == month["ct"] and ct.unit == hot.centre and ct.role == "call_taker"
    assert ct.total == Decimal("84.00") and ct.deducted == Decimal("16.00")
    assert ct.incentive_cut == Decimal("96.00") and ct.award_eligible is True
    assert ct.grade == "good" and ct.complete
    mo = results["MO01"]
    # 100 − missed error checks (8 × 2) − reply errors (2 × 2) − hygiene (1 × 1) = 79 < 80: the award
    # eligibility is lost (R3.5); 600 × 21 / 100 = 126.00 cut.
    assert mo.total == Decimal("79.00") and mo.incentive_cut == Decimal("126.00")
    assert mo.award_eligible is False and mo.role == "monitor"
    lines = {line["indicator"]: line for line in mo.lines}
    assert "call_volume" not in lines and lines["error_checks"]["deducted"] == "16.00"
    # Each role ranked on its own.
    assert (ct.rank, mo.rank) == (1, 1)

    unit_run = assessment_run(actor="test", scheme_code="hotline_unit", period="2026-03")
    by_unit = {r.subject_code: r for r in unit_run.results.select_related("unit")}
    assert set(by_unit) == {"HU-A", "HU-B"}
    a = by_unit["HU-A"]
    # 100 − meeting (1 × 2) − overdue (1 × 2) − extended (1 × 0.5) − first revisit agreement (90 %:
    # one whole step of 5 below 95 %, × 2) − satisfaction (90.91%: 4 whole points below 95 %, × 2 = 8)
    # − reopened (1 × 1) = 84.5
    assert a.total == Decimal("84.50") and a.staff is None and a.incentive_cut is None
    assert by_unit["HU-B"].total == Decimal("100.00") and (a.rank, by_unit["HU-B"].rank) == (2, 1)

    # The stored digests hold, and a person's result is found by employee number.
    assert verify_chain().ok
    assert staff_run.evidence_state()["stored_results"] == staff_run.results_digest
    assert result_get(hot.org.admin, staff_run, "MO01").staff == month["mo"]
    assert AssessmentResult.objects.filter(assessment=staff_run, staff__isnull=True).count() == 0
    # Recomputing the same data gives the same digest.
    again = assessment_run(actor="test", scheme_code="hotline_staff", period="2026-03")
    assert again.results_digest == staff_run.results_digest


def test_findings_are_refused_outside_the_checkers_scope_and_the_hotline(hot: Hotline, month: Any) -> None:
    ct = month["ct"]
    with pytest.raises(KaopingError, match="only a monitor"):
        finding_record(actor=hot.staff_a, staff=ct, kind="record_error", note="x")
    with pytest.raises(KaopingError, match="not one of"):
        finding_record(actor=hot.monitor, staff=ct, kind="gossip", note="x")
    window_person = staff_create(actor=hot.org.admin, unit=hot.org.window_a, name="甲", employee_no="W1")
    with pytest.raises(KaopingError, match="not staff of a hotline centre"):
        finding_record(actor=hot.org.admin, staff=window_person, kind="record_error", note="x")
    with pytest.raises(KaopingError, match="does not serve"):
        manual_entry_submit(
            actor=hot.org.admin,
            unit=hot.unit_a,
            staff=ct,
            code="discipline_violations",
            period_start=MARCH[0],
            period_end=MARCH[1],
            value=1,
            evidence="x",
        )
    assert parse_period("2026-03").start == MARCH[0]


def test_an_exemption_on_a_persons_result_is_theirs(hot: Hotline, month: Any) -> None:
    from kaoping.assessment.services import exemption_approve

    run = assessment_run(actor="test", scheme_code="hotline_staff", period="2026-03")
    mo = run.results.get(staff=month["mo"])
    line = next(line for line in mo.lines if line["indicator"] == "error_checks")
    exemption = exemption_approve(
        actor=hot.org.admin,
        result=mo,
        indicator="error_checks",
        deduction_key=line["deductions"][0]["key"],
        reason="质检系统升级期间的漏查，经核实非本人原因",
    )
    assert exemption.staff == month["mo"]
    again = assessment_run(actor="test", scheme_code="hotline_staff", period="2026-03")
    results = {r.subject_code: r for r in again.results.select_related("staff", "unit")}
    assert results["MO01"].total == mo.total + 2  # one missed error check (−2) forgiven
    assert results["CT01"].total == run.results.get(staff=month["ct"]).total  # the colleague unchanged


def test_the_records_behind_the_overdue_line_say_when_the_reply_came_and_when_it_was_due(
    hot: Hotline, month: Any
) -> None:
    from django.test import Client
    from django.utils.timezone import localtime

    from kaoping.assessment.services import assessment_publish
    from kaoping.hotline.models import Ticket

    run = assessment_run(actor="test", scheme_code="hotline_unit", period="2026-03")
    assessment_publish(actor=hot.org.admin, assessment=run)
    client = Client()
    client.force_login(hot.org.admin)  # type: ignore[arg-type]
    page = client.get(f"/assessment/{run.pk}/u/HU-A/overdue/")
    assert page.status_code == 200
    table = page.content.decode().split('data-testid="records"')[1]
    due = Ticket.objects.get(external_id="T2").due_at
    assert due is not None
    assert f"答复 03-12 12:00，时限 {localtime(due):%m-%d %H:%M}" in table
    assert table.count('href="/hotline/tickets/') == 1
