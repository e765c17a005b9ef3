"""Issue #6: an overdue ticket counts in the period its deadline passed without the unit's reply,
closed or not, and only once; the on-time closure rate counts each ticket's verdict once; the unit's
first revisit is judged by the centre's revisit that follows it (R3.4), not by its mere existence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kaoping.assessment import hotline_metrics
from kaoping.assessment.services import assessment_run, manual_code_define, schemes_load_defaults
from kaoping.hotline.imports import hotline_ingest
from kaoping.hotline.models import FindingKind, Ticket
from kaoping.hotline.quality import finding_record
from kaoping.hotline.selectors import hotline_figures
from kaoping.org.models import Staff
from tests.hotline.conftest import Hotline, at

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
# A "request" dispatched on Monday 2 March 10:05 is due in 5 working days: Monday 9 March 17:30.
DUE = at("2026-03-09T17:30")


def _ticket(tid: str) -> dict[str, Any]:
    return {
        "type": "ticket",
        "source": "12345",
        "id": tid,
        "centre": "H1",
        "category": "request",
        "content": "楼顶漏水",
        "received_at": "2026-03-02T10:00:00+08:00",
        "call_taker": "CT01",
    }


def _event(tid: str, n: int, action: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "source": "12345",
        "id": f"{tid}-{n}",
        "ticket": tid,
        "action": action,
        "at": f"2026-{when}:00+08:00",
        **extra,
    }


def _open(tid: str, unit: str = "HU-A") -> list[dict[str, Any]]:
    """Dispatched on 2 March and signed: due 9 March 17:30, no reply."""
    return [
        _ticket(tid),
        _event(tid, 1, "dispatch", "03-02T10:05", unit=unit),
        _event(tid, 2, "sign", "03-02T11:00"),
    ]


def _reply_and_close(
    tid: str, reply: str, revisit: str, *, unit_said: str = "satisfied", centre_said: str = "satisfied"
) -> list[dict[str, Any]]:
    """The unit replies at ``reply`` and revisits, the centre revisits an hour later (``revisit``)."""
    out = [
        _event(tid, 3, "handle", reply),
        _event(tid, 4, "reply", reply),
        _event(tid, 5, "unit_revisit", f"{revisit}T09:00", satisfaction=unit_said),
        _event(tid, 6, "centre_revisit", f"{revisit}T10:00", satisfaction=centre_said),
    ]
    if centre_said != "satisfied":  # reopened: handled again, then 满意 at the second round
        day = revisit.split("-")[0]
        out += [
            _event(tid, 7, "handle", f"{day}-25T10:00"),
            _event(tid, 8, "reply", f"{day}-25T11:00"),
            _event(tid, 9, "unit_revisit", f"{day}-26T09:00", satisfaction="satisfied"),
            _event(tid, 10, "centre_revisit", f"{day}-26T10:00", satisfaction="satisfied"),
        ]
    return out


def _ingest(rows: list[dict[str, Any]]) -> None:
    report = hotline_ingest(
        actor="test", records=[(f"line {i + 1}", r) for i, r in enumerate(rows)], label="issue 6"
    )
    assert report.rejected == []


def _unit(hot: Hotline, period: tuple[dt.date, dt.date], now: dt.datetime, *names: str) -> dict[str, Any]:
    found = hotline_metrics.compute(names, start=period[0], end=period[1], unit_ids=[hot.unit_a.pk], now=now)[
        hot.unit_a.pk
    ]
    return found


def _ids(name: str, hot: Hotline, period: tuple[dt.date, dt.date], now: dt.datetime) -> list[str]:
    found = hotline_metrics.records(name, start=period[0], end=period[1], unit=hot.unit_a, now=now)
    return [t.external_id for t in found]


OVERDUE, ON_TIME = "ticket_overdue_count", "ticket_on_time_closure_rate"


def test_an_open_ticket_counts_in_the_month_its_deadline_passed_and_not_again_when_it_closes(
    hot: Hotline,
) -> None:
    _ingest(_open("T1"))
    assert Ticket.objects.get(external_id="T1").due_at == DUE
    # Not before the deadline has actually passed (a reply at the deadline would still be on time).
    # Nothing closed and no deadline passed yet: nothing to measure.
    assert _unit(hot, MARCH, DUE - dt.timedelta(minutes=1), OVERDUE)[OVERDUE][0] is None
    assert _unit(hot, MARCH, DUE, OVERDUE)[OVERDUE][0] is None
    after = _unit(hot, MARCH, DUE + dt.timedelta(minutes=1), OVERDUE, ON_TIME)
    assert after[OVERDUE][0] == 1 and "尚未办结1件" in after[OVERDUE][3]
    # Still open at the end of March: counted in March, where the deadline passed.
    april_2 = at("2026-04-02T09:00")
    march = _unit(hot, MARCH, april_2, OVERDUE, ON_TIME)
    assert march[OVERDUE][:3] == (1, 1, 1)
    assert march[ON_TIME][:3] == (0, 0, 1)  # 0 on time of 1 verdict
    assert _ids(OVERDUE, hot, MARCH, april_2) == ["T1"] == _ids(ON_TIME, hot, MARCH, april_2)

    # Replied late on 3 April and closed on the 7th: March keeps it (now closed), April does not
    # count it again, neither as overdue nor in the on-time closure rate.
    _ingest(_reply_and_close("T1", "04-03T11:00", "04-07"))
    t1 = Ticket.objects.get(external_id="T1")
    assert t1.on_time is False and t1.closed_at is not None
    may = at("2026-05-04T09:00")
    march = _unit(hot, MARCH, may, OVERDUE, ON_TIME)
    assert march[OVERDUE][0] == 1 and "尚未办结0件" in march[OVERDUE][3]
    april = _unit(hot, APRIL, may, OVERDUE, ON_TIME, "ticket_urge_rate")
    assert april[OVERDUE][0] == 0 and april["ticket_urge_rate"][2] == 1  # closed in April
    assert april[ON_TIME][:3] == (None, 0, 0)
    assert _ids(OVERDUE, hot, APRIL, may) == []


def test_a_ticket_replied_by_its_deadline_never_counts(hot: Hotline) -> None:
    # T2 replied on 5 March and still waiting for the centre's revisit; T3 replied on 5 March and
    # closed only on 2 April (the centre's revisit time does not count against the unit).
    _ingest([*_open("T2"), _event("T2", 3, "handle", "03-05T10:00"), _event("T2", 4, "reply", "03-05T10:00")])
    _ingest([*_open("T3"), *_reply_and_close("T3", "03-05T10:00", "04-02")])
    # T4: replied exactly at the deadline: on time.
    _ingest([*_open("T4"), *_reply_and_close("T4", "03-09T17:30", "03-10")])
    now = at("2026-05-04T09:00")
    march = _unit(hot, MARCH, now, OVERDUE, ON_TIME)
    assert march[OVERDUE][0] == 0 and march[ON_TIME][:3] == (100, 1, 1)  # T4 closed in March
    april = _unit(hot, APRIL, now, OVERDUE, ON_TIME)
    assert april[OVERDUE][0] == 0 and april[ON_TIME][:3] == (100, 1, 1)  # T3 closed in April
    assert Ticket.objects.get(external_id="T4").on_time is True


def test_an_approved_extension_moves_the_deadline_a_rejected_one_does_not(hot: Hotline) -> None:
    until = "2026-04-03T17:30:00+08:00"
    _ingest(
        [
            *_open("E1"),
            _event("E1", 20, "extension_request", "03-05T09:00", until=until),
            _event("E1", 21, "extension_decide", "03-05T15:00", outcome="approved"),
            *_open("E2"),
            _event("E2", 20, "extension_request", "03-05T09:00", until=until),
            _event("E2", 21, "extension_decide", "03-05T15:00", outcome="rejected"),
        ]
    )
    e1 = Ticket.objects.get(external_id="E1")
    assert e1.due_at == DUE and e1.extended_due_at == at("2026-04-03T17:30")
    now = at("2026-04-02T09:00")  # past the first deadline, before the extended one
    assert _ids(OVERDUE, hot, MARCH, now) == ["E2"]
    assert _unit(hot, APRIL, now, OVERDUE)[OVERDUE][0] is None  # no April deadline passed yet
    later = at("2026-04-10T09:00")
    assert _ids(OVERDUE, hot, MARCH, later) == ["E2"]
    assert _ids(OVERDUE, hot, APRIL, later) == ["E1"]
    # Replied after the first deadline but by the extended one: on time, never overdue.
    _ingest(_reply_and_close("E1", "04-01T10:00", "04-08"))
    assert Ticket.objects.get(external_id="E1").on_time is True
    assert _ids(OVERDUE, hot, APRIL, later) == []
    april = _unit(hot, APRIL, later, ON_TIME, "ticket_extended_count")
    assert april[ON_TIME][:3] == (100, 1, 1) and april["ticket_extended_count"][0] == 1


def test_the_scheme_deducts_an_open_overdue_ticket_in_its_deadline_month(
    hot: Hotline, time_machine: Any
) -> None:
    schemes_load_defaults(actor=hot.org.admin)
    for code in ("meeting_absences", "archive_deficiencies", "publicity_shortfalls"):
        manual_code_define(actor=hot.org.admin, code=code, name=code, low=0, high=1000)
    _ingest([*_open("T1"), *_open("T2"), *_reply_and_close("T2", "03-03T10:00", "03-04")])
    time_machine.move_to(at("2026-04-02T09:00"), tick=False)
    run = assessment_run(actor="test", scheme_code="hotline_unit", period="2026-03")
    result = run.results.get(unit=hot.unit_a)
    lines = {line["indicator"]: line for line in result.lines}
    # R3.5: 2 points per overdue ticket, T1 still open.
    assert lines["overdue"]["deducted"] == "2.00"
    assert Decimal(lines["first_revisit"]["deducted"]) == 0


def test_the_figures_count_an_open_overdue_ticket(hot: Hotline, time_machine: Any) -> None:
    _ingest(_open("T1"))
    time_machine.move_to(at("2026-04-02T09:00"), tick=False)
    span = {"start": at("2026-03-01T00:00"), "end": at("2026-04-01T00:00")}
    f = hotline_figures(user=hot.hallmgr, unit=hot.centre, **span)
    assert (f.tickets_closed, f.tickets_overdue) == (0, 1)
    assert (f.on_time_closure_rate.numerator, f.on_time_closure_rate.denominator) == (0, 1)
    _ingest(_reply_and_close("T1", "04-03T11:00", "04-07"))
    time_machine.move_to(at("2026-05-04T09:00"), tick=False)
    april = hotline_figures(user=hot.staff_a, unit=hot.unit_a, start=span["end"], end=at("2026-05-01T00:00"))
    assert (april.tickets_closed, april.tickets_overdue, april.on_time_closure_rate.denominator) == (1, 0, 0)
    assert hotline_figures(user=hot.hallmgr, unit=hot.centre, **span).tickets_overdue == 1


def test_a_missed_urge_counts_once_where_the_deadline_passed(hot: Hotline) -> None:
    _ingest([*_open("T1"), *_open("T2"), _event("T2", 9, "urge", "03-09T09:00", level="1")])
    ct = Staff.objects.get(employee_no="CT01")
    name = "missed_urge_revisit_count"

    def missed(period: tuple[dt.date, dt.date]) -> float:
        now = at("2026-05-04T09:00")
        value = hotline_metrics.compute([name], start=period[0], end=period[1], staff_ids=[ct.pk], now=now)
        return value[ct.pk][name][0]  # type: ignore[return-value]

    assert (missed(MARCH), missed(APRIL)) == (1, 0)  # T1, never urged, open; T2 was urged
    # A monitor names T1 in April: it counts there, through the finding, and no longer in March.
    t1 = Ticket.objects.get(external_id="T1")
    finding_record(
        actor=hot.monitor, staff=ct, kind=FindingKind.MISSED_URGE_REVISIT, note="超时未督办",
        found_at=at("2026-04-03T10:00"), ticket=t1,
    )  # fmt: skip
    assert (missed(MARCH), missed(APRIL)) == (0, 1)


def test_the_first_revisit_rate_is_the_units_first_revisit_confirmed_by_the_centre(hot: Hotline) -> None:
    rows: list[dict[str, Any]] = []
    said = {  # (the unit's first revisit, the centre's first revisit)
        "R1": ("satisfied", "satisfied"),  # agree
        "R2": ("satisfied", "dissatisfied"),  # the unit reported 满意, the caller told the centre not
        "R3": ("dissatisfied", "dissatisfied"),  # an honest report of a dissatisfied caller: agree
        "R4": ("basic", "dissatisfied"),  # neither closes the ticket: agree
        "R5": ("basic", "satisfied"),  # disagree
    }
    for tid, (unit_said, centre_said) in said.items():
        rows += [
            *_open(tid),
            *_reply_and_close(tid, "03-03T10:00", "03-04", unit_said=unit_said, centre_said=centre_said),
        ]
    # R6: closed on review straight after the unit's revisit: no centre revisit to compare with.
    rows += [
        *_open("R6"),
        _event("R6", 3, "handle", "03-03T10:00"),
        _event("R6", 4, "reply", "03-03T10:00"),
        _event("R6", 5, "unit_revisit", "03-04T09:00", satisfaction="dissatisfied"),
        _event("R6", 6, "close", "03-04T10:00", note="经审核办结"),
    ]
    _ingest(rows)
    now = at("2026-04-02T09:00")
    found = _unit(hot, MARCH, now, "first_revisit_rate", "ticket_urge_rate")
    assert found["ticket_urge_rate"][2] == 6  # six closed tickets
    value, agreed, compared, basis = found["first_revisit_rate"]
    assert (value, agreed, compared) == (60, 3, 5) and "一致3件" in basis
    assert sorted(_ids("first_revisit_rate", hot, MARCH, now)) == ["R2", "R5"]
    assert hotline_metrics.LABELS["first_revisit_rate"] == "承办单位初次回访一致率"


# -- the arithmetic over months --------------------------------------------------------------------

MONTHS = [(dt.date(2026, m, 1), dt.date(2026, m + 1, 1) - dt.timedelta(days=1)) for m in (3, 4, 5, 6)]
START = at("2026-03-01T00:00")
END = at("2026-07-01T00:00")  # of the months assessed


@st.composite
def _tickets(draw: Any) -> list[tuple[dt.datetime, dt.datetime | None, dt.datetime | None]]:
    """(deadline, reply, closed) per ticket, in March–June hours."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        deadline = START + dt.timedelta(hours=draw(st.integers(24, 24 * 110)))
        reply = None
        closed = None
        if draw(st.booleans()):
            reply = deadline + dt.timedelta(hours=draw(st.integers(-72, 24 * 30)))
            if draw(st.booleans()):
                closed = reply + dt.timedelta(hours=draw(st.integers(1, 24 * 20)))
        out.append((deadline, reply, closed))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=_tickets(), now_hours=st.integers(0, 24 * 125))
