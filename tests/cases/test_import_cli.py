"""`kaoping import cases FILE` as a user runs it: JSON Lines, CSV, XLSX and GB/T field names."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.test_cli import KAOPING, cli_env


@pytest.fixture
def install(cli_install: Path) -> Path:
    return cli_install


def kaoping(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KAOPING, *args], env=cli_env(var), capture_output=True, text=True, timeout=300)


CASE = {
    "type": "case",
    "source": "hall",
    "matter": "M-SBCX",
    "unit": "W-02",
    "channel": "window",
    "applicant_kind": "person",
    "received_at": "2026-03-02T09:00:00+08:00",
}


def test_jsonl_import_reports_rejects_and_is_idempotent(install, tmp_path):
    lines = [
        json.dumps({**CASE, "id": "J1"}),
        json.dumps({**CASE, "id": "J2", "matter": "NO-SUCH"}),
        "{not json",
        json.dumps(
            {
                "type": "event",
                "source": "hall",
                "id": "J1/1",
                "case": "J1",
                "event": "arrived",
                "at": "2026-03-02T09:00:00+08:00",
            }
        ),
        json.dumps(
            {
                "type": "event",
                "source": "hall",
                "id": "J1/2",
                "case": "J1",
                "event": "accepted",
                "at": "2026-03-02T09:10",
            }
        ),
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = kaoping(install, "import", "cases", str(path))
    assert first.returncode == 1
    assert "1 case(s) and 1 event(s) imported, 0 already present, 3 rejected" in first.stdout
    report = list(csv.reader((tmp_path / "cases.jsonl.errors.csv").open(encoding="utf-8")))
    assert report[1:] == [
        ["line 2", "J2", "matter: unknown matter 'NO-SUCH'"],
        ["line 3", "", report[2][2]],
        ["line 5", "J1/2", "at: 2026-03-02T09:10:00 has no UTC offset (e.g. +08:00)"],
    ]
    assert report[2][2].startswith("not valid JSON")
    again = kaoping(install, "import", "cases", str(path))
    assert "0 case(s) and 0 event(s) imported, 2 already present, 3 rejected" in again.stdout


def test_csv_with_gbt_field_names(install, tmp_path):
    path = tmp_path / "gbt.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["办件编号", "事项编码", "受理单位编码", "办理渠道", "申请人类型", "收件时间", "申请人名称"]
        )
        writer.writerow(["G1", "M-SBCX", "W-02", "窗口", "自然人", "2026-03-02T10:00:00+08:00", "李四"])
        writer.writerow(["G2", "M-SBCX", "W-02", "传真", "自然人", "2026-03-02T10:00:00+08:00", "王五"])
    done = kaoping(install, "import", "cases", str(path), "--source", "gbt-feed")
    assert "1 case(s) and 0 event(s) imported" in done.stdout
    assert "line 3: channel: '传真' is not one of window, online, home_visit" in done.stderr


def test_xlsx(install, tmp_path):
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["type", "source", "id", "matter", "unit", "channel", "applicant_kind", "received_at"])
    sheet.append(
        ["case", "xl", "X1", "M-SBCX", "W-02", "online", "legal_entity", "2026-03-02T11:00:00+08:00"]
    )
    path = tmp_path / "cases.xlsx"
    book.save(path)
    done = kaoping(install, "import", "cases", str(path))
    assert done.returncode == 0, done.stderr
    assert "1 case(s) and 0 event(s) imported" in done.stdout


def test_unknown_format(install, tmp_path):
    path = tmp_path / "cases.txt"
    path.write_text("x", encoding="utf-8")
    done = kaoping(install, "import", "cases", str(path))
    assert done.returncode == 2 and "unknown format 'txt'" in done.stderr
