"""The file import (``cases_ingest_file``: a reader process, commits of many batches, one
recomputation at the end) stores the same cases, events and derived fields as the API path (small
batches, each committed and recomputed), and leaves nothing stale; what a dead import left stale is
repaired."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kaoping.cases import services
from kaoping.cases.models import Case, CaseAlert, CaseEvent, RecomputeDebt
from kaoping.cases.services import (
    DERIVED_FIELDS,
    cases_ingest,
    cases_ingest_file,
    cases_repair_stale,
    cases_sweep,
)
from kaoping.core.errors import KaopingError
from tests.cases.test_ingest import at, case, event, matters  # noqa: F401  (matters is a fixture)

NOW = at("2026-03-06T10:00")


def extension(cid: str, day: int) -> dict[str, Any]:
    """An approved extension of the case's handling to 5 working days, on day ``day`` of March."""
    return event(
        f"{cid}/x",
        "extension_granted",
        f"2026-03-0{day}T11:00",
        case_id=cid,
        node="handling",
        limit="5 wd",
        reason="专家评审",
        approver="王主任",
    )


def _records() -> list[dict[str, Any]]:
    """Cases over a week with every fault the simulator makes, and rows to reject."""
    records: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    for n in range(24):
        day = 2 + n % 4
        cid = f"C{n}"
        start = f"2026-03-0{day}T09:{10 + n:02d}"
        if n % 6 == 1:
            # The event comes before its case in the file (held back to the end).
            records.append(event(f"{cid}/a", "arrived", start, case_id=cid))
            records.append(case(cid, received_at=f"{start}:00+08:00"))
        else:
            records.append(case(cid, received_at=f"{start}:00+08:00"))
            records.append(event(f"{cid}/a", "arrived", start, case_id=cid))
        accepted = event(f"{cid}/b", "accepted", f"2026-03-0{day}T09:{35 + n:02d}", case_id=cid)
        handled = event(f"{cid}/c", "handled", f"2026-03-0{day + 1}T15:{10 + n:02d}", case_id=cid)
        if n % 5 == 2:
            records += [handled, accepted]  # out of order
        elif n % 5 == 3:
            late.append(accepted)  # arrives much later in the file
        else:
            records.append(accepted)
            if n % 3 == 0:
                records.append(handled)
        if n % 4 == 0:
            records.append(accepted)  # duplicated
        if n % 7 == 4:
            records.append(
                event(
                    f"{cid}/p1",
                    "pause_started",
                    f"2026-03-0{day}T10:00",
                    case_id=cid,
                    pause_kind="supplement",
                )
            )
            late.append(event(f"{cid}/p2", "pause_ended", f"2026-03-0{day + 1}T10:00", case_id=cid))
        if n % 8 == 5:
            records.append(extension(cid, day))
    records += [
        case("BAD1", matter="NO-SUCH"),
        event("BAD2", "accepted", "2026-03-02T10:00", case_id="C0") | {"at": "2026-03-02T10:00"},
        event("BAD3", "extension_granted", "2026-03-02T11:00", case_id="C0", node="handling", limit="5 wd"),
    ]
    return records + late


def _stored() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    cases = sorted(Case.objects.values_list("external_id", *DERIVED_FIELDS))
    events = sorted(
        CaseEvent.objects.values_list(
            "case__external_id", "source", "external_id", "kind", "at", "node", "detail"
        )
    )
    # The sweep's narrow rows, written with the derived fields.
    alerts = sorted(
        CaseAlert.objects.values_list(
            "case__external_id",
            "unit_id",
            "node",
            "due_at",
            "due_soon_at",
            "breaker_at",
            "next_at",
            "deadline_status",
            "overdue",
            "breaker",
        )
    )
    return cases, events, alerts


