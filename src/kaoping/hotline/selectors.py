"""Reads for the hotline, scoped to what the user may see: ticket lists (the call taker's board, a
handling unit's inbox), one ticket with its caller masked as the role requires, and the figures.

Figures for a period [start, end) and a hotline centre or a handling unit (rates in percent, None when
there is nothing to measure, with their numerator and denominator):

* answer rate: calls answered / calls offered (calls that started in the period, GB/T 33358-2016
  target ≥ 95 %); answered within 15 s: calls answered within KAOPING_HOTLINE_ANSWER_SECONDS / calls
  offered; abandoned: calls hung up before an answer. Calls belong to a centre; a unit has none.
* overdue tickets (``overdue_q``): a dispatched ticket whose deadline (the extended one when an
  extension was approved, else the first) passed in the period, and before now, without the unit's
  reply by then (no reply yet, or the last reply after it), **closed or not**: a unit cannot keep a
  late ticket out of the figures by leaving it open. Each ticket has one deadline, so it counts once,
  in the period its deadline passed, never again when it closes;
* on-time closure rate: tickets closed in the period after dispatch whose unit's last reply came by the
  due instant / those plus the tickets overdue in the period. Each ticket's verdict counts once, in
  the period it became final: a late one when its deadline passed unanswered, an on-time one when it
  closed (until then a later reply could still make it late). So a closed late ticket is not counted
  again in the period it closed, and an open overdue ticket lowers the rate at once;
* urge rate and reopen rate: of the tickets closed in the period after dispatch, those urged at least
  once / reopened at least once (a closed ticket's history is complete, so each ticket counts once, in
  the period it closed);
* satisfaction rate: centre revisits in the period with 满意 or 基本满意 / all centre revisits in the
  period (for a unit: the revisits of its tickets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_name, mask_phone, mask_text
from kaoping.core.permissions import User, sees_personal_data, unit_scope_q
from kaoping.hotline.models import CallRecord, Ticket, TicketEvent
from kaoping.hotline.workflow import WITH_UNIT, Action, State
from kaoping.org.models import Unit, UnitKind

PAGE_SIZE = 100
# What waits for the centre: new tickets, returns to review or re-dispatch, revisits, extension requests.
CENTRE_QUEUE = (State.ACCEPTED, State.RETURN_REQUESTED, State.RETURNED, State.UNIT_REVISITED)


def with_deadline(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The tickets with ``deadline``: the due instant in force, the extended one when an extension
    was approved (the workflow only moves it later), else the first."""
    return tickets.annotate(deadline=Coalesce("extended_due_at", "due_at"))


