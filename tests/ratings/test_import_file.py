"""A rating file imported in two processes: the reader looks up the cases when the writer has nothing
uncommitted, the writer otherwise; either way the outcome is the same."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection

from kaoping.core.bulk import sqlite_instant
from kaoping.ratings import services
from kaoping.ratings.codes import Convention
from kaoping.ratings.models import Rating
from kaoping.ratings.rows import instant_of
from kaoping.workcal.calendar import SHANGHAI
from tests.ratings.conftest import rating


def _import(path: Path) -> services.IngestReport:
    return services.ratings_ingest_file(
        actor="test", path=path, source="hcp", label="test", convention=Convention.PROVINCIAL
    )


def _file(tmp_path: Path, *records: dict[str, Any]) -> Path:
    path = tmp_path / "ratings.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + b"{not json\n")
    return path


def _outcome(report: services.IngestReport) -> tuple[Any, ...]:
    return (
        report.accepted,
        report.duplicates,
        report.bad,
        sorted((r.where, r.record_id, r.reason) for r in report.rejected),
        report.first_at,
        report.last_at,
        sorted(
            Rating.objects.values_list(
                "external_id", "case__external_id", "unit__code", "staff__employee_no", "rated_at", "tags"
            )
        ),
    )


RECORDS = (
    rating("R1", level=1, tags="服务态度、办事效率"),
    rating("R1"),  # the same rating twice in one file
    rating("R2"),  # a second first rating of C1 through the same channel
    rating("R3", case="C2", case_source="hall", channel="sms", rated_at="2026-03-03T10:05:00.25+08:00"),
    rating("R4", case="C9"),  # no such case
    rating("R5", case="C2", case_source="other"),
    rating("R6", case="C2", unit="WB"),  # not the unit that handled the case
    rating("R7", case=None, unit="WB", rated_at="2026-03-04T08:00:00+08:00"),
)


def _check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_looks_up: bool) -> None:
    looked_up: list[bool] = []
    store = services._store

    def spy(*args: Any, **kwargs: Any) -> None:
        looked_up.append(kwargs.get("looked_up", False))
        store(*args, **kwargs)

    monkeypatch.setattr(services, "_store", spy)
    first = _outcome(_import(_file(tmp_path, *RECORDS)))
    assert looked_up == [reader_looks_up]
    accepted, duplicates, bad, rejected, first_at, last_at, stored = first
    assert (accepted, duplicates, bad) == (3, 1, 1)
    assert [(where, rid) for where, rid, _ in rejected] == [
        ("line 3", "R2"),
        ("line 5", "R4"),
        ("line 6", "R5"),
        ("line 7", "R6"),
        ("line 9", ""),
    ]
    assert first_at == dt.datetime(2026, 3, 3, 10, 5, tzinfo=SHANGHAI)
    assert last_at == dt.datetime(2026, 3, 4, 8, tzinfo=SHANGHAI)
    assert [s[:4] for s in stored] == [
        ("R1", "C1", "WA", "E100"),
        ("R3", "C2", "WA", "E100"),
        ("R7", None, "WB", None),
    ]
    assert stored[0][5] == ["服务态度", "办事效率"]
    assert stored[1][4] == dt.datetime(2026, 3, 3, 10, 5, 0, 250000, tzinfo=SHANGHAI)
    # Again: the stored ones are duplicates (R1 twice, R3, R7), the refused ones refused for the same reasons.
    again = _outcome(_import(_file(tmp_path, *RECORDS)))
    assert again[:4] == (0, 4, 0, rejected) and again[6] == stored


def test_a_file_import_inside_a_transaction_has_the_writer_look_up_the_cases(
    rated_org, tmp_path, monkeypatch
):
    assert connection.in_atomic_block
    _check(tmp_path, monkeypatch, reader_looks_up=False)


SQLITE_ONLY = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the reader's own look-up and SQLite's stored instants are SQLite's"
)


@SQLITE_ONLY
def test_a_file_import_with_nothing_uncommitted_has_the_reader_look_up_the_cases(
    transactional_db, rated_org, tmp_path, monkeypatch
):
    assert not connection.in_atomic_block
    _check(tmp_path, monkeypatch, reader_looks_up=True)


@SQLITE_ONLY
def test_instants_are_written_as_django_stores_them_and_sort_as_instants():
    instants = [
        dt.datetime(2026, 3, 3, 10, 5, tzinfo=SHANGHAI),
        dt.datetime(2026, 3, 3, 10, 5, 0, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 3, 3, 2, 5, 1, tzinfo=dt.UTC),
    ]
    texts = [sqlite_instant(at) for at in instants]
    assert texts == [connection.ops.adapt_datetimefield_value(at) for at in instants]
    assert sorted(texts) == texts and [instant_of(t) for t in texts] == instants
