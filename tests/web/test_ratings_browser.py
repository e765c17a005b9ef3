"""In a real browser, phone-sized: a citizen rates a window through its QR link; the rating shows in
the window's figures; the bad rating's follow-up is taken up by the department head."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kaoping.followup.models import Rectification
from kaoping.ratings.models import Rating
from kaoping.workcal.services import calendar_seed_from_package
from tests.factories import build_org
from tests.web.browser import browser_page
from tests.web.test_browser import login

__all__ = ["browser_page"]

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("KAOPING_SCREENSHOTS", "var/screenshots"))


def test_rate_a_window_by_qr_on_a_phone_and_follow_up(live_server: Any, browser_page: Any) -> None:
    calendar_seed_from_package(actor="test")
    org = build_org()
    phone = browser_page.context.browser.new_page(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    phone.goto(f"{live_server.url}/r/w/WA/")
    assert phone.locator("h1").inner_text() == "请您评价我们的服务"
    # Large targets: every level is a whole-width label at least 48 px high.
    box = phone.locator("label.level-2").bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300
    phone.locator("label.level-2").tap()
    phone.locator("label.tag:has-text('排队等候')").tap()
    phone.fill("#id_text", "排队等了一个多小时，叫号系统也不准")
    phone.fill("#id_phone", "13912345678")
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "rate-phone.png"), full_page=True)
    phone.locator("button[type=submit]").tap()
    expect(phone.locator("h1")).to_have_text("感谢您的评价")
    stored = Rating.objects.get()
    assert (stored.level, stored.channel, stored.unit_id) == (2, "qr_code", org.window_a.pk)

    page = browser_page
    login(page, live_server.url, "head_a")
    page.click("nav >> text=好差评")
    page.select_option("select[name=unit]", str(org.window_a.pk))
    page.click("button:has-text('查看')")
    expect(page.locator("[data-testid=total]")).to_have_text("1")
    expect(page.locator("[data-testid=bad]")).to_have_text("1")
    texts = page.locator("[data-testid=texts]").inner_text()
    assert "排队等了一个多小时" in texts and "139****5678" in texts and "13912345678" not in texts
    page.screenshot(path=str(SHOTS / "rating-figures.png"), full_page=True)

    page.click("nav >> text=差评整改")
    page.locator("[data-testid=followup-table] tbody tr a").first.click()
    expect(page.locator("[data-testid=state]")).to_have_text("待回访")
    page.fill("textarea[name=note]", "已电话回访，群众反映高峰期排队过长")
    page.click("button:has-text('记录回访')")
    expect(page.locator("[data-testid=state]")).to_have_text("待研判")
    assert Rectification.objects.get().revisited_at is not None
