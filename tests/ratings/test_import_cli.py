"""`kaoping import ratings FILE --codes …` as a user runs it."""

from __future__ import annotations

import csv
import json

from openpyxl import Workbook

from tests.cases.test_import_cli import kaoping

RATING = {
    "source": "hcp",
    "unit": "W-02",
    "channel": "hall_tablet",
    "rater_kind": "person",
    "rated_at": "2026-03-02T09:00:00+08:00",
}


def test_jsonl_import_needs_declared_codes_reports_rejects_and_is_idempotent(cli_install, tmp_path):
    lines = [
        json.dumps({**RATING, "id": "J1", "level": 1}),
        json.dumps({**RATING, "id": "J2", "level": 7}),
        json.dumps({**RATING, "id": "J3", "level": 5, "text": "差" * 600}),
        json.dumps({**RATING, "id": "J4", "level": 5, "rated_at": "2026-03-02T09:00"}),
    ]
    path = tmp_path / "ratings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    missing = kaoping(cli_install, "import", "ratings", str(path))
    assert missing.returncode == 2 and "--codes" in missing.stderr  # never guessed
    first = kaoping(cli_install, "import", "ratings", str(path), "--codes", "gbt39046")
    assert first.returncode == 1
    assert "1 rating(s) imported (0 bad, follow-ups opened), 0 already present, 3 rejected" in first.stdout
    assert "anti-gaming scan queued for the task worker" in first.stdout
    report = list(csv.reader((tmp_path / "ratings.jsonl.errors.csv").open(encoding="utf-8")))
    assert [row[:2] for row in report[1:]] == [["line 2", "J2"], ["line 3", "J3"], ["line 4", "J4"]]
    assert report[1][2] == "level: 7 is not a level code: codes run from 1 to 5 (codes read as gbt39046)"
    assert report[2][2] == "text: is longer than 500 characters (600)"
    again = kaoping(cli_install, "import", "ratings", str(path), "--codes", "gbt39046")
    assert "0 rating(s) imported (0 bad, follow-ups opened), 1 already present, 3 rejected" in again.stdout


def test_csv_with_gbt_names_and_xlsx_in_the_provincial_convention(cli_install, tmp_path):
    path = tmp_path / "gbt.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["评价编号", "评价对象编码", "评价渠道", "评价人类型", "评价时间", "评价等级", "评价内容"]
        )
        writer.writerow(["G1", "W-02", "3", "1", "2026-03-02T10:00:00+08:00", "5", "排队太久，态度一般"])
        writer.writerow(["G2", "W-02", "9", "1", "2026-03-02T10:00:00+08:00", "1", ""])
    done = kaoping(cli_install, "import", "ratings", str(path), "--codes", "gbt39046", "--source", "gbt")
    assert "1 rating(s) imported (1 bad, follow-ups opened)" in done.stdout
    assert "line 3: channel: '9' is not a rating channel" in done.stderr

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["source", "id", "unit", "channel", "rater_kind", "rated_at", "level"])
    sheet.append(["xl", "X1", "W-02", "sms", "person", "2026-03-02T11:00:00+08:00", "1"])
    xlsx = tmp_path / "ratings.xlsx"
    book.save(xlsx)
    done = kaoping(cli_install, "import", "ratings", str(xlsx), "--codes", "provincial")
    assert done.returncode == 0, done.stderr
    assert "1 rating(s) imported (1 bad, follow-ups opened)" in done.stdout


def test_scan_now_flags_a_burst_from_one_tablet(cli_install, tmp_path):
    lines = [
        json.dumps(
            {
                **RATING,
                "id": f"B{n}",
                "level": "非常满意",
                "device": "TAB-W-02",
                "rated_at": f"2026-04-01T10:0{n}:00+08:00",
            }
        )
        for n in range(6)
    ]
    path = tmp_path / "burst.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = kaoping(cli_install, "import", "ratings", str(path), "--codes", "provincial", "--scan-now")
    assert done.returncode == 0, done.stderr
    assert "6 rating(s) imported" in done.stdout and "6 flagged as suspicious" in done.stdout
