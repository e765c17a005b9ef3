"""In a real browser: log in, find the calendar page, see holidays and make-up days."""

from __future__ import annotations

from typing import Any

import pytest

from kaoping.workcal.services import calendar_seed_from_package
from tests.factories import build_org
from tests.web.browser import browser_page

__all__ = ["browser_page"]

pytestmark = pytest.mark.browser


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("button[type=submit]")


def test_log_in_and_see_the_calendar(live_server: Any, browser_page: Any) -> None:
    calendar_seed_from_package(actor="test")
    build_org()
    page = browser_page
    login(page, live_server.url, "head_a")
    assert page.locator("[data-testid=username]").inner_text() == "head_a"
    assert page.locator("h1").inner_text() == "工作台"

    page.click("text=工作日历")
    page.goto(f"{live_server.url}/calendar/2026/2/")
    assert page.locator("[data-testid=month-title]").inner_text() == "2026年2月"
    # Spring Festival: 15–23 Feb off; 14 and 28 Feb are make-up workdays.
    assert page.locator("td[data-date='2026-02-16']").get_attribute("data-kind") == "holiday"
    assert page.locator("td[data-date='2026-02-14']").get_attribute("data-kind") == "make_up_workday"
    assert page.locator("td[data-date='2026-02-28']").get_attribute("data-kind") == "make_up_workday"
    assert page.locator("td[data-date='2026-02-24']").get_attribute("data-kind") == "workday"
    assert "春节" in page.locator("td[data-date='2026-02-17']").inner_text()
    # 20 weekdays − 6 off + 2 make-up days.
    assert page.locator("[data-testid=workday-count]").inner_text() == "16"

    page.click("text=下月")
    assert page.locator("[data-testid=month-title]").inner_text() == "2026年3月"


def test_an_unpublished_year_is_marked_provisional(live_server: Any, browser_page: Any) -> None:
    from chinese_calendar import constants

    calendar_seed_from_package(actor="test")
    build_org()
    page = browser_page
    login(page, live_server.url, "director")
    next_year = max(constants.holidays).year + 1
    page.goto(f"{live_server.url}/calendar/{next_year}/1/")
    assert page.locator("[data-testid=provisional]").is_visible()
    assert page.locator(f"td[data-date='{next_year}-01-01']").get_attribute("data-kind") == "holiday"


def test_english_is_available(live_server: Any, browser_page: Any) -> None:
    calendar_seed_from_package(actor="test")
    build_org()
    page = browser_page
    login(page, live_server.url, "director")
    page.click("button[value=en]")
    assert page.locator("h1").inner_text() == "Workbench"
    page.click("button[value=zh-hans]")
    assert page.locator("h1").inner_text() == "工作台"


def test_a_wrong_password_is_refused(live_server: Any, browser_page: Any) -> None:
    build_org()
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "head_a")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
