"""The services: a ticket from the call to its closure, roles and scope, refusals that leave nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain
from kaoping.hotline import services as s
from kaoping.hotline.models import Ticket, TicketEvent
from kaoping.hotline.workflow import Satisfaction
from tests.hotline.conftest import Hotline, at


def accept(hot: Hotline, content: str = "小区物业不管楼顶漏水", **extra: object) -> s.Accepted:
    values: dict[str, object] = {
        "actor": hot.calltaker,
        "centre": hot.centre,
        "caller_name": "张三",
        "caller_phone": "13812341234",
        "category": "request",
        "content": content,
    }
    values.update(extra)
    return s.ticket_accept(**values)  # type: ignore[arg-type]


def test_a_ticket_from_the_call_to_its_closure_with_one_return(hot: Hotline, time_machine) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)  # a Monday
    accepted = accept(hot)
    ticket = accepted.ticket
    assert accepted.suggestion == hot.unit_a  # the catalogue's keyword 物业 / 漏水
    assert ticket.call_taker is not None and ticket.call_taker.employee_no == "CT01"
    assert ticket.external_id.startswith("20260302")

    # Dispatched to the wrong unit, which asks to return it; the monitor approves; re-dispatched.
    ticket = s.ticket_dispatch(actor=hot.calltaker, ticket=ticket, unit=hot.unit_b)
    assert ticket.due_at == at("2026-03-09T17:30")  # 5 working days: Tue … next Mon, close of office
    ticket = s.ticket_return_request(actor=hot.staff_b, ticket=ticket, reason="不属于本单位职责")
    ticket = s.ticket_return_review(actor=hot.monitor, ticket=ticket, approve=True, note="同意退回")
    assert (ticket.state, ticket.unit, ticket.returns) == ("returned", None, 1)
    time_machine.move_to(at("2026-03-03T09:30"), tick=False)
    ticket = s.ticket_redispatch(actor=hot.calltaker, ticket=ticket, unit=hot.unit_a)
    assert ticket.due_at == at("2026-03-10T17:30")  # the new unit gets the full limit

    ticket = s.ticket_sign(actor=hot.staff_a, ticket=ticket)
    ticket = s.ticket_handle(actor=hot.staff_a, ticket=ticket, note="已督促物业维修")
    ticket = s.ticket_reply(actor=hot.staff_a, ticket=ticket, reply="已维修完毕")
    ticket = s.ticket_unit_revisit(actor=hot.staff_a, ticket=ticket, satisfaction=Satisfaction.SATISFIED)
    # The caller tells the centre otherwise: back to the unit.
    ticket = s.ticket_centre_revisit(actor=hot.monitor, ticket=ticket, satisfaction=Satisfaction.BASIC)
    assert (ticket.state, ticket.reopens) == ("reopened", 1)
    ticket = s.ticket_urge(actor=hot.hallmgr, ticket=ticket, note="尽快处理", level=2)
    ticket = s.ticket_handle(actor=hot.staff_a, ticket=ticket, note="再次维修")
    time_machine.move_to(at("2026-03-05T11:00"), tick=False)
    ticket = s.ticket_reply(actor=hot.staff_a, ticket=ticket, reply="已彻底修好")
    ticket = s.ticket_unit_revisit(actor=hot.staff_a, ticket=ticket, satisfaction=Satisfaction.SATISFIED)
    ticket = s.ticket_centre_revisit(actor=hot.calltaker, ticket=ticket, satisfaction=Satisfaction.SATISFIED)

    ticket.refresh_from_db()
    assert ticket.state == "closed"
    assert ticket.closed_at == at("2026-03-05T11:00")
    assert ticket.on_time is True
    assert (ticket.returns, ticket.reopens, ticket.urges, ticket.urge_level, ticket.dispatches) == (
        1,
        1,
        1,
        2,
        2,
    )
    assert ticket.satisfaction == "satisfied"
    actions = list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("action", flat=True))
    assert actions[:4] == ["accept", "dispatch", "return_request", "return_review"]
    assert len(actions) == 15
    returned = TicketEvent.objects.get(ticket=ticket, action="return_review")
    assert returned.unit == hot.unit_b  # whose return it was
    entries = EvidenceEntry.objects.filter(object_type="hotline.ticket", object_id=str(ticket.pk))
    assert entries.count() == 15
    assert verify_chain().ok


def test_duplicates_are_found_and_merged(hot: Hotline, time_machine) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    first = accept(hot).ticket
    time_machine.move_to(at("2026-03-04T10:00"), tick=False)
    second = accept(hot, content="小区物业不管楼顶漏水，第二次反映")
    other = accept(hot, content="咨询社保缴费标准")
    assert second.duplicates == [first]
    assert other.duplicates == []
    merged = s.ticket_merge(actor=hot.calltaker, ticket=second.ticket, into=first)
    assert (merged.state, merged.merged_into) == ("merged", first)
    with pytest.raises(KaopingError, match="is itself merged"):
        s.ticket_merge(actor=hot.calltaker, ticket=other.ticket, into=merged)
    with pytest.raises(KaopingError, match=r"cannot merge .* state merged"):
        s.ticket_merge(actor=hot.calltaker, ticket=merged, into=other.ticket)


def test_a_consultation_answered_on_the_call_is_closed_at_once(hot: Hotline, time_machine) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    ticket = accept(hot, content="咨询公积金提取材料", category="consultation").ticket
    ticket = s.ticket_close(actor=hot.calltaker, ticket=ticket, note="已当场解答")
    assert ticket.state == "closed" and ticket.on_time is None and ticket.unit is None


def _at_unit(hot: Hotline, time_machine, category: str = "request") -> Ticket:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    ticket = accept(hot, category=category).ticket
    return s.ticket_dispatch(actor=hot.calltaker, ticket=ticket, unit=hot.unit_a)


def test_each_side_acts_only_for_itself(hot: Hotline, time_machine) -> None:
    ticket = _at_unit(hot, time_machine)
    before = EvidenceEntry.objects.count()
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: s.ticket_sign(actor=hot.calltaker, ticket=ticket), "handling unit's staff"),
        (lambda: s.ticket_sign(actor=hot.staff_b, ticket=ticket), "handling unit's staff"),  # other unit
        (lambda: s.ticket_sign(actor=hot.centre_head, ticket=ticket), "handling unit's staff"),
        (lambda: s.ticket_urge(actor=hot.staff_a, ticket=ticket, note="x"), "may urge"),
        (lambda: s.ticket_urge(actor=hot.org.director, ticket=ticket, note="x"), "may urge"),
        (
            lambda: s.ticket_accept(
                actor=hot.monitor,
                centre=hot.centre,
                caller_name="",
                caller_phone="",
                category="request",
                content="x",
            ),
            "may accept",
        ),
    ]
    for call, match in refusals:
        with pytest.raises(KaopingError, match=match) as caught:
            call()
        assert caught.value.code is ErrorCode.FORBIDDEN
    ticket = s.ticket_sign(actor=hot.staff_a, ticket=ticket)
    ticket = s.ticket_return_request(actor=hot.staff_a, ticket=ticket, reason="非本单位职责")
    with pytest.raises(KaopingError, match="监督员") as caught:  # call takers do not review returns
        s.ticket_return_review(actor=hot.calltaker, ticket=ticket, approve=True, note="x")
    ticket = s.ticket_return_review(actor=hot.hallmgr, ticket=ticket, approve=False, note="属于本单位职责")
    assert (ticket.state, ticket.unit, ticket.returns, ticket.return_requests) == ("signed", hot.unit_a, 0, 1)
    assert EvidenceEntry.objects.count() == before + 3


def test_illegal_steps_are_refused_and_leave_nothing(hot: Hotline, time_machine) -> None:
    ticket = _at_unit(hot, time_machine)
    events, entries = TicketEvent.objects.count(), EvidenceEntry.objects.count()
    with pytest.raises(KaopingError, match=r"cannot handle \(办理\) a ticket in state dispatched") as caught:
        s.ticket_handle(actor=hot.staff_a, ticket=ticket, note="办了")
    assert caught.value.code is ErrorCode.INVALID
    with pytest.raises(KaopingError, match="state dispatched"):
        s.ticket_centre_revisit(actor=hot.monitor, ticket=ticket, satisfaction=Satisfaction.SATISFIED)
    with pytest.raises(KaopingError, match=r"\(reply\): is required"):
        s.ticket_sign(actor=hot.staff_a, ticket=ticket)
        s.ticket_handle(actor=hot.staff_a, ticket=Ticket.objects.get(pk=ticket.pk), note="x")
        s.ticket_reply(actor=hot.staff_a, ticket=Ticket.objects.get(pk=ticket.pk), reply=" ")
    ticket.refresh_from_db()
    assert ticket.state == "handled"
    assert TicketEvent.objects.count() == events + 2
    assert EvidenceEntry.objects.count() == entries + 2


def test_extension_before_the_deadline_moves_it(hot: Hotline, time_machine) -> None:
    ticket = _at_unit(hot, time_machine, category="consultation")
    assert ticket.due_at == at("2026-03-05T17:30")
    ticket = s.ticket_sign(actor=hot.staff_a, ticket=ticket)
    with pytest.raises(KaopingError, match="after the current deadline"):
        s.ticket_extension_request(actor=hot.staff_a, ticket=ticket, until=at("2026-03-05T12:00"), reason="x")
    ticket = s.ticket_extension_request(
        actor=hot.staff_a, ticket=ticket, until=at("2026-03-10T17:30"), reason="需现场勘查"
    )
    with pytest.raises(KaopingError, match="already waiting"):
        s.ticket_extension_request(actor=hot.staff_a, ticket=ticket, until=at("2026-03-11T17:30"), reason="x")
    ticket = s.ticket_extension_decide(actor=hot.monitor, ticket=ticket, approve=True, note="同意")
    assert (ticket.extended_due_at, ticket.extensions, ticket.extension_pending) == (
        at("2026-03-10T17:30"),
        1,
        False,
    )
    time_machine.move_to(
        at("2026-03-09T10:00"), tick=False
    )  # late by the first deadline, on time by the extension
    ticket = s.ticket_handle(actor=hot.staff_a, ticket=ticket, note="已勘查")
    ticket = s.ticket_reply(actor=hot.staff_a, ticket=ticket, reply="答复")
    ticket = s.ticket_unit_revisit(actor=hot.staff_a, ticket=ticket, satisfaction=Satisfaction.DISSATISFIED)
    ticket = s.ticket_close(actor=hot.hallmgr, ticket=ticket, note="经审核办理合理，予以办结")
    assert ticket.on_time is True


def test_no_extension_after_the_deadline_and_a_late_reply_is_late(hot: Hotline, time_machine) -> None:
    ticket = _at_unit(hot, time_machine, category="consultation")
    ticket = s.ticket_sign(actor=hot.staff_a, ticket=ticket)
    time_machine.move_to(at("2026-03-06T09:00"), tick=False)
    with pytest.raises(KaopingError, match="has passed"):
        s.ticket_extension_request(actor=hot.staff_a, ticket=ticket, until=at("2026-03-10T17:30"), reason="x")
    ticket = s.ticket_handle(actor=hot.staff_a, ticket=ticket, note="办")
    ticket = s.ticket_reply(actor=hot.staff_a, ticket=ticket, reply="答")
    ticket = s.ticket_unit_revisit(actor=hot.staff_a, ticket=ticket, satisfaction=Satisfaction.SATISFIED)
    with pytest.raises(KaopingError, match="may close"):  # a call taker may not close after the revisit
        s.ticket_close(actor=hot.calltaker, ticket=ticket, note="x")
    ticket = s.ticket_centre_revisit(actor=hot.calltaker, ticket=ticket, satisfaction=Satisfaction.SATISFIED)
    assert (ticket.state, ticket.on_time) == ("closed", False)


def test_deadlines_skip_weekends_and_holidays(hot: Hotline, time_machine) -> None:
    # Friday afternoon: an emergency runs 2 natural hours; a consultation's 3 working days skip the weekend.
    time_machine.move_to(at("2026-03-06T16:00"), tick=False)
    emergency = accept(hot, category="emergency").ticket
    emergency = s.ticket_dispatch(actor=hot.calltaker, ticket=emergency, unit=hot.unit_a)
    assert emergency.due_at == at("2026-03-06T18:00")
    consultation = accept(hot, category="consultation", content="咨询").ticket
    consultation = s.ticket_dispatch(actor=hot.calltaker, ticket=consultation, unit=hot.unit_a)
    assert consultation.due_at == at("2026-03-11T17:30")
    # The day before the National Day holiday: the three working days are 9, 10 (a make-up Saturday)
    # and … the calendar's own; what matters is that none falls in the holiday.
    time_machine.move_to(at("2026-09-30T10:00"), tick=False)
    before_holiday = accept(hot, category="consultation", content="节前咨询").ticket
    before_holiday = s.ticket_dispatch(actor=hot.calltaker, ticket=before_holiday, unit=hot.unit_a)
    assert before_holiday.due_at == at("2026-10-10T17:30")


def test_dispatch_without_a_unit_takes_the_suggestion_or_is_refused(hot: Hotline, time_machine) -> None:
    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    ticket = s.ticket_dispatch(actor=hot.calltaker, ticket=accept(hot).ticket)
    assert ticket.unit == hot.unit_a
    nothing = accept(hot, content="路灯不亮").ticket
    with pytest.raises(KaopingError, match="suggests none"):
        s.ticket_dispatch(actor=hot.calltaker, ticket=nothing)
    with pytest.raises(KaopingError, match="not an active handling unit"):
        s.ticket_dispatch(actor=hot.calltaker, ticket=nothing, unit=hot.org.window_a)
    nothing.refresh_from_db()
    assert nothing.state == "accepted"


def test_urge_levels_never_go_down(hot: Hotline, time_machine) -> None:
    ticket = _at_unit(hot, time_machine)
    ticket = s.ticket_urge(actor=hot.monitor, ticket=ticket, note="请尽快签收")
    assert (ticket.urges, ticket.urge_level) == (1, 1)
    ticket = s.ticket_urge(actor=hot.monitor, ticket=ticket, note="重点督办", level=3)
    with pytest.raises(KaopingError, match="below the level already reached"):
        s.ticket_urge(actor=hot.monitor, ticket=ticket, note="x", level=2)
    ticket = s.ticket_urge(actor=hot.monitor, ticket=ticket, note="再催")
    assert (ticket.urges, ticket.urge_level) == (3, 3)


def test_naive_or_future_instants_are_refused(hot: Hotline, time_machine) -> None:
    import datetime as dt

    time_machine.move_to(at("2026-03-02T10:00"), tick=False)
    with pytest.raises(KaopingError, match="no UTC offset"):
        accept(hot, at=dt.datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001
    with pytest.raises(KaopingError, match="future"):
        accept(hot, at=at("2026-03-02T11:00"))