def _outcome(report: services.IngestReport) -> tuple[Any, ...]:
    return (
        report.accepted_cases,
        report.accepted_events,
        report.duplicates,
        sorted((r.record_id, r.reason) for r in report.rejected),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("evaluators", [0, 2])
def test_the_file_import_stores_what_the_api_path_stores(matters, tmp_path, monkeypatch, evaluators):  # noqa: F811
    records = _records()
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    # Small batches and commits, so that a case's events span several commits.
    monkeypatch.setattr(services, "FILE_BATCH", 7)
    if evaluators:  # the final pass in evaluating processes (else in this one), a few cases a task
        monkeypatch.setattr(services, "PARALLEL_MIN", 1)
        monkeypatch.setattr(services, "EVALUATORS", evaluators)
        monkeypatch.setattr(services, "EVAL_CHUNK", 5)
    else:
        monkeypatch.setattr(services, "PARALLEL_MIN", 10**9)
    parallel: list[int] = []
    real = services._recompute_parallel

    def spy(*args: Any) -> None:
        parallel.append(1)
        real(*args)

    monkeypatch.setattr(services, "_recompute_parallel", spy)
    report = cases_ingest_file(actor="test", path=path, source="hall", label="file", now=NOW, commit_rows=14)
    # Evaluating processes read committed rows through SQLite; elsewhere the writer evaluates.
    assert bool(parallel) == (bool(evaluators) and connection.vendor == "sqlite")
    by_file = _stored()
    assert not RecomputeDebt.objects.exists()
    assert by_file[0] and all(row[1] for row in by_file[0])  # every case has a status
    assert by_file[2]  # and the cases with an alert to come have their row

    Case.objects.all().delete()
    # The API refuses an event before its case: a business system sends the case first.
    cases_first = sorted(records, key=lambda r: r["type"] != "case" or r["id"].startswith("BAD"))
    total = services.IngestReport()
    for start in range(0, len(cases_first), 5):
        part = cases_ingest(
            actor="test",
            records=[(f"line {start + i}", r) for i, r in enumerate(cases_first[start : start + 5], 1)],
            label="api",
            orphans="reject",
            now=NOW,
        )
        total.accepted_cases += part.accepted_cases
        total.accepted_events += part.accepted_events
        total.duplicates += part.duplicates
        total.rejected += part.rejected
    assert _stored() == by_file
    assert _outcome(report) == _outcome(total)
    assert [r.reason for r in report.rejected] == [
        "matter: unknown matter 'NO-SUCH'",
        "at: 2026-03-02T10:00:00 has no UTC offset (e.g. +08:00)",
        "approver: is required",
    ]


@pytest.mark.django_db(transaction=True)
def test_reimporting_a_file_changes_nothing(matters, tmp_path):  # noqa: F811
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records()), encoding="utf-8")
    cases_ingest_file(actor="test", path=path, source="hall", label="file", now=NOW)
    first = _stored()
    again = cases_ingest_file(actor="test", path=path, source="hall", label="file", now=NOW)
    assert (again.accepted, _stored()) == (0, first)


@pytest.mark.django_db(transaction=True)
def test_a_damaged_file_stops_with_a_message(matters, tmp_path):  # noqa: F811
    path = tmp_path / "cases.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(KaopingError, match="not a readable XLSX workbook"):
        cases_ingest_file(actor="test", path=path, source="hall", label="file")
    assert not Case.objects.exists()
    with pytest.raises(KaopingError, match="does not exist"):
        cases_ingest_file(actor="test", path=Path(tmp_path / "none.jsonl"), source="hall", label="file")


@pytest.mark.django_db(transaction=True)
def test_cases_left_stale_by_a_dead_import_are_repaired(matters, monkeypatch):  # noqa: F811
    # An import that dies after its commits and before its final pass: the cases stay as inserted.
    monkeypatch.setattr(services, "cases_recompute", lambda **kwargs: 0)
    monkeypatch.setattr(services, "_recompute_run", lambda *args: None)
    cases_ingest(
        actor="test",
        records=[
            ("line 1", case("S1")),
            ("line 2", event("S1/a", "arrived", "2026-03-02T09:00", case_id="S1")),
        ],
        label="dead",
        now=NOW,
    )
    monkeypatch.undo()
    stale = Case.objects.get(external_id="S1")
    assert stale.current_node == ""
    services._debt_add("deadrun", {stale.pk})
    # A run that is still writing is left alone; one quiet for longer than the lease is repaired.
    assert cases_repair_stale(now=NOW) == 0
    RecomputeDebt.objects.update(touched_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert cases_repair_stale(now=NOW) == 1
    stale.refresh_from_db()
    assert stale.current_node == "acceptance" and CaseAlert.objects.get(case=stale).next_at is not None
    assert not RecomputeDebt.objects.exists()
    assert cases_sweep(now=NOW).raised == 3  # and the sweep sees it
