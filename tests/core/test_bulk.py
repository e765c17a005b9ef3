"""The reader process of the file imports (``core.bulk.Reader``): its batches in order, and a clear
message instead of a hang when it dies without saying so. The SQLite text of an instant. Inserting
many rows at once."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.core.bulk import INSERT_ROWS, Reader, insert_rows, sqlite_epoch, sqlite_epochs, sqlite_instant


def _reads(rows: list[str], out: Any) -> None:
    for row in rows:
        out.put(row)
    out.put(None)


def _dies(out: Any) -> None:
    raise SystemExit(3)  # as if killed: nothing put, not even the final None


def test_the_batches_come_in_order_then_none() -> None:
    with Reader(_reads, rows=["a", "b", "c"]) as reader:
        assert [reader.get() for _ in range(4)] == ["a", "b", "c", None]


def test_a_reader_that_dies_gives_a_message_not_a_hang() -> None:
    with Reader(_dies) as reader:
        assert reader.get() == "the reading process ended unexpectedly (exit code 3)"


def _part(batches: list[str], out: Any, part: tuple[int, int]) -> None:
    index, parts = part
    for number in range(index, len(batches), parts):
        out.put(batches[number])
    out.put(None)


def test_parts_take_turns_so_the_batches_come_in_file_order() -> None:
    batches = [f"b{n}" for n in range(7)]  # 3 parts: the first has one more than the others
    with Reader(_part, parts=3, batches=batches) as reader:
        assert [reader.get() for _ in range(8)] == [*batches, None]


def _reference(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


@settings(max_examples=400, deadline=None)
@given(
    # Naive bounds, as hypothesis wants them; each instant gets its zone in the test.
    moment=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 12, 31)),  # noqa: DTZ001
    quarters=st.integers(min_value=-14 * 4, max_value=14 * 4),
    fold=st.integers(min_value=0, max_value=1),
    zone=st.sampled_from([None, "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"]),
)
def test_sqlite_instant_is_the_utc_text_of_any_aware_instant(
    moment: dt.datetime, quarters: int, fold: int, zone: str | None
) -> None:
    """The hour-by-hour shortcut gives what converting each instant gives: fixed offsets whole or
    not (+05:30, -03:45), zones with daylight saving (an ambiguous hour's fold), microseconds."""
    tz = ZoneInfo(zone) if zone else dt.timezone(dt.timedelta(minutes=15 * quarters))
    value = moment.replace(tzinfo=tz, fold=fold)
    assert sqlite_instant(value) == _reference(value)
    assert sqlite_instant(value) == _reference(value)  # again, from the remembered hour


def test_sqlite_instant_examples() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert sqlite_instant(dt.datetime(2026, 3, 2, 7, 5, 9, tzinfo=shanghai)) == "2026-03-01 23:05:09"
    micro = dt.datetime(2026, 3, 2, 9, 0, 0, 120, tzinfo=shanghai)
    assert sqlite_instant(micro) == "2026-03-02 01:00:00.000120"
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert sqlite_instant(dt.datetime(2026, 3, 2, 9, 10, tzinfo=india)) == "2026-03-02 03:40:00"


def _niceness(out: Any) -> None:
    out.put(os.nice(0))
    out.put(None)


def test_readers_can_run_at_a_lower_priority() -> None:
    with Reader(_niceness, nice=5) as reader:
        assert reader.get() == min(os.nice(0) + 5, 19)
        assert reader.get() is None


@given(st.integers(0, 4_102_444_800))  # 1970 to 2100
def test_sqlite_epoch_is_the_text_of_that_instant(epoch: int) -> None:
    assert sqlite_epoch(epoch) == sqlite_instant(dt.datetime.fromtimestamp(epoch, dt.UTC))
    assert sqlite_epoch(epoch) == sqlite_instant(dt.datetime.fromtimestamp(epoch, dt.UTC))  # remembered day


MISSING = -(2**63)


@given(st.lists(st.one_of(st.integers(0, 4_102_444_800), st.just(MISSING)), max_size=30))
def test_sqlite_epochs_is_sqlite_epoch_of_each(epochs: list[int]) -> None:
    """The column form: each instant's text, None where the column holds the missing mark."""
    expected = [None if epoch == MISSING else sqlite_epoch(epoch) for epoch in epochs]
    assert sqlite_epochs(np.array(epochs, dtype=np.int64), MISSING) == expected


def test_sqlite_epochs_example() -> None:
    column = np.array([1_772_406_309, MISSING, 0], dtype=np.int64)
    assert sqlite_epochs(column, MISSING) == ["2026-03-01 23:05:09", None, "1970-01-01 00:00:00"]


@pytest.mark.django_db
def test_insert_rows_inserts_every_row_over_several_statements_and_counts_the_new_ones() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bulk_probe (n integer NOT NULL UNIQUE, label varchar(20) NOT NULL)")
    rows = [(n, f"row {n}") for n in range(2 * INSERT_ROWS + 7)]  # two full statements and a short one
    assert insert_rows("bulk_probe", ("n", "label"), rows) == len(rows)
    again = [(n, f"again {n}") for n in range(INSERT_ROWS - 3, 3 * INSERT_ROWS)]
    new = 3 * INSERT_ROWS - len(rows)
    assert insert_rows("bulk_probe", ("n", "label"), again, conflict="ON CONFLICT (n) DO NOTHING") == new
    assert insert_rows("bulk_probe", ("n", "label"), []) == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, label FROM bulk_probe ORDER BY n")
        stored = cursor.fetchall()
    assert stored == rows + again[len(again) - new :]
    with pytest.raises(IntegrityError), transaction.atomic():  # the driver's error, as Django's
        insert_rows("bulk_probe", ("n", "label"), [(0, "once more")])


@pytest.mark.django_db
def test_flags_and_nulls_are_stored_as_before_through_the_registered_adapters() -> None:
    """core's ready() registers SQLite adapters for bool and None (a speed-up): a bool is still
    stored as 1 or 0, a None as NULL, whichever way it is bound."""
    assert {(bool, sqlite3.PrepareProtocol), (type(None), sqlite3.PrepareProtocol)} <= sqlite3.adapters.keys()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE flag_probe (flag boolean NULL, other boolean NULL)")
        cursor.execute("INSERT INTO flag_probe VALUES (%s, %s), (%s, %s)", [True, None, False, None])
    insert_rows("flag_probe", ("flag", "other"), [(True, False), (None, True)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT flag, other FROM flag_probe ORDER BY flag, other")
        stored = [tuple(None if v is None else bool(v) for v in row) for row in cursor.fetchall()]
    assert sorted(stored, key=repr) == sorted(
        [(True, None), (False, None), (True, False), (None, True)], key=repr
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT typeof(flag), typeof(other), flag, other FROM flag_probe ORDER BY rowid")
            assert cursor.fetchall() == [
                ("integer", "null", 1, None),
                ("integer", "null", 0, None),
                ("integer", "integer", 1, 0),
                ("null", "integer", None, 1),
            ]
