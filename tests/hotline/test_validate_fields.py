"""The per-field checks of an event record, fast path or not: text is trimmed, a number taken as its
text, a wrong type or an over-long value refused with the field's name (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from kaoping.hotline.ingest import EventRecord, Lookups, RecordError, validate
from kaoping.hotline.workflow import Action

LOOKUPS = Lookups(centres={"H1": (1, "/1/")}, units={"HU-A": (2, "/1/2/")}, staff={})


def event(**changes: Any) -> dict[str, Any]:
    record = {
        "type": "event",
        "source": "12345",
        "id": "E1",
        "ticket": "T1",
        "action": "sign",
        "at": "2026-03-02T10:00:00+08:00",
    }
    record.update(changes)
    return record


def test_trimmed_text_and_numbers_are_taken() -> None:
    found = validate(event(action=" sign ", id=" E1 ", ticket=17, source="\t12345"), LOOKUPS)
    assert isinstance(found, EventRecord)
    assert (found.action, found.external_id, found.ticket_external_id, found.source) == (
        Action.SIGN,
        "E1",
        "17",
        "12345",
    )
    assert found.at.utcoffset() is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"action": ["sign"]}, "action: must be text, not list"),
        ({"action": "fly"}, "action: 'fly': is not one of"),
        ({"action": "accept"}, "the ticket record is the acceptance"),
        ({"id": "   "}, "id: is required"),
        ({"id": "x" * 121}, "id: is longer than 120 characters"),
        ({"ticket": None}, "ticket: is required"),
        ({"ticket": {"a": 1}}, "ticket: must be text, not dict"),
        ({"source": "s" * 41}, "source: is longer than 40 characters"),
        ({"at": "2026-03-02T10:00:00"}, "at: 2026-03-02T10:00:00 has no UTC offset"),
        ({"at": " 2026-03-02 10:00 +08:00 "}, None),
        ({"at": "yesterday"}, "at: 'yesterday' is not an ISO 8601 instant"),
    ],
)
def test_each_field_is_checked(changes: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert isinstance(validate(event(**changes), LOOKUPS), EventRecord)
        return
    with pytest.raises(RecordError) as caught:
        validate(event(**changes), LOOKUPS)
    assert message in str(caught.value)
