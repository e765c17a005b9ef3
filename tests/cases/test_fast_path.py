"""The fast path of a file's common records: whatever it accepts, the general path (cleaning,
``validate``, the reader's rows) accepts too and turns into the same row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.cases.deadlines import EventKind
from kaoping.cases.files import clean
from kaoping.cases.ingest import CaseRecord, EventRecord, FastPath, Lookups, RecordError, validate
from kaoping.cases.pipeline import case_item, event_row, sqlite_detail
from kaoping.core.bulk import sqlite_instant
from kaoping.workcal.calendar import SHANGHAI

SPAN = (dt.datetime(2024, 1, 1, tzinfo=SHANGHAI), dt.datetime(2027, 1, 1, tzinfo=SHANGHAI))
LOOKUPS = Lookups(
    matters={"M-1": (1, 10, ("window", "online")), "M-2": (2, 10, ("online",))},
    units={"W-1": 10, "W-2": 11},
    staff={"S-1": 5},
    span=SPAN,
)
SOURCE = "file"


def _general(raw: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The general path's (case id or "", row), or None when it rejects the record."""
    try:
        record = validate(clean(dict(raw), SOURCE), LOOKUPS)
    except RecordError:
        return None
    if isinstance(record, CaseRecord):
        return "", case_item("", record, sqlite_instant)[1]
    assert isinstance(record, EventRecord)
    return record.case_external_id, event_row(record, sqlite_instant, sqlite_detail)


