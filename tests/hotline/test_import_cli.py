"""`kaoping import tickets|calls FILE` as a user runs it: the summary, the error report with each
rejected row's line and reason, and a re-import that changes nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cases.test_import_cli import kaoping

TICKET = {
    "type": "ticket",
    "source": "cli12345",
    "id": "CLI-1",
    "centre": "H9901",
    "category": "consultation",
    "content": "咨询公积金提取手续",
    "received_at": "2026-03-02T09:00:00+08:00",
    "caller_name": "王五",
    "caller_phone": "13800001111",
    "call_taker": "QC1005",
}


def _event(n: int, action: str, at: str, **extra: str) -> str:
    record = {"type": "event", "source": "cli12345", "id": f"CLI-1-{n}", "ticket": "CLI-1", "action": action}
    return json.dumps({**record, "at": at, **extra}, ensure_ascii=False)


def _report(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_tickets_file_lands_valid_rows_reports_the_rest_and_reimports_nothing(cli_install, tmp_path):
    lines = [
        json.dumps(TICKET, ensure_ascii=False),
        _event(1, "dispatch", "2026-03-02T09:10:00+08:00", unit="HU-ZJ"),
        _event(2, "sign", "2026-03-02T10:00:00+08:00"),
        _event(3, "fly", "2026-03-02T10:05:00+08:00"),  # no such action
        "{not json",
        _event(4, "handle", "2026-03-02T08:00:00+08:00", note="早于受理"),  # before the ticket
        _event(5, "handle", "2026-03-02T11:00:00", note="无时区"),  # no UTC offset
    ]
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    first = kaoping(cli_install, "import", "tickets", str(path), "--source", "cli12345")
    assert first.returncode == 1, first.stderr
    assert "tickets.jsonl: 1 ticket(s), 2 event(s) and 0 call(s) imported, 0 already present, 4 rejected" in (
        first.stdout
    )
    rows = _report(tmp_path / "tickets.jsonl.errors.csv")
    assert [row[:2] for row in rows] == [
        ["line 4", "CLI-1-3"],
        ["line 5", ""],
        ["line 6", "CLI-1-4"],
        ["line 7", "CLI-1-5"],
    ]
    assert rows[0][2].startswith("action: 'fly'")
    assert rows[1][2].startswith("not valid JSON")
    assert rows[2][2] == "at: lies before the ticket was received"
    assert "has no UTC offset" in rows[3][2]

    again = kaoping(cli_install, "import", "tickets", str(path), "--source", "cli12345")
    assert "1 ticket(s)" not in again.stdout
    assert "0 ticket(s), 0 event(s) and 0 call(s) imported, 3 already present, 4 rejected" in again.stdout


def test_calls_csv_takes_the_file_kind_and_refuses_impossible_times(cli_install, tmp_path):
    path = tmp_path / "calls.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "id", "centre", "started_at", "answered_at", "ended_at", "agent"])
        writer.writerow(
            [
                "acd",
                "C1",
                "H9901",
                "2026-03-02T09:00:00+08:00",
                "2026-03-02T09:00:09+08:00",
                "2026-03-02T09:04:00+08:00",
                "QC1005",
            ]
        )
        writer.writerow(
            ["acd", "C2", "H9901", "2026-03-02T09:01:00+08:00", "", "2026-03-02T09:01:40+08:00", ""]
        )
        writer.writerow(
            [
                "acd",
                "C3",
                "H9901",
                "2026-03-02T09:02:00+08:00",
                "2026-03-02T09:01:00+08:00",
                "2026-03-02T09:03:00+08:00",
                "",
            ]
        )
    done = kaoping(cli_install, "import", "calls", str(path))
    assert done.returncode == 1, done.stderr
    assert (
        "calls.csv: 0 ticket(s), 0 event(s) and 2 call(s) imported, 0 already present, 1 rejected"
        in done.stdout
    )
    rows = _report(tmp_path / "calls.csv.errors.csv")
    assert rows == [["line 4", "C3", "answered_at: must lie between started_at and ended_at"]]
    again = kaoping(cli_install, "import", "calls", str(path))
    assert "0 call(s) imported, 2 already present, 1 rejected" in again.stdout
