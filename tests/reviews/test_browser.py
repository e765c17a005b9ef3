"""In a real browser on a phone, with JavaScript off: a rater answers the questionnaire by token."""

from __future__ import annotations

from typing import Any

import pytest

from kaoping.reviews.models import Response
from kaoping.reviews.services import campaign_open, invitations_issue, questionnaire_create
from tests.factories import build_org
from tests.reviews.helpers import ITEMS, make_campaign
from tests.web.browser import browser_page

__all__ = ["browser_page"]

pytestmark = pytest.mark.browser


def test_a_rater_answers_on_a_phone_without_javascript(live_server: Any, browser_page: Any) -> None:
    org = build_org()
    questionnaire = questionnaire_create(actor=org.director, centre=org.centre, name="问卷", items=ITEMS)
    campaign = campaign_open(actor=org.director, campaign=make_campaign(org, questionnaire, [org.dept_a]))
    token = invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_a, group="peers", count=1)[
        0
    ]
    context = browser_page.context.browser.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False, is_mobile=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/reviews/t/{token}/")
        assert page.locator("fieldset[data-testid=item]").count() == 3
        assert page.get_by_text("被上级推广（20分）").is_visible()
        # Large targets: every level is a whole-width label at least 44 px high.
        for box in [label.bounding_box() for label in page.locator("label.rv-level").all()]:
            assert box is not None and box["height"] >= 44 and box["width"] >= 300
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        page.locator("label.rv-level", has_text="5 · 很好").nth(0).click()
        page.locator("label.rv-level", has_text="4 · 较好").nth(1).click()
        page.locator("label.rv-level", has_text="3 · 一般").nth(2).click()
        page.get_by_role("button", name="提交问卷").click()
        page.wait_for_url("**/reviews/thanks/")
        assert page.get_by_test_id("thanks").is_visible()
        assert Response.objects.get().mean == 4.0
        page.goto(f"{live_server.url}/reviews/t/{token}/")
        assert "每个链接只能使用一次" in page.get_by_test_id("token-error").inner_text()
    finally:
        context.close()