def _fast(raw: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    fast = FastPath(LOOKUPS, SOURCE)
    if raw.get("type") == "case":
        row = fast.case(raw)
        return None if row is None else ("", row)
    return fast.event(raw) if raw.get("type") == "event" else None


WHOLE_HOURS = st.builds(lambda hours: dt.timezone(dt.timedelta(hours=hours)), st.integers(-12, 14))
GOOD_INSTANT = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=dt.datetime(2026, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=WHOLE_HOURS,
).map(lambda at: at.replace(microsecond=0).isoformat())
ODD_INSTANT = st.one_of(
    st.sampled_from(
        [
            "2025-03-04T09:15:30+08:00",
            "2025-03-04T23:59:59-05:00",
            "2025-03-04 09:15:30+08:00",
            "2025-03-04T09:15:30+05:30",  # not a whole hour: the general path
            "2025-03-04T09:15:30Z",
            "2025-03-04T09:15:30",  # no offset: refused
            "2025-03-04T09:15:30.250+08:00",
            "2025-03-04T09:60:30+08:00",
            "2025-03-04T24:00:00+08:00",
            "2025-02-30T09:15:30+08:00",
            "2023-12-31T23:59:59+08:00",  # outside the span
            "2024-01-01T00:00:00+08:00",  # its first instant
            "2023-12-31T16:30:00+00:00",  # the same hour as the span's start, in UTC
            "2026-12-31T23:59:59+08:00",
            "2027-01-01T00:00:00+08:00",
            "2025-W10-2T09:15:30+08:00",
            "2025-03-04x09:15:30+08:00",
            " 2025-03-04T09:15:30+08:00",
            "",
        ]
    ),
    st.integers(0, 10**9),
    st.none(),
    st.datetimes(
        min_value=dt.datetime(2023, 12, 30),  # noqa: DTZ001
        max_value=dt.datetime(2027, 1, 2),  # noqa: DTZ001
        timezones=WHOLE_HOURS,
    ).map(lambda at: at.isoformat()),
)


ODD = st.one_of(
    st.sampled_from(["", " ", "x" * 41, "x" * 81, "x" * 101, "x" * 121, None, 7, " M-1", "W-1 ", "unknown"]),
    st.sampled_from(
        ["supplement", "review", "S-1", "M-2", "W-2", "online", *[kind.value for kind in EventKind]]
    ),
    ODD_INSTANT,
)


def _record(kind: str, good: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A record of good values, then up to three changes: a field left out, or given an odd value
    (blank, padded, too long, not text, unknown, another field's)."""
    names = sorted(good)

    def build(record: dict[str, Any], changes: list[tuple[str, bool, Any]]) -> dict[str, Any]:
        for name, drop, value in changes:
            if drop:
                record.pop(name, None)
            else:
                record[name] = value
        return {"type": kind, **record}

    change = st.tuples(
        st.sampled_from([*names, "办件编号", "note", "pause_kind", "reason"]), st.booleans(), ODD
    )
    return st.builds(build, st.fixed_dictionaries(good), st.lists(change, max_size=3))


CASES = _record(
    "case",
    {
        "source": st.sampled_from(["crm", "a" * 40]),
        "id": st.sampled_from(["C-1", "a" * 80]),
        "matter": st.sampled_from(["M-1", "M-2"]),
        "unit": st.sampled_from(["W-1", "W-2"]),
        "channel": st.sampled_from(["window", "online", "home_visit"]),
        "applicant_kind": st.sampled_from(["person", "legal_entity"]),
        "received_at": GOOD_INSTANT,
        "staff": st.sampled_from(["S-1", "S-2", ""]),
        "applicant_name": st.sampled_from(["张三", "n" * 100]),
        "applicant_phone": st.sampled_from(["13800000000", "1" * 30]),
        "applicant_id_number": st.sampled_from(["110101199001011234"]),
    },
)

EVENTS = _record(
    "event",
    {
        "source": st.sampled_from(["crm"]),
        "id": st.sampled_from(["C-1/1", "e" * 120]),
        "case": st.sampled_from(["C-1", "c" * 80]),
        "event": st.sampled_from([kind.value for kind in EventKind]),
        "at": GOOD_INSTANT,
        "node": st.sampled_from(["review", "n" * 40]),
    },
)


@settings(max_examples=1500, deadline=None)
@given(raw=st.one_of(CASES, EVENTS))
def test_what_the_fast_path_accepts_the_general_path_stores_alike(raw: dict[str, Any]) -> None:
    fast = _fast(raw)
    if fast is not None:
        assert fast == _general(raw)


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=dt.datetime(2024, 1, 2),  # noqa: DTZ001
        max_value=dt.datetime(2026, 12, 30),  # noqa: DTZ001
        timezones=WHOLE_HOURS,
    )
)
def test_an_instant_with_a_whole_hour_offset_takes_the_fast_path(at: dt.datetime) -> None:
    text = at.replace(microsecond=0).isoformat()
    assert FastPath(LOOKUPS, SOURCE).instant(text) == sqlite_instant(dt.datetime.fromisoformat(text))


def test_a_files_common_records_take_the_fast_path() -> None:
    """Not vacuous: the records a business system sends most take it, and their rows are the
    general path's."""
    case = {
        "type": "case",
        "source": "crm",
        "id": "C-1",
        "matter": "M-1",
        "unit": "W-1",
        "channel": "window",
        "applicant_kind": "person",
        "received_at": "2025-03-04T09:15:30+08:00",
        "staff": "S-1",
        "applicant_name": "张三",
        "applicant_phone": "13800000000",
        "applicant_id_number": "110101199001011234",
    }
    event = {
        "type": "event",
        "id": "C-1/1",
        "case": "C-1",
        "event": "accepted",
        "at": "2025-03-04T09:20:00+08:00",
    }
    assert (
        _fast(case)
        == _general(case)
        == (
            "",
            (
                "crm",
                "C-1",
                1,
                10,
                5,
                "window",
                "person",
                "张三",
                "13800000000",
                "110101199001011234",
                "2025-03-04 01:15:30",
            ),
        )
    )
    assert (
        _fast(event)
        == _general(event)
        == ("C-1", (SOURCE, "C-1/1", "accepted", "2025-03-04 01:20:00", "", "{}"))
    )
    # An extension carries a detail: the general path builds it.
    assert _fast({**event, "event": "extension_granted"}) is None
