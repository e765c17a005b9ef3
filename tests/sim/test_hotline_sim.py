"""The simulated hotline: reproducible, plausible volumes, categories and answer figures, and a run
through the hotline's validation path with nothing refused."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from kaoping.sim.hotline import SimAgent, SimHotline, SimUnit, call_figures, simulate

START = dt.date(2026, 3, 2)  # a Monday


def config(days: int = 28, seed: int = 7, **extra: Any) -> SimHotline:
    return SimHotline(
        centre="H1",
        units=[SimUnit("HU-A"), SimUnit("HU-B", speed=2.0, return_rate=0.1, quality=0.8)],
        agents=[SimAgent(f"A{n}", 0.05 if n == 0 else 0.005) for n in range(7)],
        monitors=["M1"],
        start=START,
        days=days,
        seed=seed,
        **extra,
    )


@pytest.fixture(scope="module")
def month() -> Any:
    return simulate(config())


def test_the_same_seed_gives_the_same_records_and_another_seed_others(month: Any) -> None:
    again = simulate(config())
    assert again.records == month.records and again.findings == month.findings
    assert simulate(config(seed=8)).records != month.records


def test_calls_follow_the_day_and_the_week(month: Any) -> None:
    calls = [r for r in month.records if r["type"] == "call"]
    per_day = len(calls) / 28
    assert 300 < per_day < 550
    hours = Counter(dt.datetime.fromisoformat(r["started_at"]).hour for r in calls)
    assert hours[10] > 5 * hours[3]  # mornings busy, nights quiet
    days = Counter(dt.datetime.fromisoformat(r["started_at"]).weekday() for r in calls)
    assert days[0] > days[6] * 1.4  # Mondays busier than Sundays


def test_most_calls_are_answered_within_15_s_and_abandoned_ones_come_in_the_peaks(month: Any) -> None:
    figures = call_figures(month.records)
    assert 92 <= figures["answer_rate"] <= 99  # GB/T 33358-2016 aims at ≥ 95 %
    assert figures["within_15s"] >= 85
    abandoned = [r for r in month.records if r["type"] == "call" and not r.get("answered_at")]
    assert abandoned and all(r.get("agent") is None for r in abandoned)
    busy = sum(1 for r in abandoned if 8 <= dt.datetime.fromisoformat(r["started_at"]).hour < 19)
    assert busy > len(abandoned) / 2


def test_tickets_categories_and_unit_behaviour_are_plausible(month: Any) -> None:
    tickets = [r for r in month.records if r["type"] == "ticket"]
    answered = sum(1 for r in month.records if r["type"] == "call" and r.get("answered_at"))
    assert 0.35 < len(tickets) / answered < 0.55
    categories = Counter(r["category"] for r in tickets)
    ranked = [c for c, _ in categories.most_common()]
    assert ranked[:2] == ["consultation", "request"] and ranked[-1] == "emergency"
    assert 0 < categories["emergency"] < 0.06 * len(tickets)
    events = [r for r in month.records if r["type"] == "event"]
    actions = Counter(r["action"] for r in events)
    for action in ("dispatch", "return_request", "redispatch", "urge", "extension_request", "merge", "close"):
        assert actions[action] > 0, action
    reopened = sum(1 for r in events if r["action"] == "centre_revisit" and r["satisfaction"] != "satisfied")
    assert 0.03 < reopened / actions["centre_revisit"] < 0.3
    # The unit that objects more often has more of its tickets returned.
    returned = Counter(r["unit"] for r in events if r["action"] == "redispatch")
    assert returned["HU-A"] > returned["HU-B"]
    dispatched = Counter(r["unit"] for r in events if r["action"] in ("dispatch", "redispatch"))
    assert dispatched["HU-A"] > 0 and dispatched["HU-B"] > 0
    # Every instant carries its offset, and a ticket's events never precede it.
    received = {r["id"]: dt.datetime.fromisoformat(r["received_at"]) for r in tickets}
    for r in events:
        at = dt.datetime.fromisoformat(r["at"])
        assert at.utcoffset() is not None and at >= received[r["ticket"]]


def test_findings_follow_the_careless_call_taker(month: Any) -> None:
    kinds = Counter((f["staff"], f["kind"]) for f in month.findings)
    assert kinds[("A0", "record_error")] > kinds[("A1", "record_error")]
    assert all(f["found_at"].utcoffset() is not None for f in month.findings)


def test_nothing_after_until_is_emitted() -> None:
    until = dt.datetime(2026, 3, 4, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    out = simulate(config(days=5, until=until))
    for r in out.records:
        for key in ("started_at", "ended_at", "at", "received_at"):
            if key in r:
                assert dt.datetime.fromisoformat(r[key]) <= until


@pytest.mark.django_db
def test_a_run_goes_through_the_hotline_ingestion_without_refusals(org: Any, calendar_db: None) -> None:
    from kaoping.hotline.models import CallRecord, QualityFinding, Ticket
    from kaoping.org.models import Role
    from kaoping.org.services import role_grant, staff_create, unit_create
    from kaoping.sim.hotline_runner import run_hotline
    from tests.factories import make_user

    admin = org.admin
    centre = unit_create(actor=admin, code="H1", name="热线", kind="hotline_centre", parent=org.region)
    for code in ("HU-A", "HU-B"):
        unit_create(actor=admin, code=code, name=code, kind="handling_unit", parent=centre)
    for n, role in enumerate([Role.CALL_TAKER] * 4 + [Role.MONITOR]):
        user = make_user(f"hs{n}")
        role_grant(actor=admin, user=user, role=role, unit=centre)
        staff_create(actor=admin, unit=centre, name=f"人{n}", employee_no=f"HS{n}", user=user)  # type: ignore[arg-type]
    from kaoping.core import clock

    start = clock.today() - dt.timedelta(days=3)
    run = run_hotline(actor="test", start=start, days=4, seed=3, scale=0.5, centre=centre)
    assert run.rejected == 0 and run.tickets > 50 and run.calls > 300
    assert Ticket.objects.filter(source="sim-hotline").count() == run.tickets
    assert CallRecord.objects.count() == run.calls
    assert QualityFinding.objects.count() == run.findings
    again = run_hotline(actor="test", start=start, days=4, seed=3, scale=0.5, centre=centre)
    assert again.tickets == 0 and again.calls == 0 and again.findings == 0


@pytest.mark.django_db
def test_the_demo_hotline_has_a_dispatch_catalogue_that_suggests_the_usual_unit(calendar_db: None) -> None:
    from django.contrib.auth import get_user_model

    from kaoping.hotline.models import DispatchRule
    from kaoping.hotline.services import dispatch_suggestion
    from kaoping.sim.demo import load_demo
    from kaoping.sim.hotline_runner import load_demo_hotline

    load_demo()
    admin = get_user_model().objects.get(username="admin")
    centre = load_demo_hotline(actor=admin)
    assert centre is not None and DispatchRule.objects.filter(centre=centre).count() == 5
    suggested = {
        text: unit.code
        if (unit := dispatch_suggestion(centre=centre, category="complaint", content=text))
        else None
        for text in ("投诉物业乱收费", "投诉夜间施工噪音扰民", "建议增设公交线路", "天气预报")
    }
    assert suggested == {
        "投诉物业乱收费": "HU-ZJ",
        "投诉夜间施工噪音扰民": "HU-CG",
        "建议增设公交线路": "HU-GJ",
        "天气预报": None,
    }
    load_demo_hotline(actor=admin)  # again: nothing twice
    assert DispatchRule.objects.filter(centre=centre).count() == 5