# Closed on time just after the last month assessed: its verdict belongs to July.
@example(tickets=[(at("2026-06-11T00:00"), at("2026-06-11T00:00"), at("2026-07-01T00:00"))], now_hours=0)
def test_each_verdict_counts_once_across_the_months(
    hot: Hotline, tickets: list[tuple[dt.datetime, dt.datetime | None, dt.datetime | None]], now_hours: int
) -> None:
    Ticket.objects.filter(centre=hot.centre).delete()
    now = START + dt.timedelta(hours=now_hours)
    for n, (deadline, reply, closed) in enumerate(tickets):
        Ticket.objects.create(
            source="p",
            external_id=f"P{n}",
            centre=hot.centre,
            category="request",
            content="x",
            received_at=START,
            state="closed" if closed else "signed",
            unit=hot.unit_a,
            dispatched_at=START,
            dispatches=1,
            due_at=deadline,
            replied_at=reply,
            closed_at=closed,
            on_time=None if closed is None else reply is not None and reply <= deadline,
        )
    overdue = punctual = judged = 0
    seen: list[str] = []
    for period in MONTHS:
        found = _unit(hot, period, now, OVERDUE, ON_TIME)
        count, rate = found[OVERDUE], found[ON_TIME]
        listed = _ids(OVERDUE, hot, period, now)
        assert count[0] in (None, len(listed)) and (count[0] is not None or not listed)
        seen += listed
        overdue += len(listed)
        punctual += int(rate[1] or 0)
        judged += int(rate[2] or 0)
        if rate[2]:
            assert rate[0] == pytest.approx(100 * rate[1] / rate[2])
            assert rate[2] - rate[1] == len(listed)  # the rate's late verdicts are the overdue ones
    assert len(seen) == len(set(seen))  # no ticket counted in two months
    expected_late = [n for n, (d, r, _c) in enumerate(tickets) if d < now and (r is None or r > d)]
    assert sorted(seen) == sorted(f"P{n}" for n in expected_late)
    # An on-time verdict counts in the month the ticket closed: one closed after June, in none of these.
    on_time = [
        n for n, (d, r, c) in enumerate(tickets) if c is not None and c < END and r is not None and r <= d
    ]
    assert punctual == len(on_time)
    assert judged == len(on_time) + len(expected_late)
