from __future__ import annotations

from typing import Any

import pytest

from kaoping.cases.services import cases_ingest
from kaoping.catalog.services import matter_create
from kaoping.org.services import staff_create


@pytest.fixture
def rated_org(org, calendar_db):
    """The test organisation with a matter, a staff member at window A and two handled cases."""
    matter_create(
        actor=org.admin,
        code="M-COM",
        name="承诺事项",
        kind="committed",
        owner=org.window_a,
        channels=["window"],
    )
    staff_create(actor=org.admin, unit=org.window_a, name="李四", employee_no="E100", devices="PC-E100")
    records: list[dict[str, Any]] = []
    for n in (1, 2):
        records += [
            {
                "type": "case",
                "source": "hall",
                "id": f"C{n}",
                "matter": "M-COM",
                "unit": "WA",
                "staff": "E100",
                "channel": "window",
                "applicant_kind": "person",
                "received_at": "2026-03-02T09:00:00+08:00",
                "applicant_name": "张三",
                "applicant_phone": "13812341234",
            },
            {
                "type": "event",
                "source": "hall",
                "id": f"C{n}/1",
                "case": f"C{n}",
                "event": "accepted",
                "at": "2026-03-02T09:10:00+08:00",
            },
            {
                "type": "event",
                "source": "hall",
                "id": f"C{n}/2",
                "case": f"C{n}",
                "event": "handled",
                "at": "2026-03-03T10:00:00+08:00",
            },
        ]
    report = cases_ingest(actor="test", records=[(str(i), r) for i, r in enumerate(records)], label="t")
    assert not report.rejected
    return org


def rating(rating_id: str = "R1", **extra: Any) -> dict[str, Any]:
    """A rating of case C1 in the provincial convention unless the test says otherwise."""
    return {
        "type": "rating",
        "source": "hcp",
        "id": rating_id,
        "case": "C1",
        "level": 5,
        "channel": "hall_tablet",
        "rater_kind": "person",
        "real_name": True,
        "rater_phone": "13812341234",
        "rated_at": "2026-03-03T10:05:00+08:00",
        "device": "TAB-WA",
        **extra,
    }
