"""Ingestion: one validation path, idempotent, late and out-of-order events, bad input; the sweep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.cases.ingest import Lookups, RecordError, _within
from kaoping.cases.models import Case, CaseEvent, CaseWarning
from kaoping.cases.services import cases_ingest, cases_sweep, warning_acknowledge
from kaoping.catalog.services import matter_create
from kaoping.core.errors import KaopingError
from kaoping.evidence.verify import verify_chain
from kaoping.workcal.calendar import SHANGHAI


@pytest.fixture
def matters(org, calendar_db):
    matter_create(
        actor=org.admin,
        code="M-IMM",
        name="即办事项",
        kind="immediate",
        owner=org.window_a,
        channels=["window", "online"],
    )
    matter_create(
        actor=org.admin,
        code="M-COM",
        name="承诺事项",
        kind="committed",
        owner=org.window_a,
        channels=["window"],
    )
    return org


def case(case_id: str = "C1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "case",
        "source": "hall",
        "id": case_id,
        "matter": "M-COM",
        "unit": "WA",
        "channel": "window",
        "applicant_kind": "person",
        "received_at": "2026-03-02T09:00:00+08:00",
        "applicant_name": "张三",
        "applicant_phone": "13812341234",
        **extra,
    }


def event(event_id: str, kind: str, when: str, case_id: str = "C1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "source": "hall",
        "id": event_id,
        "case": case_id,
        "event": kind,
        "at": f"{when}:00+08:00",
        **extra,
    }


def ingest(*records: dict[str, Any], orphans: str = "defer"):
    return cases_ingest(
        actor="test",
        records=[(f"line {i}", r) for i, r in enumerate(records, 1)],
        label="test",
        orphans=orphans,
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_a_case_and_its_events_land_and_get_deadlines(matters):
    report = ingest(
        case(), event("e1", "arrived", "2026-03-02T09:00"), event("e2", "accepted", "2026-03-02T09:20")
    )
    assert (report.accepted_cases, report.accepted_events, report.rejected) == (1, 2, [])
    stored = Case.objects.get()
    assert stored.handling_due_at == at("2026-03-05T17:30")
    assert stored.current_node == "handling" and stored.status == "open"
    assert verify_chain().ok


def test_sending_the_same_records_twice_counts_once(matters):
    records = [
        case(),
        event("e1", "arrived", "2026-03-02T09:00"),
        event("e2", "accepted", "2026-03-02T09:20"),
    ]
    ingest(*records)
    again = ingest(*records, records[1])
    assert again.accepted == 0 and again.duplicates == 4
    assert (Case.objects.count(), CaseEvent.objects.count()) == (1, 2)


def test_late_and_out_of_order_events_are_recomputed(matters, time_machine):
    time_machine.move_to(at("2026-03-03T11:00"))
    ingest(case(), event("e3", "handled", "2026-03-03T10:00"))
    stored = Case.objects.get()
    # Handled, but its handling time cannot be judged until the acceptance is known.
    assert stored.status == "closed" and stored.handling_due_at is None
    ingest(event("e2", "accepted", "2026-03-02T09:20"))  # arrives late, belongs before e3
    stored.refresh_from_db()
    assert stored.handling_due_at == at("2026-03-05T17:30") and not stored.overdue
    # Later still, the arrival: 08:40, before opening, so the 30-minute clock ran from 09:00 only.
    ingest(event("e1", "arrived", "2026-03-02T08:40"))
    stored.refresh_from_db()
    assert stored.accepted_at == at("2026-03-02T09:20") and not stored.overdue
    ingest(
        event("e0", "arrived", "2026-03-02T08:00", case_id="C2"),
        case("C2"),
        event("e9", "accepted", "2026-03-02T09:50", case_id="C2"),
    )
    late = Case.objects.get(external_id="C2")
    assert late.overdue and late.breaker  # 50 of 30 working minutes: more than 130%


def test_rejected_rows_are_reported_while_valid_ones_land(matters):
    report = ingest(
        case("C1"),
        case("C2", matter="NOPE"),
        case("C3", unit="ZZ"),
        case("C4", received_at="2026-03-02T09:00"),
        case("C5", channel="home_visit"),
        event("e1", "extension_granted", "2026-03-03T10:00", case_id="C1", reason="复杂", limit="5 wd"),
        event("e2", "teleported", "2026-03-03T10:00", case_id="C1"),
        case("C6"),
    )
    reasons = {r.where: r.reason for r in report.rejected}
    assert reasons == {
        "line 2": "matter: unknown matter 'NOPE'",
        "line 3": "unit: unknown unit 'ZZ'",
        "line 4": "received_at: 2026-03-02T09:00:00 has no UTC offset (e.g. +08:00)",
        "line 5": "channel: matter M-COM is not offered through 'home_visit'",
        "line 6": "approver: is required",
        "line 7": "event: 'teleported' is not a known event kind",
    }
    assert sorted(Case.objects.values_list("external_id", flat=True)) == ["C1", "C6"]


def test_an_instant_outside_the_calendar_is_refused(matters):
    """A deadline cannot be worked out before the calendar's first year: the record is refused with
    its field, rather than failing the batch (or a file import) when the case is evaluated."""
    report = ingest(
        case("C1"),
        case("C2", received_at="1999-06-01T09:00:00+08:00"),
        event("e1", "arrived", "1999-06-01T09:00", case_id="C1"),
        event("e2", "arrived", "2026-03-02T09:00", case_id="C1"),
    )
    reasons = {r.where: r.reason for r in report.rejected}
    assert sorted(reasons) == ["line 2", "line 3"]
    assert reasons["line 2"].startswith(
        "received_at: 1999-06-01T09:00:00+08:00 is outside the working-time calendar's span (2000–"
    )
    assert reasons["line 3"].startswith("at: 1999-06-01T09:00:00+08:00 is outside")
    assert list(Case.objects.values_list("external_id", flat=True)) == ["C1"]
    assert list(CaseEvent.objects.values_list("external_id", flat=True)) == ["e2"]


def test_an_event_before_its_case(matters):
    api = ingest(event("e1", "arrived", "2026-03-02T09:00", case_id="C9"), orphans="reject")
    assert "no case 'C9'" in api.rejected[0].reason
    # A file may list the event first: it is held back until its case has landed.
    file = ingest(event("e1", "arrived", "2026-03-02T09:00", case_id="C9"), case("C9"))
    assert file.accepted_events == 1 and not file.rejected


def test_a_pause_and_an_extension_move_the_deadline(matters):
    ingest(
        case(),
        event("e1", "accepted", "2026-03-02T10:00"),
        event("e2", "pause_started", "2026-03-03T10:00", pause_kind="supplement"),
        event("e3", "pause_ended", "2026-03-05T10:00"),
    )
    assert Case.objects.get().handling_due_at == at("2026-03-09T17:30")
    ingest(
        event(
            "e4",
            "extension_granted",
            "2026-03-06T10:00",
            reason="需专家评审",
            approver="王主任",
            limit="10 wd",
        )
    )
    assert Case.objects.get().handling_due_at == at("2026-03-18T17:30")


def test_the_sweep_raises_each_warning_once_and_it_can_be_acknowledged(matters, time_machine):
    time_machine.move_to(at("2026-03-02T09:00"))
    ingest(case("Q1", matter="M-IMM"), event("q1", "arrived", "2026-03-02T09:00", case_id="Q1"))
    assert cases_sweep(now=at("2026-03-02T09:10")).raised == 0
    assert cases_sweep(now=at("2026-03-02T09:25")).raised == 1  # due soon at 80% of 30 minutes
    assert cases_sweep(now=at("2026-03-02T09:31")).raised == 1  # overdue
    assert cases_sweep(now=at("2026-03-02T09:40")).raised == 1  # breaker: 130% of 30 minutes
    assert cases_sweep(now=at("2026-03-02T09:45")).raised == 0
    kinds = sorted(CaseWarning.objects.values_list("kind", flat=True))
    assert kinds == ["breaker", "due_soon", "overdue"]
    warning = CaseWarning.objects.get(kind="breaker")
    warning_acknowledge(actor=matters.head_a, warning_id=warning.pk)
    warning.refresh_from_db()
    assert warning.acknowledged_by == matters.head_a and warning.acknowledged_at is not None
    with pytest.raises(KaopingError):
        warning_acknowledge(actor=matters.head_b, warning_id=warning.pk)
    assert verify_chain().ok


def test_a_handled_case_still_warns_when_its_result_is_not_delivered_in_24_hours(matters):
    ingest(case(), event("e1", "accepted", "2026-03-06T09:00"), event("e2", "handled", "2026-03-06T15:00"))
    stored = Case.objects.get()
    assert stored.status == "closed" and stored.current_node == "result_delivery"
    assert cases_sweep(now=at("2026-03-07T15:01")).raised == 2  # due soon and overdue, on a Saturday
    assert set(CaseWarning.objects.values_list("node", "kind")) == {
        ("result_delivery", "due_soon"),
        ("result_delivery", "overdue"),
    }


_SPAN = (
    dt.datetime(2000, 1, 1, tzinfo=SHANGHAI),
    dt.datetime(2057, 1, 1, tzinfo=SHANGHAI),
)


@given(
    instant=st.datetimes(
        min_value=dt.datetime(1998, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
        max_value=dt.datetime(2059, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from([dt.timezone(dt.timedelta(hours=h)) for h in (-23, -12, -5, 0, 8, 14, 23)]),
    ).filter(lambda value: value.tzinfo is not None),
    near_an_edge=st.booleans(),
    shift=st.integers(min_value=-50 * 3600, max_value=50 * 3600),
)
def test_an_instant_is_within_the_calendar_span_exactly_when_it_lies_in_it(
    instant: dt.datetime, near_an_edge: bool, shift: int
) -> None:
    """``_within`` decides most instants by their year alone; its answer is still the exact one,
    whatever the offset and however near an end of the span (both ends tried, to the second)."""
    if near_an_edge:
        edge = _SPAN[shift % 2]
        instant = (edge + dt.timedelta(seconds=shift)).astimezone(instant.tzinfo)
    lookups = Lookups(matters={}, units={}, staff={}, span=_SPAN)
    inside = _SPAN[0] <= instant < _SPAN[1]
    try:
        assert _within(instant, "at", lookups) is instant
        accepted = True
    except RecordError as exc:
        assert exc.field == "at"
        accepted = False
    assert accepted == inside
