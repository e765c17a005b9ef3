"""The reader process of the file imports (``core.bulk.Reader``): its batches in order, and a clear
message instead of a hang when it dies without saying so."""

from __future__ import annotations

from typing import Any

from kaoping.core.bulk import Reader


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
