"""A hotline file shared by several reader processes (``READERS``), each planning every other batch:
the same tickets, events, refusals and order as one reader gives, whatever falls on a batch edge
(a ticket's events in the next batch, an event before its ticket, a batch of blank lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kaoping.hotline import imports
from kaoping.hotline.imports import hotline_ingest_file
from kaoping.hotline.models import Ticket, TicketEvent
from tests.hotline.conftest import Hotline
from tests.hotline.test_ingest import path_of, ticket


def _lines() -> list[str]:
    def strip_source(record: dict[str, Any]) -> str:
        record.pop("source", None)  # the file's source fills it in: one file, several runs
        return json.dumps(record, ensure_ascii=False)

    lines: list[str] = []
    for n in range(1, 8):
        tid = f"T{n}"
        events = path_of(tid, prefix=f"{tid}-")
        if n == 3:  # its first event comes before the ticket (kept until the end of the file)
            lines.append(strip_source(events.pop(0)))
        lines.append(strip_source(ticket(tid, received_at="2026-03-02T09:00:00+08:00")))
        lines.extend(strip_source(e) for e in events)
        if n == 4:
            lines.extend([""] * 12)  # whole batches of nothing
            lines.append("{not json")
        if n == 5:  # a step that does not fit: refused with its line
            lines.append(strip_source(path_of(tid, prefix=f"{tid}-x")[1]))
    return lines


def _run(path: Path, source: str) -> tuple[list[tuple[Any, ...]], int, list[tuple[str, str]]]:
    report = hotline_ingest_file(actor="t", path=path, source=source, label="t", kind="tickets")
    tickets = list(
        Ticket.objects.filter(source=source)
        .order_by("external_id")
        .values_list("external_id", "state", "dispatches", "closed_at", "on_time", "satisfaction")
    )
    events = TicketEvent.objects.filter(source=source).count()
    assert report.events == events
    return tickets, events, [(r.where, r.reason) for r in report.rejected]


@pytest.mark.parametrize("readers", [2, 3])
def test_several_readers_give_what_one_gives(
    hot: Hotline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readers: int
) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    monkeypatch.setattr(imports, "BATCH", 5)  # batch edges everywhere
    monkeypatch.setattr(imports, "READERS", 1)
    one = _run(path, "one")
    monkeypatch.setattr(imports, "READERS", readers)
    several = _run(path, f"r{readers}")
    assert several == one
    tickets, events, rejected = one
    assert len(tickets) == 7 and all(t[1] == "closed" for t in tickets)
    assert events == 7 * 6
    assert [where for where, _ in rejected] == ["line 41", "line 49"]
    assert "not valid JSON" in rejected[0][1]


def test_a_ticket_given_again_later_in_the_file_and_an_event_id_taken(
    hot: Hotline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers plan each batch's tickets as new; the writer finds out otherwise (the ticket went
    in with an earlier batch, an event id belongs to another ticket) and takes the general path."""
    monkeypatch.setattr(imports, "BATCH", 5)
    first = [ticket("A1"), *path_of("A1", prefix="A1-")[:2]]  # dispatched and signed
    again = [ticket("A1"), *path_of("A1", prefix="A1-")[2:]]  # given again: handled … closed
    taken = [ticket("B1"), {**path_of("B1", prefix="B1-")[0], "id": "A1-E1"}]  # A1's event id
    lines = [json.dumps(r, ensure_ascii=False) for r in first]
    lines += [""] * (5 - len(lines) % 5)  # the rest in later batches
    lines += [json.dumps(r, ensure_ascii=False) for r in again]
    lines += [""] * (5 - len(lines) % 5)
    lines += [json.dumps(r, ensure_ascii=False) for r in taken]
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = hotline_ingest_file(actor="t", path=path, source="x", label="t", kind="tickets")
    assert (report.tickets, report.events, report.duplicates) == (2, 6, 1)
    a1 = Ticket.objects.get(external_id="A1")
    assert a1.state == "closed" and a1.events.count() == 6
    assert [r.reason for r in report.rejected] == ["id: already used by another ticket's event"]
    assert Ticket.objects.get(external_id="B1").state == "accepted"
