"""Reading case files: a file shared between reader processes by case."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.cases.files import line_key, read_numbered_rows, record_key

_ID = st.text(alphabet='ab "\\/é', min_size=0, max_size=6)
_RECORD = st.one_of(
    st.builds(lambda i: {"type": "case", "id": i, "matter": "M"}, _ID),
    st.builds(lambda i, c: {"type": "event", "id": i, "case": c, "event": "arrived"}, _ID, _ID),
    st.builds(lambda i: {"办件编号": i}, _ID),
    st.builds(lambda c: {"type": "event", "case": int(c)}, st.integers(0, 99)),
)


def _line(record: Mapping[str, object], compact: bool) -> bytes:
    return orjson.dumps(record) if compact else json.dumps(record, ensure_ascii=False).encode()


_LINE = st.one_of(
    st.builds(_line, _RECORD, st.booleans()),
    st.just(b""),
    st.just(b"{not json"),
    st.just(b'"case": "x"'),  # not an object
    st.just(b'{"case": "x", '),  # cut off
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, max_size=30), parts=st.integers(2, 3))
def test_the_parts_of_a_shared_file_read_every_row_once(
    tmp_path_factory: object, lines: list[bytes], parts: int
) -> None:
    """Every row, readable or not, is read by exactly one part, numbered as in the whole file;
    whether a line's case is read from its bytes or from the parsed record."""
    path = Path(tmp_path_factory.mktemp("share")) / "cases.jsonl"  # type: ignore[attr-defined]
    path.write_bytes(b"\n".join(lines))
    whole = list(read_numbered_rows(path, source="s"))
    shared = [
        row for index in range(parts) for row in read_numbered_rows(path, source="s", by_case=(index, parts))
    ]
    assert sorted(shared, key=lambda row: row[0]) == whole


@given(case_id=st.text(alphabet="abcXYZ-0123/é办", min_size=1, max_size=12), compact=st.booleans())
def test_a_case_and_its_events_have_one_key_in_bytes_and_parsed(case_id: str, compact: bool) -> None:
    """With a plain id, the key read from the bytes is the parsed one, for the case and its events
    alike, in either JSON spacing: a case and its events are read by the same part."""
    case = {"type": "case", "source": "s", "applicant_name": '"id": "x"', "id": case_id, "matter": "M"}
    event = {"type": "event", "source": "s", "id": f"{case_id}/1", "case": case_id, "event": "arrived"}
    keys = {line_key(_line(record, compact)) for record in (case, event)}
    assert keys == {record_key(case)} == {record_key(event)} == {case_id.encode()}
