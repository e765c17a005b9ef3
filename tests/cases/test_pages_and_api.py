"""Cases through the API and the pages: tokens, scoping, masking, pagination, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kaoping.cases.models import Case, CaseWarning
from kaoping.cases.selectors import CaseFilters, case_list
from kaoping.cases.services import cases_ingest, cases_sweep
from kaoping.catalog.services import matter_create
from kaoping.core.models import ApiToken
from kaoping.workcal.calendar import SHANGHAI
from tests.cases.test_ingest import at, case, event


@pytest.fixture
def setup(org, calendar_db):
    for owner, code in ((org.window_a, "M-COM"), (org.window_b, "M-B")):
        matter_create(
            actor=org.admin,
            code=code,
            name=f"事项{code}",
            kind="committed",
            owner=owner,
            channels=["window", "online"],
        )
    return org


def post(client: Client, records: list[dict[str, Any]], token: str = ""):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/api/cases/records", json.dumps(records), content_type="application/json", headers=headers
    )


def test_a_business_system_posts_records_with_a_token(setup):
    _, key = ApiToken.issue(user=setup.head_a, name="排队叫号系统")
    client = Client()
    response = post(client, [case(), event("e1", "arrived", "2026-03-02T09:00")], token=key)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted_cases": 1, "accepted_events": 1, "duplicates": 0, "rejected": []}
    again = post(client, [case()], token=key).json()
    assert again["duplicates"] == 1 and Case.objects.count() == 1
    assert post(client, [case()], token="wrong").status_code == 401


def test_the_api_refuses_units_outside_the_callers_scope_and_orphan_events(setup):
    client = Client()
    client.force_login(setup.head_a)
    body = post(
        client,
        [case("X1", unit="WB", matter="M-B"), event("e9", "accepted", "2026-03-02T09:00", case_id="nope")],
    ).json()
    assert [r["reason"] for r in body["rejected"]] == [
        "unit: unknown unit 'WB'",
        "case: no case 'nope' from 'hall' (send the case first)",
    ]
    too_many = post(client, [case(f"C{i}") for i in range(1001)])
    assert too_many.status_code == 400 and "at most 1000" in too_many.json()["error"]["why"]


def test_lists_are_scoped_and_paged(setup):
    records = [case(f"A{i:03d}", received_at=f"2026-03-02T09:{i % 60:02d}:00+08:00") for i in range(60)]
    records += [case("B1", unit="WB", matter="M-B")]
    cases_ingest(actor="test", records=[(str(i), r) for i, r in enumerate(records)], label="test")
    head_a, head_b = Client(), Client()
    head_a.force_login(setup.head_a)
    head_b.force_login(setup.head_b)
    first = head_a.get("/api/cases").json()
    assert len(first["items"]) == 50 and first["next"]
    second = head_a.get("/api/cases", {"after": first["next"]}).json()
    ids = [c["external_id"] for c in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 60 and "B1" not in ids
    assert [c["external_id"] for c in head_b.get("/api/cases").json()["items"]] == ["B1"]
    b1 = Case.objects.get(external_id="B1")
    assert head_a.get(f"/api/cases/{b1.pk}").status_code == 404
    assert head_a.get(f"/cases/{b1.pk}/").status_code == 404
    assert head_a.get("/api/cases", {"after": "garbage"}).status_code == 400
    assert head_a.get("/api/cases", {"after": "2026-03-02T09:00:00_5"}).status_code == 400  # no offset


def test_personal_data_is_masked_for_a_department_head_but_not_the_director(setup):
    cases_ingest(actor="test", records=[("1", case(applicant_id_number="11010519491231002X"))], label="test")
    pk = Case.objects.get().pk
    head, director = Client(), Client()
    head.force_login(setup.head_a)
    director.force_login(setup.director)
    masked = head.get(f"/api/cases/{pk}").json()["applicant"]
    assert masked == {"name": "张*", "phone": "138****1234", "id_number": "110105********002X"}
    assert director.get(f"/api/cases/{pk}").json()["applicant"]["phone"] == "13812341234"
    page = head.get(f"/cases/{pk}/").content.decode()
    assert "138****1234" in page and "13812341234" not in page


def test_warning_feed_and_acknowledgement_through_the_page(setup, time_machine):
    time_machine.move_to(at("2026-03-02T10:00"))
    cases_ingest(
        actor="test", records=[("1", case()), ("2", event("e1", "arrived", "2026-03-02T09:00"))], label="test"
    )
    assert cases_sweep(now=at("2026-03-02T10:00")).raised == 3
    client = Client()
    client.force_login(setup.head_a)
    feed = client.get("/cases/warnings/").content.decode()
    assert "超时熔断" in feed and "C1" in feed
    warning = CaseWarning.objects.get(kind="breaker")
    response = client.post(f"/cases/warnings/{warning.pk}/acknowledge/", {"next": "/cases/warnings/"})
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.acknowledged_by == setup.head_a
    other = Client()
    other.force_login(setup.head_b)
    assert other.post(f"/cases/warnings/{warning.pk}/acknowledge/").status_code == 404
    day = client.get("/cases/day/", {"unit": setup.window_a.pk, "date": "2026-03-02"}).content.decode()
    assert 'data-testid="received">1<' in day


def test_case_list_page_filters_and_query_count(setup, django_assert_max_num_queries):
    records = [case(f"A{i}", channel="online" if i % 2 else "window") for i in range(20)]
    cases_ingest(actor="test", records=[(str(i), r) for i, r in enumerate(records)], label="test")
    client = Client()
    client.force_login(setup.director)
    with django_assert_max_num_queries(12):
        page = client.get("/cases/", {"channel": "online", "status": "open"}).content.decode()
    assert page.count("网上办理") >= 10 and "A1<" in page and "A2<" not in page


def test_provisional_deadlines_are_recomputed_when_the_year_is_published(setup, tmp_path):
    from chinese_calendar import constants
    from django.test import TestCase

    from kaoping.workcal.services import calendar_import_file

    last = max(constants.holidays).year
    cases_ingest(
        actor="test",
        records=[
            ("1", case(received_at=f"{last}-12-30T09:00:00+08:00")),
            ("2", event("e1", "accepted", f"{last}-12-30T09:10")),
        ],
        label="test",
    )
    stored = Case.objects.get()
    assert stored.provisional
    path = tmp_path / "next.txt"
    path.write_text(f"year {last + 1}\n{last + 1}-01-01..{last + 1}-01-05 holiday 元旦\n", encoding="utf-8")
    with TestCase.captureOnCommitCallbacks(execute=True):
        calendar_import_file(actor="test", path=path)
    stored.refresh_from_db()
    assert not stored.provisional
    assert stored.handling_due_at is not None and stored.handling_due_at.astimezone(SHANGHAI).day >= 6


def test_unreadable_list_filters_are_reported_not_silently_dropped(setup, client):
    client.force_login(setup.director)
    page = client.get("/cases/?unit=abc&start=2026-13-01&status=lost")
    body = page.content.decode()
    assert page.status_code == 400
    assert "“abc”不是有效的编号" in body and "“2026-13-01”不是日期" in body and "“lost”不是可选值" in body
    assert client.get("/cases/?status=overdue").status_code == 200


def test_the_unit_filter_takes_the_unit_and_every_unit_below_it(setup):
    """A window (no units below it) and a department or centre (a subtree) filter alike: the unit's
    own cases and those of the units below it, within the user's scope."""
    records = [case(f"A{i}") for i in range(3)] + [case(f"B{i}", unit="WB", matter="M-B") for i in range(2)]
    cases_ingest(actor="test", records=[(str(i), r) for i, r in enumerate(records)], label="test")

    def listed(user: Any, unit: Any) -> list[str]:
        return sorted(c.external_id for c in case_list(user=user, filters=CaseFilters(unit=unit.pk)))

    assert listed(setup.director, setup.window_a) == ["A0", "A1", "A2"]
    assert listed(setup.director, setup.dept_a) == ["A0", "A1", "A2"]
    assert listed(setup.director, setup.window_b) == ["B0", "B1"]
    assert listed(setup.director, setup.centre) == ["A0", "A1", "A2", "B0", "B1"]
    assert listed(setup.head_b, setup.window_a) == []  # not in the head's department
    assert listed(setup.head_b, setup.centre) == ["B0", "B1"]