def deadline_passed_q(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Q:
    """On ``with_deadline`` tickets: dispatched tickets held by a handling unit whose deadline fell in
    [start, end) and has passed by ``now`` (a reply *at* the deadline is still on time)."""
    return Q(dispatches__gt=0, unit__isnull=False, deadline__gte=start, deadline__lt=min(end, now))


# On ``with_deadline`` tickets: the unit had not replied by the deadline (the ticket's reply is the
# unit's last one, as ``Ticket.on_time`` judges it).
LATE_Q = Q(replied_at__isnull=True) | Q(replied_at__gt=F("deadline"))


def overdue_q(start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> Q:
    """On ``with_deadline`` tickets: overdue in [start, end): the deadline passed in the period (and
    before ``now``, the clock's by default) without the unit's reply, closed or not."""
    return deadline_passed_q(start, end, now or clock.now()) & LATE_Q


def tickets_visible(user: User) -> QuerySet[Ticket]:
    """Tickets of the hotline centres in the user's scope, and those a unit in scope now holds."""
    return Ticket.objects.filter(unit_scope_q(user, field="centre") | unit_scope_q(user, field="unit"))


def ticket_get(*, user: User, ticket_id: int) -> Ticket:
    ticket = tickets_visible(user).select_related("centre", "unit", "call_taker").filter(pk=ticket_id).first()
    if ticket is None:
        raise KaopingError(ErrorCode.NOT_FOUND, what="ticket", where=str(ticket_id), why="not found")
    return ticket


def ticket_events(*, ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.select_related("unit").order_by("at", "pk"))


def caller_view(*, user: User, ticket: Ticket) -> dict[str, str]:
    """The caller's name, phone and the ticket text, masked unless the role needs them (R4.11)."""
    if sees_personal_data(user, ticket.centre):
        return {"name": ticket.caller_name, "phone": ticket.caller_phone, "content": ticket.content}
    return {
        "name": mask_name(ticket.caller_name),
        "phone": mask_phone(ticket.caller_phone) if ticket.caller_phone else "",
        "content": mask_text(ticket.content),
    }


def centre_board(*, user: User, centre: Unit, states: tuple[State, ...] = CENTRE_QUEUE) -> list[Ticket]:
    """The call taker's board: the centre's tickets that wait for the centre (oldest first), and those
    with an extension request to decide."""
    wanted = Q(state__in=[s.value for s in states]) | Q(extension_pending=True)
    return list(
        tickets_visible(user)
        .filter(wanted, centre=centre)
        .select_related("unit")
        .order_by("received_at", "pk")[:PAGE_SIZE]
    )


def unit_inbox(*, user: User, unit: Unit) -> list[Ticket]:
    """A handling unit's inbox: the tickets it holds, the earliest deadline first."""
    return list(
        tickets_visible(user)
        .filter(unit__path__startswith=unit.path, state__in=[s.value for s in WITH_UNIT])
        .select_related("unit", "centre")
        .order_by("due_at", "pk")[:PAGE_SIZE]
    )


def ticket_list(
    *,
    user: User,
    centre: Unit | None = None,
    unit: Unit | None = None,
    state: str = "",
    after: int | None = None,
) -> list[Ticket]:
    """Newest first, a page at a time (``after``: the last id of the previous page)."""
    tickets = tickets_visible(user).select_related("centre", "unit")
    if centre is not None:
        tickets = tickets.filter(centre=centre)
    if unit is not None:
        tickets = tickets.filter(unit__path__startswith=unit.path)
    if state:
        tickets = tickets.filter(state=state)
    if after is not None:
        tickets = tickets.filter(pk__lt=after)
    return list(tickets.order_by("-pk")[:PAGE_SIZE])


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return round(100 * self.numerator / self.denominator, 2) if self.denominator else None


@dataclass(frozen=True)
class Figures:
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    answer_rate: Rate
    answered_within: Rate  # within KAOPING_HOTLINE_ANSWER_SECONDS
    tickets_received: int
    tickets_closed: int
    tickets_overdue: int  # deadline passed in the period without a reply, closed or not
    on_time_closure_rate: Rate
    urge_rate: Rate
    reopen_rate: Rate
    satisfaction_rate: Rate
    returns: int


def hotline_figures(*, user: User, unit: Unit, start: dt.datetime, end: dt.datetime) -> Figures:
    """The figures of a hotline centre or a handling unit (its subtree) for [start, end)."""
    if not _sees(user, unit):
        raise KaopingError(ErrorCode.NOT_FOUND, what="unit", where=unit.code, why="not found")
    if unit.kind == UnitKind.HOTLINE_CENTRE:
        own = Q(centre=unit)
        calls = CallRecord.objects.filter(centre=unit, started_at__gte=start, started_at__lt=end).aggregate(
            offered=Count("pk"),
            answered=Count("pk", filter=Q(abandoned=False)),
            within=Count(
                "pk", filter=Q(abandoned=False, wait_seconds__lte=settings.KAOPING_HOTLINE_ANSWER_SECONDS)
            ),
        )
        event_scope = Q(ticket__centre=unit)
    else:
        own = Q(unit__path__startswith=unit.path)
        calls = {"offered": 0, "answered": 0, "within": 0}
        event_scope = Q(unit__path__startswith=unit.path)
    tickets = Ticket.objects.filter(own)
    received = tickets.filter(received_at__gte=start, received_at__lt=end).count()
    closed = tickets.filter(closed_at__gte=start, closed_at__lt=end, dispatches__gt=0).aggregate(
        closed=Count("pk"),
        on_time=Count("pk", filter=Q(on_time=True)),
        urged=Count("pk", filter=Q(urges__gt=0)),
        reopened=Count("pk", filter=Q(reopens__gt=0)),
    )
    # Late verdicts count where the deadline passed (closed or not), on-time ones where they closed.
    overdue = with_deadline(tickets).filter(overdue_q(start, end)).count()
    revisits = TicketEvent.objects.filter(
        event_scope, action=Action.CENTRE_REVISIT.value, at__gte=start, at__lt=end
    ).aggregate(
        all=Count("pk"),
        good=Count("pk", filter=Q(data__satisfaction__in=["satisfied", "basic"])),
    )
    returns = TicketEvent.objects.filter(
        event_scope, action=Action.RETURN_REVIEW.value, outcome="approved", at__gte=start, at__lt=end
    ).count()
    return Figures(
        calls_offered=calls["offered"],
        calls_answered=calls["answered"],
        calls_abandoned=calls["offered"] - calls["answered"],
        answer_rate=Rate(calls["answered"], calls["offered"]),
        answered_within=Rate(calls["within"], calls["offered"]),
        tickets_received=received,
        tickets_closed=closed["closed"],
        tickets_overdue=overdue,
        on_time_closure_rate=Rate(closed["on_time"], closed["on_time"] + overdue),
        urge_rate=Rate(closed["urged"], closed["closed"]),
        reopen_rate=Rate(closed["reopened"], closed["closed"]),
        satisfaction_rate=Rate(revisits["good"], revisits["all"]),
        returns=returns,
    )


def _sees(user: User, unit: Unit) -> bool:
    return Unit.objects.filter(unit_scope_q(user), pk=unit.pk).exists()
