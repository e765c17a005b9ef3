"""In a real browser: the case list, a case's timeline, and acknowledging a warning."""

from __future__ import annotations

from typing import Any

import pytest

from kaoping.cases.models import CaseWarning
from kaoping.cases.services import cases_ingest, cases_sweep
from kaoping.catalog.services import matter_create
from kaoping.workcal.services import calendar_seed_from_package
from tests.cases.test_ingest import at, case, event
from tests.factories import build_org
from tests.web.browser import browser_page
from tests.web.test_browser import login

__all__ = ["browser_page"]

pytestmark = pytest.mark.browser


def test_list_detail_and_acknowledge(live_server: Any, browser_page: Any) -> None:
    calendar_seed_from_package(actor="test")
    org = build_org()
    matter_create(
        actor=org.admin,
        code="M-COM",
        name="不动产转移登记",
        kind="committed",
        owner=org.window_a,
        channels=["window"],
    )
    cases_ingest(
        actor="test",
        label="test",
        now=at("2026-03-02T10:00"),
        records=[
            ("1", case("LATE-1")),
            ("2", event("e1", "arrived", "2026-03-02T09:00", case_id="LATE-1")),
            ("3", case("OK-1", received_at="2026-03-02T09:30:00+08:00")),
            ("4", event("e2", "arrived", "2026-03-02T09:30", case_id="OK-1")),
            ("5", event("e3", "accepted", "2026-03-02T09:40", case_id="OK-1")),
        ],
    )
    assert cases_sweep(now=at("2026-03-02T10:00")).raised == 3  # LATE-1: due soon, overdue, breaker
    page = browser_page
    login(page, live_server.url, "head_a")

    page.click("nav >> text=办件")
    rows = page.locator("[data-testid=case-table] tbody tr")
    assert rows.count() == 2
    page.select_option("select[name=status]", "breaker")
    page.click("button:has-text('筛选')")
    assert page.locator("[data-testid=case-table] tbody tr").count() == 1
    page.click("text=LATE-1")

    timeline = page.locator("[data-testid=timeline]")
    acceptance = timeline.locator("tr[data-node=acceptance]")
    assert "30个工作分钟" in acceptance.inner_text()
    assert "熔断" in acceptance.inner_text()
    assert page.locator("[data-testid=applicant-phone]").inner_text() == "138****1234"

    page.click("nav >> text=预警")
    table = page.locator("[data-testid=warning-table] tbody tr")
    assert table.count() == 3
    breaker = CaseWarning.objects.get(kind="breaker")
    page.locator(f"tr[data-warning='{breaker.pk}'] button:has-text('确认')").click()
    assert "预警已确认" in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=warning-table] tbody tr").count() == 2
    breaker.refresh_from_db()
    assert breaker.acknowledged_by is not None and breaker.acknowledged_by.username == "head_a"
