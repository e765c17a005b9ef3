"""In a real browser: one hotline ticket from the call to its closure across the three roles — the call
taker accepts and dispatches it to the wrong unit, which signs and asks to return it; the monitor approves
the return; the call taker re-dispatches; the right unit signs, handles, replies and revisits; the centre's
revisit (满意) closes it."""

from __future__ import annotations

from typing import Any

import pytest

from kaoping.hotline.models import Ticket, TicketEvent
from tests.hotline.conftest import Hotline, hot
from tests.web.browser import browser_page
from tests.web.test_browser import login

__all__ = ["browser_page", "hot"]

pytestmark = pytest.mark.browser


def switch(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    login(page, base, username)
    page.click("nav >> text=热线工单")


def step(row: Any, name: str, button: str, **fields: str) -> None:
    """Open a step's form in a row, fill it and send it."""
    box = row.locator(f"[data-testid=act-{name}]")
    if box.evaluate("e => !e.open"):
        box.locator("summary").click()
    for field, value in fields.items():
        target = box.locator(f"[name={field}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(label=value)
        else:
            target.fill(value)
    box.locator(f"button:has-text('{button}')").click()


def test_one_ticket_from_the_call_to_its_closure_with_one_return(
    live_server: Any, browser_page: Any, hot: Hotline
) -> None:
    page = browser_page
    base = live_server.url

    # The call taker accepts the call, sees the catalogue's suggestion, and dispatches to the wrong unit.
    switch(page, base, "hl_calltaker")
    assert "受理台" in page.locator("h1").inner_text()
    form = page.locator("[data-testid=accept-form]")
    form.locator("input[name=caller_name]").fill("张三")
    form.locator("input[name=caller_phone]").fill("13812341234")
    form.locator("select[name=category]").select_option("request")
    form.locator("textarea[name=content]").fill("小区物业不管楼顶漏水")
    form.locator("input[name=address]").fill("青川路 1 号")
    form.locator("button[type=submit]").click()
    ticket = Ticket.objects.get()
    number = ticket.external_id
    assert f"已受理，工单编号 {number}" in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=caller-phone]").inner_text() == "13812341234"  # the call taker sees it
    assert "住建局" in page.locator("[data-testid=suggestion]").inner_text()
    steps = page.locator("[data-testid=steps]")
    steps.locator("[data-testid=act-dispatch] select[name=unit]").select_option(label="市场监管局")
    steps.locator("[data-testid=act-dispatch] button:has-text('转派')").click()
    assert page.locator("[data-testid=state]").inner_text() == "已转派"
    assert page.locator("[data-testid=unit]").inner_text() == "市场监管局"

    # The wrong unit sees it masked in its inbox, signs for it and asks to return it.
    switch(page, base, "hl_staff_b")
    assert "承办单位待办" in page.locator("h1").inner_text()
    assert "受理台" not in page.locator("[data-testid=hotline-tabs]").inner_text()
    row = page.locator(f"[data-testid=inbox] tr[data-ticket='{number}']")
    assert "张*" in row.inner_text() and "138****1234" in row.inner_text()
    assert "13812341234" not in page.content()
    row.locator("button:has-text('签收')").click()
    assert "已签收" in page.locator(".messages").inner_text()
    row = page.locator(f"[data-testid=inbox] tr[data-ticket='{number}']")
    step(row, "return_request", "提交退单申请", note="不属于本单位职责，应由住建局办理")
    row = page.locator(f"[data-testid=inbox] tr[data-ticket='{number}']")
    assert "退单审核中" in row.inner_text() and "等待中心处理" in row.inner_text()

    # The monitor sees the request with its reason and approves the return.
    switch(page, base, "hl_monitor")
    assert "质检/审核" in page.locator("h1").inner_text()
    row = page.locator(f"[data-testid=returns] tr[data-ticket='{number}']")
    assert "不属于本单位职责" in row.locator("[data-testid=reason]").inner_text()
    step(row, "return_review", "同意退单", note="同意退回，请改派住建局")
    assert page.locator("[data-testid=returns] tbody tr[data-ticket]").count() == 0
    returned = page.locator(f"[data-testid=returned] tr[data-ticket='{number}']")
    assert "待受理员改派" in returned.inner_text()  # re-dispatch is the call side's step

    # The call taker re-dispatches (改派) to the unit the catalogue suggests.
    switch(page, base, "hl_calltaker")
    page.click("[data-testid=state-filter] >> text=已退回待改派")
    row = page.locator(f"[data-testid=board] tr[data-ticket='{number}']")
    step(row, "dispatch", "改派", unit="住建局")
    assert "已改派" in page.locator(".messages").inner_text()

    # The right unit signs, handles, replies and revisits the caller.
    switch(page, base, "hl_staff_a")

    def inbox_row() -> Any:
        return page.locator(f"[data-testid=inbox] tr[data-ticket='{number}']")

    assert "已转派" in inbox_row().inner_text()
    assert inbox_row().locator("[data-testid=due]").inner_text()[:2] == "20"  # a due instant
    inbox_row().locator("button:has-text('签收')").click()
    step(inbox_row(), "handle", "记录办理", note="已督促物业修复楼顶防水层")
    step(inbox_row(), "reply", "答复来电人", note="楼顶已修复，请来电人留意")
    step(inbox_row(), "unit_revisit", "记录回访", satisfaction="满意", note="来电人表示满意")
    assert "承办单位已回访" in inbox_row().inner_text()
    # The other unit no longer holds it.
    switch(page, base, "hl_staff_b")
    assert page.locator(f"[data-testid=inbox] tr[data-ticket='{number}']").count() == 0

    # The centre revisits the caller: 满意 closes the ticket.
    switch(page, base, "hl_monitor")
    row = page.locator(f"[data-testid=revisits] tr[data-ticket='{number}']")
    assert "满意" in row.locator("[data-testid=unit-revisit]").inner_text()
    step(row, "centre_revisit", "记录回访", satisfaction="满意", note="回访满意")
    assert page.locator("[data-testid=revisits] tbody tr[data-ticket]").count() == 0
    page.goto(f"{base}/hotline/tickets/{ticket.pk}/")
    assert page.locator("[data-testid=state]").inner_text() == "已办结"
    assert page.locator("[data-testid=caller-phone]").inner_text() == "138****1234"  # the monitor: masked
    assert page.locator("[data-testid=returns]").inner_text().startswith("1")
    assert page.locator("[data-testid=reopens]").inner_text() == "0"
    timeline = page.locator("[data-testid=timeline] tbody tr")
    assert timeline.count() == TicketEvent.objects.filter(ticket=ticket).count() == 11
    assert "hl_staff_b" in page.locator("[data-testid=timeline] tr[data-action=return_request]").inner_text()
    assert page.locator("[data-testid=steps]").count() == 0  # nothing left to do

    ticket.refresh_from_db()
    assert (ticket.state, ticket.returns, ticket.dispatches, ticket.satisfaction) == (
        "closed",
        1,
        2,
        "satisfied",
    )
    assert ticket.unit == hot.unit_a and ticket.on_time is True
