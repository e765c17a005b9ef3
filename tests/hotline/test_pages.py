"""The hotline pages: each renders for its role, scoping answers 404, and a refused step is a message
on the page (400) that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kaoping.hotline import services as s
from kaoping.hotline.models import CallRecord, Ticket, TicketEvent
from kaoping.hotline.workflow import Satisfaction
from tests.hotline.conftest import Hotline, at

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def accept(hot: Hotline, content: str = "小区物业不管楼顶漏水", phone: str = "13812341234") -> Ticket:
    return s.ticket_accept(
        actor=hot.calltaker,
        centre=hot.centre,
        caller_name="张三",
        caller_phone=phone,
        category="request",
        content=content,
        address="青川路 1 号",
    ).ticket


def dispatched(hot: Hotline, unit: Any = None) -> Ticket:
    return s.ticket_dispatch(actor=hot.calltaker, ticket=accept(hot), unit=unit or hot.unit_a)


def act(client: Client, ticket: Ticket, **fields: str) -> Any:
    return client.post(reverse("hotline:act", args=[ticket.pk]), fields)


def code(client: Client, ticket: Ticket, **fields: str) -> int:
    return int(act(client, ticket, **fields).status_code)


def text(response: Any) -> str:
    return str(response.content.decode())


def location(response: Any) -> str:
    return str(response.url)


@pytest.fixture
def monday(time_machine: Any) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)


def test_each_page_renders_for_its_role(hot: Hotline, monday: None) -> None:
    ticket = dispatched(hot)
    board = client_for(hot.calltaker).get(reverse("hotline:board"))
    assert board.status_code == 200
    page = text(board)
    assert 'data-testid="accept-form"' in page and ticket.external_id in page
    assert "2026-03-09 17:30" in page  # the due instant: 5 working days, close of office

    inbox = client_for(hot.staff_a).get(reverse("hotline:inbox"))
    assert inbox.status_code == 200
    assert ticket.external_id in text(inbox) and 'value="sign"' in text(inbox)
    assert "138****1234" in text(inbox)  # the unit sees the caller masked

    review = client_for(hot.monitor).get(reverse("hotline:review"))
    assert review.status_code == 200
    assert 'data-testid="accept-form"' not in text(client_for(hot.monitor).get(reverse("hotline:board")))

    figures = client_for(hot.hallmgr).get(reverse("hotline:figures"), {"month": "2026-03"})
    assert figures.status_code == 200
    assert 'data-rate="answer_rate"' in text(figures) and 'data-rate="satisfaction_rate"' in text(figures)

    detail = client_for(hot.calltaker).get(reverse("hotline:detail", args=[ticket.pk]))
    assert detail.status_code == 200
    assert "13812341234" in text(detail) and "张三" in text(detail)  # the call taker talks to the caller
    masked = text(client_for(hot.staff_a).get(reverse("hotline:detail", args=[ticket.pk])))
    assert "13812341234" not in masked and "138****1234" in masked and "张*" in masked
    assert 'data-action="dispatch"' in masked  # the timeline


def test_home_and_navigation_follow_the_roles(hot: Hotline, monday: None) -> None:
    home = reverse("hotline:home")
    assert location(client_for(hot.calltaker).get(home)) == reverse("hotline:board")
    assert location(client_for(hot.staff_a).get(home)) == reverse("hotline:inbox")
    assert location(client_for(hot.monitor).get(home)) == reverse("hotline:review")
    assert client_for(hot.org.head_a).get(home).status_code == 404
    for user in (hot.calltaker, hot.monitor, hot.hallmgr, hot.staff_a, hot.staff_b):
        assert "热线工单" in text(client_for(user).get(reverse("home"))), user
    assert "热线工单" not in text(client_for(hot.org.head_a).get(reverse("home")))


def test_pages_outside_scope_answer_404(hot: Hotline, monday: None) -> None:
    ticket = dispatched(hot, hot.unit_a)
    outsider = client_for(hot.org.head_a)
    for name in ("board", "inbox", "review", "figures"):
        assert outsider.get(reverse(f"hotline:{name}")).status_code == 404, name
    assert outsider.get(reverse("hotline:detail", args=[ticket.pk])).status_code == 404
    # Unit B does not see unit A's ticket, nor may it act on it.
    other = client_for(hot.staff_b)
    assert ticket.external_id not in text(other.get(reverse("hotline:inbox")))
    assert other.get(reverse("hotline:detail", args=[ticket.pk])).status_code == 404
    assert code(other, ticket, action="sign", next="inbox") == 404
    ticket.refresh_from_db()
    assert ticket.state == "dispatched"
    # Unit staff have no board; a centre the user does not cover is not offered.
    assert client_for(hot.staff_a).get(reverse("hotline:board")).status_code == 404
    elsewhere = client_for(hot.calltaker).get(reverse("hotline:board"), {"centre": hot.unit_a.pk})
    assert elsewhere.status_code == 404


def test_a_refused_step_is_a_message_and_changes_nothing(hot: Hotline, monday: None) -> None:
    ticket = accept(hot)
    events = TicketEvent.objects.count()
    calltaker = client_for(hot.calltaker)
    # Signing is the unit's step, and a ticket not dispatched cannot be signed.
    refused = act(calltaker, ticket, action="sign", next="board")
    assert refused.status_code == 400
    assert "only the handling unit" in text(refused) and 'data-testid="board"' in text(refused)
    # The monitor may not dispatch: the call takers do.
    refused = act(client_for(hot.monitor), ticket, action="dispatch", unit=str(hot.unit_a.pk), next="detail")
    assert refused.status_code == 400 and "only the hotline centre" in text(refused)
    # An illegal transition names the state and the action.
    refused = act(calltaker, ticket, action="centre_revisit", satisfaction="satisfied", next="detail")
    assert refused.status_code == 400 and "cannot centre_revisit" in text(refused)
    assert "accepted" in text(refused)
    # A field that cannot be read, an unknown action.
    assert code(calltaker, ticket, action="urge", level="x", next="board") == 400
    assert code(calltaker, ticket, action="fly", next="board") == 400
    assert code(calltaker, ticket, action="accept") == 400
    ticket.refresh_from_db()
    assert (ticket.state, ticket.unit_id, ticket.urges) == ("accepted", None, 0)
    assert TicketEvent.objects.count() == events


def test_accept_shows_duplicates_and_the_suggestion_then_merge(hot: Hotline, monday: None) -> None:
    first = accept(hot)
    calltaker = client_for(hot.calltaker)
    response = calltaker.post(
        reverse("hotline:accept"),
        {
            "centre": str(hot.centre.pk),
            "caller_name": "张三",
            "caller_phone": "13812341234",
            "category": "request",
            "content": "小区物业不管楼顶漏水，再次来电",
            "address": "",
        },
    )
    second = Ticket.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and location(response) == reverse("hotline:detail", args=[second.pk])
    page = text(calltaker.get(location(response)))
    assert "已受理" in page and second.external_id in page
    assert 'data-testid="duplicates"' in page and first.external_id in page
    assert "住建局" in page.split('data-testid="suggestion"')[1][:200]  # the catalogue: 物业 / 漏水
    done = act(calltaker, second, action="merge", into=str(first.pk), next="detail")
    assert done.status_code == 302
    second.refresh_from_db()
    assert (second.state, second.merged_into_id) == ("merged", first.pk)


def test_accept_refused_keeps_the_form(hot: Hotline, monday: None) -> None:
    response = client_for(hot.calltaker).post(
        reverse("hotline:accept"),
        {"centre": str(hot.centre.pk), "caller_name": "李四", "category": "request", "content": "  "},
    )
    assert response.status_code == 400
    assert "content" in text(response) and 'value="李四"' in text(response)
    assert not Ticket.objects.exists()
    # Only the call side accepts calls.
    monitor = client_for(hot.monitor).post(
        reverse("hotline:accept"), {"centre": str(hot.centre.pk), "category": "request", "content": "x"}
    )
    assert monitor.status_code == 400 and not Ticket.objects.exists()


def test_return_review_redispatch_and_revisit_through_the_pages(hot: Hotline, monday: None) -> None:
    ticket = dispatched(hot, hot.unit_b)
    unit_b, monitor, calltaker = client_for(hot.staff_b), client_for(hot.monitor), client_for(hot.calltaker)
    assert code(unit_b, ticket, action="sign", next="inbox") == 302
    assert code(unit_b, ticket, action="return_request", note="不属于本单位职责", next="inbox") == 302

    review = text(monitor.get(reverse("hotline:review")))
    returns = review.split('data-testid="returns"')[1].split("</table>")[0]
    assert ticket.external_id in returns and "不属于本单位职责" in returns
    # Without a reason the review is refused, and nothing changes.
    assert code(monitor, ticket, action="return_review", approve="1", note="", next="review") == 400
    assert Ticket.objects.get(pk=ticket.pk).state == "return_requested"
    assert code(monitor, ticket, action="return_review", approve="1", note="同意", next="review") == 302
    returned = text(monitor.get(reverse("hotline:review"))).split('data-testid="returned"')[1]
    assert ticket.external_id in returned.split("</table>")[0]
    assert "待受理员改派" in returned  # re-dispatch is the call side's
    inbox = text(unit_b.get(reverse("hotline:inbox"))).split('data-testid="inbox"')[1]
    assert ticket.external_id not in inbox

    redone = act(calltaker, ticket, action="redispatch", unit=str(hot.unit_a.pk), next="board")
    assert redone.status_code == 302 and location(redone).startswith(reverse("hotline:board"))
    unit_a = client_for(hot.staff_a)
    for fields in (
        {"action": "sign"},
        {"action": "handle", "note": "已督促物业维修"},
        {"action": "reply", "note": "已维修完毕"},
        {"action": "unit_revisit", "satisfaction": "satisfied"},
    ):
        assert code(unit_a, ticket, next="inbox", **fields) == 302, fields
    revisits = text(monitor.get(reverse("hotline:review"))).split('data-testid="revisits"')[1]
    assert ticket.external_id in revisits.split("</table>")[0] and "满意" in revisits
    assert code(monitor, ticket, action="centre_revisit", satisfaction="basic", next="review") == 302
    ticket.refresh_from_db()
    assert (ticket.state, ticket.reopens, ticket.returns) == ("reopened", 1, 1)
    detail = text(calltaker.get(reverse("hotline:detail", args=[ticket.pk])))
    counters = detail.split('data-testid="counters"')[1].split("</table>")[0]
    assert 'data-testid="returns">1' in counters and 'data-testid="reopens">1' in counters


def test_urge_extension_and_overdue_on_the_lists(hot: Hotline, time_machine: Any) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    ticket = dispatched(hot)
    s.ticket_sign(actor=hot.staff_a, ticket=ticket)
    unit_a, hallmgr = client_for(hot.staff_a), client_for(hot.hallmgr)
    asked = act(
        unit_a, ticket, action="extension_request", until="2026-03-20T17:30", note="需现场勘查", next="inbox"
    )
    assert asked.status_code == 302
    extensions = text(hallmgr.get(reverse("hotline:review"))).split('data-testid="extensions"')[1]
    assert "2026-03-20 17:30" in extensions.split("</table>")[0] and "需现场勘查" in extensions
    assert code(hallmgr, ticket, action="extension_decide", approve="1", note="同意", next="review") == 302
    assert code(hallmgr, ticket, action="urge", level="2", note="尽快", next="board") == 302
    # The level never goes down: refused with the reason.
    lower = act(hallmgr, ticket, action="urge", level="1", note="再催", next="board")
    assert lower.status_code == 400 and "below the level" in text(lower)
    ticket.refresh_from_db()
    assert (ticket.extensions, ticket.urges, ticket.urge_level) == (1, 1, 2)
    assert ticket.extended_due_at == at("2026-03-20T17:30")
    time_machine.move_to(at("2026-03-23T09:00"), tick=False)
    board = text(client_for(hot.calltaker).get(reverse("hotline:board")))
    row = board.split(f'data-ticket="{ticket.external_id}"')[1].split("</tr>")[0]
    assert 'data-testid="overdue"' in row and "2026-03-20 17:30" in row


def test_figures_for_a_month_and_a_day_range(hot: Hotline, monday: None) -> None:
    CallRecord.objects.create(
        source="t",
        external_id="c1",
        centre=hot.centre,
        started_at=at("2026-03-02T09:00"),
        answered_at=at("2026-03-02T09:00:10"),
        ended_at=at("2026-03-02T09:05"),
        wait_seconds=10,
    )
    CallRecord.objects.create(
        source="t",
        external_id="c2",
        centre=hot.centre,
        started_at=at("2026-03-02T09:10"),
        ended_at=at("2026-03-02T09:11"),
        abandoned=True,
        wait_seconds=40,
    )
    ticket = dispatched(hot)
    steps: list[Callable[[Ticket], Ticket]] = [
        lambda t: s.ticket_sign(actor=hot.staff_a, ticket=t),
        lambda t: s.ticket_handle(actor=hot.staff_a, ticket=t, note="修好"),
        lambda t: s.ticket_reply(actor=hot.staff_a, ticket=t, reply="已修好"),
        lambda t: s.ticket_unit_revisit(actor=hot.staff_a, ticket=t, satisfaction=Satisfaction.SATISFIED),
        lambda t: s.ticket_centre_revisit(actor=hot.monitor, ticket=t, satisfaction=Satisfaction.SATISFIED),
    ]
    for step in steps:
        ticket = step(ticket)
    hallmgr = client_for(hot.hallmgr)
    page = text(hallmgr.get(reverse("hotline:figures"), {"month": "2026-03", "unit": str(hot.centre.pk)}))

    def rate(code: str) -> str:
        return page.split(f'data-rate="{code}"')[1].split("</tr>")[0]

    assert "50.00%" in rate("answer_rate") and "1 / 2" in rate("answer_rate")
    assert "50.00%" in rate("answered_within")
    assert "100.00%" in rate("on_time_closure_rate") and "1 / 1" in rate("on_time_closure_rate")
    assert "0.00%" in rate("urge_rate") and "0.00%" in rate("reopen_rate")
    assert "100.00%" in rate("satisfaction_rate")
    assert 'data-testid="abandoned"' in page
    days = text(hallmgr.get(reverse("hotline:figures"), {"start": "2026-02-01", "end": "2026-02-28"}))
    assert "2026-02-01 — 2026-02-28" in days and "0 / 0" in days
    # A handling unit's figures have no calls; a bad period is said so.
    unit = text(hallmgr.get(reverse("hotline:figures"), {"unit": str(hot.unit_a.pk), "month": "2026-03"}))
    assert 'data-rate="answer_rate"' not in unit and "100.00%" in unit
    bad = hallmgr.get(reverse("hotline:figures"), {"month": "2026-13"})
    assert bad.status_code == 400 and 'data-testid="period-errors"' in text(bad)


def test_the_pages_read_in_english(hot: Hotline, monday: None, english: Any) -> None:
    ticket = dispatched(hot)
    calltaker = client_for(hot.calltaker)
    calltaker.post("/i18n/setlang/", {"language": "en"})
    board = text(calltaker.get(reverse("hotline:board")))
    assert "Ticket board" in board and "Accept a call" in board and "Dispatched" in board
    assert "Hotline tickets" in board  # the navigation
    detail = text(calltaker.get(reverse("hotline:detail", args=[ticket.pk])))
    assert "Timeline" in detail and "Request for help" in detail
    figures = text(calltaker.get(reverse("hotline:figures")))
    assert "On-time closure rate" in figures and "Answered within 15 s" in figures


def test_a_monitor_records_a_quality_finding_on_the_ticket_page(hot: Hotline, monday: None) -> None:
    from kaoping.hotline.models import QualityFinding

    ticket = accept(hot)
    page = client_for(hot.monitor).get(reverse("hotline:detail", args=[ticket.pk]))
    assert 'data-testid="findings"' in text(page)
    url = reverse("hotline:finding", args=[ticket.pk])
    refused = client_for(hot.monitor).post(url, {"staff": "CT01", "kind": "record_error", "note": ""})
    assert refused.status_code == 400 and not QualityFinding.objects.exists()  # a finding needs its note
    # A call taker is no checker: refused, nothing stored.
    assert (
        client_for(hot.calltaker)
        .post(url, {"staff": "CT01", "kind": "record_error", "note": "x"})
        .status_code
        == 400
    )
    assert not QualityFinding.objects.exists()
    done = client_for(hot.monitor).post(
        url, {"staff": "CT01", "kind": "record_error", "note": "来电地址记录错误"}
    )
    assert done.status_code == 302
    finding = QualityFinding.objects.get()
    assert (finding.staff.employee_no, finding.kind, finding.ticket_id) == ("CT01", "record_error", ticket.pk)
