"""Node deadlines, pauses, extensions and the breaker on the official calendar (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.cases.deadlines import Event, EventKind, NodeStatus, evaluate
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.limits import Limit
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


def ev(kind: str, when: str, **extra: str) -> Event:
    return Event(at(when), EventKind(kind), **extra)


def run(events: list[Event], now: str, **limits: Limit):
    return evaluate(events, limits={**LIMITS, **limits}, calendar=CAL, now=at(now), received_at=events[0].at)


def test_acceptance_across_lunch_is_on_time_then_overdue():
    events = [ev("arrived", "2026-03-02T11:50")]
    assert run(events, "2026-03-02T11:59").node("acceptance").status is NodeStatus.ON_TIME
    # 11:50 + 30 working minutes = 13:50 (lunch does not count).
    node = run(events, "2026-03-02T13:45").node("acceptance")
    assert node.due_at == at("2026-03-02T13:50") and node.status is NodeStatus.DUE_SOON
    assert run(events, "2026-03-02T13:51").node("acceptance").status is NodeStatus.OVERDUE


def test_breaker_trips_past_130_percent():
    events = [ev("arrived", "2026-03-02T09:00")]
    assert not run(events, "2026-03-02T09:39").node("acceptance").breaker  # 39 of 30 minutes = 130%
    node = run(events, "2026-03-02T09:40").node("acceptance")
    assert node.breaker and node.breaker_at == at("2026-03-02T09:39:01")


def test_handling_across_a_holiday_and_done_late():
    events = [
        ev("arrived", "2025-09-26T09:00"),
        ev("accepted", "2025-09-26T09:20"),
        ev("handled", "2025-10-09T10:00"),
    ]
    node = run(events, "2025-10-10T10:00").node("handling")
    # 3 working days after Fri 26 Sep: Sun 28 (make-up), Mon 29, Tue 30 → due 30 Sep 17:30.
    assert node.due_at == at("2025-09-30T17:30")
    assert node.status is NodeStatus.DONE_LATE


def test_a_supplement_pause_stops_the_clock():
    events = [
        ev("accepted", "2026-03-02T10:00"),
        ev("pause_started", "2026-03-03T10:00", pause_kind="supplement"),
        ev("pause_ended", "2026-03-05T10:00"),
    ]
    node = run(events, "2026-03-06T09:00").node("handling")
    # Without the pause: due Thu 5 Mar 17:30. Paused 2 working days → Mon 9 Mar 17:30.
    assert node.paused_seconds == 2 * 7 * 3600
    assert node.due_at == at("2026-03-09T17:30")
    assert node.status is NodeStatus.ON_TIME


def test_an_open_pause_shows_paused_and_raises_nothing():
    events = [
        ev("accepted", "2026-03-02T10:00"),
        ev("pause_started", "2026-03-03T10:00", pause_kind="hearing"),
    ]
    node = run(events, "2026-03-20T10:00").node("handling")
    assert node.status is NodeStatus.PAUSED
    assert node.due_soon_at is None and node.breaker_at is None


def test_an_approved_extension_sets_a_new_limit():
    events = [
        ev("accepted", "2026-03-02T10:00"),
        ev("extension_granted", "2026-03-04T10:00", reason="需现场核查", approver="王主任", limit="10 wd"),
    ]
    timeline = run(events, "2026-03-06T10:00")
    node = timeline.node("handling")
    assert node.extended and node.due_at == at("2026-03-16T17:30")
    assert timeline.extensions[0].approver == "王主任"


def test_result_delivery_in_natural_hours():
    events = [
        ev("accepted", "2026-03-06T10:00"),
        ev("handled", "2026-03-06T16:00"),
        ev("delivered", "2026-03-07T17:00"),
    ]
    node = run(events, "2026-03-08T10:00").node("result_delivery")
    assert node.due_at == at("2026-03-07T16:00") and node.status is NodeStatus.DONE_LATE


def test_online_acceptance_runs_from_submission():
    events = [ev("accepted", "2026-03-02T10:40")]
    timeline = evaluate(
        events, limits=LIMITS, calendar=CAL, now=at("2026-03-02T11:00"), received_at=at("2026-03-02T10:00")
    )
    assert timeline.node("acceptance").status is NodeStatus.DONE_LATE


def test_counts_trips_resubmissions_and_notice():
    events = [
        ev("arrived", "2026-03-02T09:00"),
        ev("trip", "2026-03-04T09:00"),
        ev("trip", "2026-03-05T09:00"),
        ev("resubmission", "2026-03-04T09:10"),
        ev("one_time_notice", "2026-03-02T09:30"),
    ]
    timeline = run(events, "2026-03-06T10:00")
    assert (timeline.trips, timeline.resubmissions, timeline.one_time_notice) == (3, 1, True)


kinds = st.sampled_from(["arrived", "accepted", "handled", "delivered", "trip"])
moments = st.integers(0, 20 * 24 * 60).map(lambda m: at("2026-03-02T08:00") + dt.timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(kinds, moments), min_size=1, max_size=8, unique_by=lambda x: x[0]), st.randoms())
def test_order_of_arrival_does_not_matter(items, random):
    events = [Event(when, EventKind(kind)) for kind, when in items]
    shuffled = list(events)
    random.shuffle(shuffled)
    now = at("2026-04-01T10:00")
    first = evaluate(events, limits=LIMITS, calendar=CAL, now=now, received_at=at("2026-03-02T08:00"))
    second = evaluate(shuffled, limits=LIMITS, calendar=CAL, now=now, received_at=at("2026-03-02T08:00"))
    assert first.nodes == second.nodes


@settings(max_examples=150, deadline=None)
@given(moments, st.integers(1, 5 * 7 * 60))
def test_a_pause_moves_the_due_instant_by_its_working_length(pause_start, minutes):
    accepted = at("2026-03-02T09:00")
    pause_end = CAL.due_after_working_seconds(pause_start, minutes * 60).at
    plain = evaluate(
        [Event(accepted, EventKind.ACCEPTED)], limits=LIMITS, calendar=CAL, now=accepted, received_at=accepted
    ).node("handling")
    paused = evaluate(
        [
            Event(accepted, EventKind.ACCEPTED),
            Event(pause_start, EventKind.PAUSE_STARTED, pause_kind="supplement"),
            Event(pause_end, EventKind.PAUSE_ENDED),
        ],
        limits=LIMITS,
        calendar=CAL,
        now=pause_end,
        received_at=accepted,
    ).node("handling")
    assert plain.due_at is not None and paused.due_at is not None
    if pause_start < plain.due_at:
        assert paused.due_at >= plain.due_at
        assert paused.paused_seconds == CAL.working_seconds_between(max(pause_start, accepted), pause_end)
    else:
        assert paused.due_at == plain.due_at


def test_a_matters_own_node_is_timed_when_it_has_a_limit():
    events = [
        ev("accepted", "2026-03-02T09:00"),
        ev("node_started", "2026-03-02T10:00", node="site_check"),
        ev("node_started", "2026-03-02T10:05", node="filing"),
    ]
    timeline = evaluate(
        events,
        limits=LIMITS,
        calendar=CAL,
        now=at("2026-03-04T10:00"),
        received_at=at("2026-03-02T09:00"),
        custom_limits={"site_check": Limit.parse("1 wd")},
    )
    by_code = {c.code: c for c in timeline.custom_nodes}
    site = by_code["site_check"].timed
    assert site is not None and site.due_at == at("2026-03-03T17:30") and site.status is NodeStatus.OVERDUE
    assert by_code["filing"].timed is None and by_code["filing"].started_at == at("2026-03-02T10:05")
