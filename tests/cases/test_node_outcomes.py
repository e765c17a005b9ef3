"""Per-node outcomes (finished on time / late / not yet) and the counter wait, for the assessment metrics."""

from __future__ import annotations

import datetime as dt

import pytest

from kaoping.cases.deadlines import Event, EventKind, Timeline, counter_wait_seconds, evaluate, finished_late
from kaoping.cases.models import Case
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.limits import Limit
from tests.cases.test_ingest import case, event, ingest
from tests.workcal.official import official_calendar

CAL = official_calendar()
LIMITS = {
    "appointment_response": Limit.parse("15 wmin"),
    "acceptance": Limit.parse("30 wmin"),
    "handling": Limit.parse("3 wd"),
    "result_delivery": Limit.parse("24 h"),
}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def run(events: list[tuple[str, str]], now: str, received: str = "2026-03-02T09:00") -> Timeline:
    return evaluate(
        [Event(at(when), EventKind(kind)) for kind, when in events],
        limits=LIMITS,
        calendar=CAL,
        now=at(now),
        received_at=at(received),
    )


def test_a_counter_wait_is_the_working_time_from_arrival_to_acceptance():
    timeline = run([("arrived", "2026-03-02T09:00"), ("accepted", "2026-03-02T09:20")], "2026-03-02T10:00")
    assert counter_wait_seconds(timeline) == 20 * 60
    assert finished_late(timeline.node("acceptance")) is False


def test_lunch_does_not_count_in_the_wait_and_a_late_acceptance_is_late():
    # 11:50 → 12:00 and 13:30 → 13:55: 35 working minutes, past the 30-minute limit (due 13:50).
    timeline = run([("arrived", "2026-03-02T11:50"), ("accepted", "2026-03-02T13:55")], "2026-03-02T15:00")
    assert counter_wait_seconds(timeline) == 35 * 60
    assert finished_late(timeline.node("acceptance")) is True


def test_online_cases_have_no_counter_wait_but_their_acceptance_is_judged():
    timeline = run([("accepted", "2026-03-02T09:10")], "2026-03-02T10:00")
    assert counter_wait_seconds(timeline) is None
    assert finished_late(timeline.node("acceptance")) is False


def test_running_and_absent_nodes_have_no_outcome():
    timeline = run([("arrived", "2026-03-02T09:00"), ("accepted", "2026-03-02T09:20")], "2026-03-20T10:00")
    handling = timeline.node("handling")
    assert handling.status.value == "overdue" and finished_late(handling) is None  # late, but not finished
    assert finished_late(timeline.node("appointment_response")) is None  # no appointment
    waiting = run([("arrived", "2026-03-02T09:00")], "2026-03-02T09:10")
    assert counter_wait_seconds(waiting) is None  # not accepted yet


@pytest.mark.django_db
def test_ingestion_stores_the_outcomes_and_the_wait(org, calendar_db):
    from kaoping.catalog.services import matter_create

    matter_create(
        actor=org.admin,
        code="M-COM",
        name="承诺事项",
        kind="committed",
        owner=org.window_a,
        channels=["window"],
    )
    ingest(
        case(),
        event("e1", "arrived", "2026-03-02T09:00"),
        event("e2", "accepted", "2026-03-02T09:45"),
        event("e3", "handled", "2026-03-03T10:00"),
        case("C2"),
        event("f1", "arrived", "2026-03-02T09:00", case_id="C2"),
    )
    done, waiting = Case.objects.get(external_id="C1"), Case.objects.get(external_id="C2")
    assert (done.acceptance_late, done.handling_late, done.delivery_late, done.appointment_late) == (
        True,
        False,
        None,
        None,
    )
    assert done.wait_minutes == 45.0
    assert (waiting.acceptance_late, waiting.wait_minutes) == (None, None)
