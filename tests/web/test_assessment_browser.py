"""In a real browser: the director computes a month's assessment, publishes it, and follows one lost
point of a window from the results table to the late cases behind it; the head then asks for a
re-check."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from kaoping.assessment.models import AssessmentStatus, Recheck
from kaoping.assessment.rollups import rollups_rebuild
from tests.assessment.conftest import World, make_case, make_rating, world
from tests.web.browser import browser_page
from tests.web.test_browser import login

__all__ = ["browser_page", "world"]

pytestmark = pytest.mark.browser


def test_follow_a_lost_point_to_the_cases_behind_it(
    live_server: Any, browser_page: Any, world: World
) -> None:
    window_a = world.org.window_a
    # 20 cases in March 2026, 3 accepted late: 85% against the 95% target costs 8 of 8 points (R0.4).
    for n in range(20):
        make_case(
            world,
            window_a,
            f"2026-03-{2 + n % 20:02d}T09:{n:02d}",
            acceptance_late=n < 3,
            handling_late=False,
            delivery_late=False,
        )
    for n in range(40):
        make_rating(window_a, f"2026-03-{2 + n % 20:02d}T10:00", 5)
    rollups_rebuild(days=None)

    page = browser_page
    login(page, live_server.url, "director")
    page.click("nav >> text=考核")
    page.select_option("select[name=scheme]", "window")
    page.fill("input[name=period]", "2026-03")
    page.click("[data-testid=run-form] button[type=submit]")
    page.click("button:has-text('公布结果')")
    assert "已公布" in page.locator("main").inner_text()

    # The counts wait for the page each click loads (a bare count() may read the page before it).
    expect(page.locator("[data-testid=results] tbody tr")).to_have_count(3)  # WA, WB, WC: every window
    page.click("[data-testid=results] tr[data-unit=WA] a")
    line = page.locator("[data-testid=lines] tr[data-indicator=acceptance_on_time]")
    assert "−8.00" in line.inner_text() and "0.00 / 8" in line.inner_text()
    line.locator("[data-testid=records-acceptance_on_time]").click()

    records = page.locator("[data-testid=records] tbody tr")
    expect(records).to_have_count(3)
    assert "3 条记录" in page.locator("main").inner_text()
    records.first.locator("a").click()  # through to the case itself
    assert page.url.rstrip("/").split("/")[-2] == "cases"

    # The department head sees the published result and asks for a re-check.
    page.context.clear_cookies()
    login(page, live_server.url, "head_a")
    page.click("nav >> text=考核")
    page.locator("[data-testid=runs] a").first.click()
    expect(page.locator("[data-testid=results] tbody tr")).to_have_count(1)  # only A's window is in scope
    page.click("[data-testid=results] tr[data-unit=WA] a")
    page.fill("textarea[name=reason]", "3 月 5 日叫号系统故障，受理时间记录有误")
    page.click("button:has-text('申请复核')")
    recheck = Recheck.objects.get()
    assert recheck.requested_by.username == "head_a"
    assert recheck.result.assessment.status == AssessmentStatus.PUBLISHED
