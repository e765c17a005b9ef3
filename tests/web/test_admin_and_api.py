"""The admin for the calendar and the API's answers to bad input."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain
from kaoping.workcal.models import CalendarDay, CalendarYear
from kaoping.workcal.selectors import get_calendar, invalidate_calendar_cache


def admin_client(org) -> Client:
    client = Client()
    client.force_login(org.admin)
    return client


def inline(prefix: str, rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, (day, kind, name) in enumerate(rows):
        data.update({f"{prefix}-{i}-date": day, f"{prefix}-{i}-kind": kind, f"{prefix}-{i}-name": name})
    return data


def test_a_new_year_entered_in_the_admin_is_logged_and_used(org, calendar_db):
    client = admin_client(org)
    response = client.post(
        "/admin/workcal/calendaryear/add/",
        {
            "year": "2041",
            "published": "on",
            "source": "admin",
            "note": "国办发明电",
            **inline("days", [("2041-01-01", "holiday", "元旦"), ("2041-01-05", "workday", "元旦调休")]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.filter(year_id=2041).count() == 2
    invalidate_calendar_cache()
    calendar = get_calendar()
    assert calendar.is_workday(dt.date(2041, 1, 5))  # a Saturday made a workday
    assert 2041 in calendar.published_years
    last = EvidenceEntry.objects.filter(object_type="workcal.calendaryear", object_id="2041").latest("seq")
    assert last.action == "admin.change_related"
    assert verify_chain().ok


def test_the_admin_refuses_a_make_up_day_on_a_weekday(org, calendar_db):
    response = admin_client(org).post(
        "/admin/workcal/calendaryear/add/",
        {
            "year": "2042",
            "published": "on",
            "source": "admin",
            "note": "",
            **inline("days", [("2042-01-06", "workday", "周一")]),
        },
    )
    assert response.status_code == 200
    assert "调休上班日应为周六或周日" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2042).exists()


def test_api_due_and_its_errors(org, calendar_db):
    client = Client()
    client.force_login(org.head_a)
    ok = client.get("/api/calendar/due", {"start": "2025-09-26T10:00:00+08:00", "working_days": "3"})
    assert ok.json() == {"due": "2025-09-30T17:30:00+08:00", "provisional": False}
    naive = client.get("/api/calendar/due", {"start": "2025-09-26T10:00", "working_days": "3"})
    assert naive.status_code == 400 and naive.json()["error"]["code"] == "naive_datetime"
    garbage = client.get("/api/calendar/due", {"start": "soon", "working_days": "3"})
    assert garbage.status_code == 400 and "not an ISO 8601" in garbage.json()["error"]["why"]
    absurd = client.get("/api/calendar/due", {"start": "2025-09-26T10:00:00+08:00", "working_days": "-1"})
    assert absurd.status_code == 400 and "out of range" in absurd.json()["error"]["why"]
    both = client.get(
        "/api/calendar/due", {"start": "2025-09-26T10:00:00+08:00", "working_days": "1", "working_hours": "2"}
    )
    assert both.status_code == 400
    days = client.get("/api/calendar/days/2026/2").json()
    assert [d["date"] for d in days if d["kind"] == "make_up_workday"] == ["2026-02-14", "2026-02-28"]
    assert client.get("/api/calendar/days/2026/13").status_code == 400


def test_openapi_docs_are_served(org):
    client = Client()
    client.force_login(org.admin)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.content.decode()  # centres often run on closed networks
    schema = client.get("/api/openapi.json").json()
    assert "/api/calendar/due" in schema["paths"]


def test_evidence_page_and_api_are_for_auditors(org):
    auditor, head = Client(), Client()
    auditor.force_login(org.auditor)
    head.force_login(org.head_a)
    assert auditor.get("/api/evidence/verify").json()["ok"] is True
    assert "存证链完整" in auditor.get("/evidence/verify/").content.decode()
    assert head.get("/api/evidence/verify").status_code == 403
    assert head.get("/evidence/verify/").status_code == 403


def test_case_pages_are_available_in_english(org):
    client = Client()
    client.force_login(org.head_a)
    client.cookies["django_language"] = "en"
    page = client.get("/cases/").content.decode()
    assert "Case no." in page and "No cases match." in page
    assert "办件编号" not in page
