"""Import of tickets with their events and of call records: idempotent, row errors, late events,
the figures; the CLI; the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.test import Client

from kaoping.evidence.verify import verify_chain
from kaoping.hotline.imports import hotline_ingest, hotline_ingest_file
from kaoping.hotline.models import CallRecord, Ticket, TicketEvent
from kaoping.hotline.selectors import hotline_figures
from tests.hotline.conftest import Hotline, at


def ticket(tid: str = "T1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "ticket",
        "source": "12345",
        "id": tid,
        "centre": "H1",
        "category": "request",
        "content": "楼顶漏水",
        "received_at": "2026-03-02T10:00:00+08:00",
        "caller_name": "张三",
        "caller_phone": "13812341234",
        **extra,
    }


def event(eid: str, action: str, when: str, tid: str = "T1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "source": "12345",
        "id": eid,
        "ticket": tid,
        "action": action,
        "at": when,
        **extra,
    }


def path_of(tid: str = "T1", prefix: str = "") -> list[dict[str, Any]]:
    return [
        event(f"{prefix}E1", "dispatch", "2026-03-02T10:05:00+08:00", tid, unit="HU-A"),
        event(f"{prefix}E2", "sign", "2026-03-02T11:00:00+08:00", tid),
        event(f"{prefix}E3", "handle", "2026-03-03T11:00:00+08:00", tid),
        event(f"{prefix}E4", "reply", "2026-03-03T12:00:00+08:00", tid),
        event(f"{prefix}E5", "unit_revisit", "2026-03-04T09:00:00+08:00", tid, satisfaction="satisfied"),
        event(f"{prefix}E6", "centre_revisit", "2026-03-04T10:00:00+08:00", tid, satisfaction="satisfied"),
    ]


def ingest(records: list[dict[str, Any]], **kw: Any) -> Any:
    return hotline_ingest(
        actor="test", records=[(f"line {i + 1}", r) for i, r in enumerate(records)], label="t", **kw
    )


def test_tickets_with_events_import_once_and_replay_the_workflow(hot: Hotline) -> None:
    records = [ticket(), *path_of()]
    report = ingest(records)
    assert (report.tickets, report.events, report.rejected) == (1, 6, [])
    t = Ticket.objects.get(external_id="T1")
    assert (t.state, t.unit, t.on_time, t.satisfaction) == ("closed", hot.unit_a, True, "satisfied")
    assert t.due_at == at("2026-03-09T17:30")
    assert t.closed_at == at("2026-03-04T10:00")
    revisit = TicketEvent.objects.get(ticket=t, action="centre_revisit")
    assert (revisit.unit, revisit.from_state, revisit.to_state) == (hot.unit_a, "unit_revisited", "closed")
    again = ingest(records)
    assert (again.tickets, again.events, again.duplicates) == (0, 0, 7)
    assert TicketEvent.objects.count() == 6
    assert verify_chain().ok


def test_bad_rows_are_reported_and_the_good_ones_land(hot: Hotline) -> None:
    report = ingest(
        [
            ticket("T1"),
            ticket("T2", received_at="2026-03-02T10:00:00"),  # no offset
            ticket("T3", category="gossip"),
            ticket("T4", centre="NOPE"),
            event("E1", "sign", "2026-03-02T10:05:00+08:00"),  # before any dispatch
            event("E2", "dispatch", "2026-03-02T10:06:00+08:00", unit="WA"),  # not a handling unit
            event("E3", "dispatch", "2026-03-02T10:07:00+08:00", unit="HU-B"),
            event("E4", "accept", "2026-03-02T10:07:00+08:00"),
            event("E5", "centre_revisit", "2026-03-02T10:08:00+08:00", satisfaction="great"),
            event("E6", "return_review", "2026-03-02T10:09:00+08:00"),
        ]
    )
    reasons = {r.where: r.reason for r in report.rejected}
    assert report.tickets == 1 and report.events == 1
    assert "has no UTC offset" in reasons["line 2"]
    assert "gossip" in reasons["line 3"]
    assert "unknown hotline centre" in reasons["line 4"]
    assert "cannot sign" in reasons["line 5"] and "state accepted" in reasons["line 5"]
    assert "unknown handling unit 'WA'" in reasons["line 6"]
    assert "the ticket record is the acceptance" in reasons["line 8"]
    assert "great" in reasons["line 9"]
    assert "outcome: is required" in reasons["line 10"]
    assert Ticket.objects.get(external_id="T1").unit == hot.unit_b


def test_late_and_out_of_order_events_recompute_the_ticket(hot: Hotline) -> None:
    steps = path_of()
    ingest([ticket(), steps[0], steps[2], steps[1]])  # handle before sign in the file: time order wins
    assert Ticket.objects.get().state == "handled"
    report = ingest([steps[5], steps[3], steps[4]])
    assert report.rejected == [] and Ticket.objects.get().state == "closed"
    # A late return request after the ticket closed does not fit: refused, nothing changes.
    late = ingest([event("L1", "return_request", "2026-03-02T10:30:00+08:00")])
    assert "conflicts with the ticket's stored steps" in late.rejected[0].reason
    assert Ticket.objects.get().state == "closed"


def test_a_return_and_a_reopen_are_counted(hot: Hotline) -> None:
    ingest(
        [
            ticket(),
            event("E1", "dispatch", "2026-03-02T10:05:00+08:00", unit="HU-B"),
            event("E2", "return_request", "2026-03-02T10:20:00+08:00", note="非本单位职责"),
            event("E3", "return_review", "2026-03-02T10:30:00+08:00", outcome="approved"),
            event("E4", "redispatch", "2026-03-02T10:40:00+08:00", unit="HU-A"),
            *path_of(prefix="P")[1:5],
            event("E5", "centre_revisit", "2026-03-04T10:00:00+08:00", satisfaction="dissatisfied"),
            event("E6", "urge", "2026-03-04T10:30:00+08:00", level="2"),
        ]
    )
    t = Ticket.objects.get()
    assert (t.state, t.returns, t.reopens, t.urges, t.urge_level, t.unit) == (
        "reopened",
        1,
        1,
        1,
        2,
        hot.unit_a,
    )


def test_call_records_and_the_figures(hot: Hotline) -> None:
    calls = [
        {
            "type": "call",
            "source": "acd",
            "id": "C1",
            "centre": "H1",
            "started_at": "2026-03-02T10:00:00+08:00",
            "answered_at": "2026-03-02T10:00:10+08:00",
            "ended_at": "2026-03-02T10:05:00+08:00",
        },
        {
            "type": "call",
            "source": "acd",
            "id": "C2",
            "centre": "H1",
            "started_at": "2026-03-02T10:01:00+08:00",
            "answered_at": "2026-03-02T10:01:40+08:00",
            "ended_at": "2026-03-02T10:05:00+08:00",
        },
        {
            "type": "call",
            "source": "acd",
            "id": "C3",
            "centre": "H1",
            "started_at": "2026-03-02T10:02:00+08:00",
            "ended_at": "2026-03-02T10:02:30+08:00",
        },
        {
            "type": "call",
            "source": "acd",
            "id": "C4",
            "centre": "H1",
            "started_at": "2026-03-02T10:02:00+08:00",
            "answered_at": "2026-03-02T10:01:00+08:00",
            "ended_at": "2026-03-02T10:02:30+08:00",
        },
    ]
    report = ingest([*calls, ticket(), *path_of()])
    assert (report.calls, len(report.rejected)) == (3, 1)
    assert "between started_at and ended_at" in report.rejected[0].reason
    assert CallRecord.objects.get(external_id="C3").abandoned
    assert CallRecord.objects.get(external_id="C2").wait_seconds == 40
    assert ingest(calls[:3]).duplicates == 3
    f = hotline_figures(
        user=hot.hallmgr, unit=hot.centre, start=at("2026-03-01T00:00"), end=at("2026-04-01T00:00")
    )
    assert (f.calls_offered, f.calls_answered, f.calls_abandoned) == (3, 2, 1)
    assert f.answer_rate.value == 66.67 and f.answered_within.value == 33.33
    assert (f.tickets_closed, f.on_time_closure_rate.value, f.satisfaction_rate.value) == (1, 100.0, 100.0)
    assert (f.urge_rate.value, f.reopen_rate.value) == (0.0, 0.0)
    unit = hotline_figures(
        user=hot.staff_a, unit=hot.unit_a, start=at("2026-03-01T00:00"), end=at("2026-04-01T00:00")
    )
    assert (unit.calls_offered, unit.tickets_closed, unit.answer_rate.value) == (0, 1, None)
    assert unit.satisfaction_rate.value == 100.0


def test_files_jsonl_and_csv(hot: Hotline, tmp_path: Path) -> None:
    jsonl = tmp_path / "tickets.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in [ticket(), *path_of()]) + "\n{bad\n"
    )
    report = hotline_ingest_file(actor="t", path=jsonl, source="x", label="t", kind="tickets")
    assert (report.tickets, report.events) == (1, 6)
    assert report.rejected[0].where == "line 8" and "not valid JSON" in report.rejected[0].reason
    csv_path = tmp_path / "calls.csv"
    csv_path.write_text(
        "id,centre,started_at,answered_at,ended_at\n"
        "K1,H1,2026-03-02T10:00:00+08:00,2026-03-02T10:00:05+08:00,2026-03-02T10:03:00+08:00\n"
        "K2,H1,2026-03-02T10:00:00+08:00,,2026-03-02T10:00:20+08:00\n"
        "K3,H1,2026-03-02 10:00:00,,2026-03-02T10:00:20+08:00\n",
        encoding="utf-8",
    )
    calls = hotline_ingest_file(actor="t", path=csv_path, source="acd", label="t", kind="calls")
    assert calls.calls == 2 and "no UTC offset" in calls.rejected[0].reason
    assert CallRecord.objects.get(external_id="K2").source == "acd"


def test_the_api_accepts_steps_and_refuses_bad_input(hot: Hotline, time_machine) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    client = Client()
    client.force_login(hot.calltaker)  # type: ignore[arg-type]
    done = client.post(
        "/api/hotline/tickets",
        {"centre": "H1", "category": "request", "content": "小区物业不管漏水", "caller_phone": "13812341234"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["suggested_unit"] == "HU-A" and body["ticket"]["caller"]["phone"] == "13812341234"
    tid = body["ticket"]["id"]
    step = client.post(
        f"/api/hotline/tickets/{tid}/actions", {"action": "dispatch"}, content_type="application/json"
    )
    assert step.status_code == 200 and step.json()["unit"] == "HU-A"
    bad = client.post(
        f"/api/hotline/tickets/{tid}/actions", {"action": "fly"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "not a workflow action" in bad.json()["error"]["why"]
    illegal = client.post(
        f"/api/hotline/tickets/{tid}/actions",
        {"action": "close", "note": "x"},
        content_type="application/json",
    )
    assert illegal.status_code == 400 and "state dispatched" in illegal.json()["error"]["why"]

    unit_client = Client()
    unit_client.force_login(hot.staff_a)  # type: ignore[arg-type]
    seen = unit_client.get(f"/api/hotline/tickets/{tid}").json()
    assert seen["caller"]["phone"] == "138****1234"  # the unit's staff see it masked
    signed = unit_client.post(
        f"/api/hotline/tickets/{tid}/actions", {"action": "sign"}, content_type="application/json"
    )
    assert signed.json()["state"] == "signed"
    forbidden = unit_client.post(
        f"/api/hotline/tickets/{tid}/actions",
        {"action": "urge", "note": "x"},
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    other = Client()
    other.force_login(hot.staff_b)  # type: ignore[arg-type]
    assert other.get(f"/api/hotline/tickets/{tid}").status_code == 404
    assert [t["id"] for t in unit_client.get("/api/hotline/tickets").json()] == [tid]

    posted = client.post(
        "/api/hotline/records",
        [ticket("API1"), event("X1", "sign", "2026-03-02T09:00:00+08:00", tid="NONE")],
        content_type="application/json",
    )
    assert posted.status_code == 200
    assert posted.json()["tickets"] == 1 and "send the ticket first" in posted.json()["rejected"][0]["reason"]
    figures = client.get("/api/hotline/figures?unit=H1&start=2026-03-01&end=2026-03-31")
    assert figures.status_code == 200 and figures.json()["tickets_received"] == 2
