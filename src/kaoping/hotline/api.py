"""The hotline API (/api/hotline): post records, list and read tickets, take a step, read the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.hotline import selectors, services
from kaoping.hotline.imports import hotline_ingest
from kaoping.hotline.models import Ticket
from kaoping.hotline.workflow import Action, Satisfaction
from kaoping.org.models import Unit

router = Router(tags=["hotline"])
MAX_RECORDS = 1000


class IngestOut(Schema):
    tickets: int
    events: int
    calls: int
    duplicates: int
    rejected: list[dict[str, str]]


@router.post("/records", response=IngestOut, summary="Post tickets, their events and call records")
def post_records(request: HttpRequest, records: list[dict[str, Any]]) -> IngestOut:
    """Records as in docs/data-formats.md (type ticket, event or call). Sending a record again changes
    nothing; an event whose ticket is not stored yet is refused; centres outside your roles are unknown."""
    if len(records) > MAX_RECORDS:
        raise KaopingError(ErrorCode.INVALID, what="records", why=f"at most {MAX_RECORDS} records per call")
    report = hotline_ingest(
        actor=request.user,
        records=[(f"record {i}", r) for i, r in enumerate(records)],
        label="api",
        orphans="reject",
        user=request.user,
    )
    return IngestOut(
        tickets=report.tickets,
        events=report.events,
        calls=report.calls,
        duplicates=report.duplicates,
        rejected=[{"where": r.where, "id": r.record_id, "reason": r.reason} for r in report.rejected],
    )


class TicketOut(Schema):
    id: int
    source: str
    external_id: str
    centre: str
    unit: str | None
    category: str
    state: str
    received_at: dt.datetime
    due_at: dt.datetime | None
    extended_due_at: dt.datetime | None
    closed_at: dt.datetime | None
    on_time: bool | None
    returns: int
    reopens: int
    urges: int
    urge_level: int
    extensions: int
    extension_pending: bool
    satisfaction: str

    @staticmethod
    def of(t: Ticket) -> TicketOut:
        return TicketOut(
            id=t.pk,
            source=t.source,
            external_id=t.external_id,
            centre=t.centre.code,
            unit=t.unit.code if t.unit else None,
            category=t.category,
            state=t.state,
            received_at=t.received_at,
            due_at=t.due_at,
            extended_due_at=t.extended_due_at,
            closed_at=t.closed_at,
            on_time=t.on_time,
            returns=t.returns,
            reopens=t.reopens,
            urges=t.urges,
            urge_level=t.urge_level,
            extensions=t.extensions,
            extension_pending=t.extension_pending,
            satisfaction=t.satisfaction,
        )


class TicketDetailOut(TicketOut):
    caller: dict[str, str]
    events: list[dict[str, Any]]


def _detail(request: HttpRequest, ticket: Ticket) -> TicketDetailOut:
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket.pk)
    return TicketDetailOut(
        **TicketOut.of(ticket).dict(),
        caller=selectors.caller_view(user=request.user, ticket=ticket),
        events=[
            {
                "action": e.action,
                "outcome": e.outcome,
                "at": e.at.isoformat(),
                "actor": e.actor_name,
                "unit": e.unit.code if e.unit else None,
                "note": e.note,
                **e.data,
            }
            for e in selectors.ticket_events(ticket=ticket)
        ],
    )


def _unit(code: str | None, what: str) -> Unit | None:
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise KaopingError(ErrorCode.INVALID, what=what, why=f"unknown unit {code!r}")
    return unit


class TicketQuery(Schema):
    centre: str | None = None
    unit: str | None = None
    state: str = ""
    after: int | None = None


@router.get("/tickets", response=list[TicketOut], summary="Tickets in your scope, newest first")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> list[TicketOut]:
    tickets = selectors.ticket_list(
        user=request.user,
        centre=_unit(query.centre, "centre"),
        unit=_unit(query.unit, "unit"),
        state=query.state,
        after=query.after,
    )
    return [TicketOut.of(t) for t in tickets]


class AcceptIn(Schema):
    centre: str
    category: str
    content: str
    caller_name: str = ""
    caller_phone: str = ""
    address: str = ""


class AcceptOut(Schema):
    ticket: TicketDetailOut
    duplicates: list[TicketOut]
    suggested_unit: str | None


@router.post("/tickets", response=AcceptOut, summary="Accept a call as a ticket (受理)")
def accept(request: HttpRequest, payload: AcceptIn) -> AcceptOut:
    centre = _unit(payload.centre, "centre")
    assert centre is not None
    done = services.ticket_accept(
        actor=request.user,
        centre=centre,
        caller_name=payload.caller_name,
        caller_phone=payload.caller_phone,
        category=payload.category,
        content=payload.content,
        address=payload.address,
    )
    return AcceptOut(
        ticket=_detail(request, done.ticket),
        duplicates=[TicketOut.of(t) for t in done.duplicates],
        suggested_unit=done.suggestion.code if done.suggestion else None,
    )


@router.get("/tickets/{ticket_id}", response=TicketDetailOut, summary="One ticket with its steps")
def get_ticket(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    return _detail(request, selectors.ticket_get(user=request.user, ticket_id=ticket_id))


class ActionIn(Schema):
    action: str
    note: str = ""
    unit: str | None = None  # dispatch, redispatch
    into: int | None = None  # merge: the ticket's id
    satisfaction: str | None = None  # unit_revisit, centre_revisit
    approve: bool | None = None  # return_review, extension_decide
    level: int | None = None  # urge
    until: dt.datetime | None = None  # extension_request, extension_decide


@router.post("/tickets/{ticket_id}/actions", response=TicketDetailOut, summary="Take one workflow step")
def act(request: HttpRequest, ticket_id: int, payload: ActionIn) -> TicketDetailOut:
    """``action`` is one of the workflow's actions; the fields it needs are listed beside them."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    user = request.user
    try:
        action = Action(payload.action)
    except ValueError:
        raise KaopingError(
            ErrorCode.INVALID, what="action", why=f"{payload.action!r} is not a workflow action"
        ) from None

    def need(value: Any, name: str) -> Any:
        if value is None:
            raise KaopingError(ErrorCode.INVALID, what="action", where=name, why=f"is required for {action}")
        return value

    def satisfaction() -> Satisfaction:
        raw = need(payload.satisfaction, "satisfaction")
        try:
            return Satisfaction(raw)
        except ValueError:
            allowed = ", ".join(s.value for s in Satisfaction)
            raise KaopingError(
                ErrorCode.INVALID, what="action", where="satisfaction", why=f"{raw!r} is not one of {allowed}"
            ) from None

    until = payload.until
    if until is not None and (until.tzinfo is None or until.utcoffset() is None):
        raise KaopingError(ErrorCode.NAIVE_DATETIME, what="action", where="until", why="has no UTC offset")
    if until is not None:
        until = until.astimezone(clock.local_zone())
    note = payload.note
    if action is Action.MERGE:
        into = selectors.ticket_get(user=user, ticket_id=need(payload.into, "into"))
        done = services.ticket_merge(actor=user, ticket=ticket, into=into, note=note)
    elif action is Action.DISPATCH:
        done = services.ticket_dispatch(
            actor=user, ticket=ticket, unit=_unit(payload.unit, "unit"), note=note
        )
    elif action is Action.REDISPATCH:
        done = services.ticket_redispatch(
            actor=user, ticket=ticket, unit=_unit(payload.unit, "unit"), note=note
        )
    elif action is Action.SIGN:
        done = services.ticket_sign(actor=user, ticket=ticket)
    elif action is Action.RETURN_REQUEST:
        done = services.ticket_return_request(actor=user, ticket=ticket, reason=note)
    elif action is Action.RETURN_REVIEW:
        done = services.ticket_return_review(
            actor=user, ticket=ticket, approve=need(payload.approve, "approve"), note=note
        )
    elif action is Action.HANDLE:
        done = services.ticket_handle(actor=user, ticket=ticket, note=note)
    elif action is Action.REPLY:
        done = services.ticket_reply(actor=user, ticket=ticket, reply=note)
    elif action is Action.UNIT_REVISIT:
        done = services.ticket_unit_revisit(actor=user, ticket=ticket, satisfaction=satisfaction(), note=note)
    elif action is Action.CENTRE_REVISIT:
        done = services.ticket_centre_revisit(
            actor=user, ticket=ticket, satisfaction=satisfaction(), note=note
        )
    elif action is Action.URGE:
        done = services.ticket_urge(actor=user, ticket=ticket, note=note, level=payload.level)
    elif action is Action.EXTENSION_REQUEST:
        done = services.ticket_extension_request(
            actor=user, ticket=ticket, until=need(until, "until"), reason=note
        )
    elif action is Action.EXTENSION_DECIDE:
        done = services.ticket_extension_decide(
            actor=user, ticket=ticket, approve=need(payload.approve, "approve"), note=note, until=until
        )
    elif action is Action.CLOSE:
        done = services.ticket_close(actor=user, ticket=ticket, note=note)
    else:
        raise KaopingError(ErrorCode.INVALID, what="action", why="accept a call with POST /tickets")
    return _detail(request, done)


class RateOut(Schema):
    value: float | None
    numerator: int
    denominator: int


class FiguresOut(Schema):
    unit: str
    start: dt.date
    end: dt.date
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    answer_rate: RateOut
    answered_within_15s: RateOut
    tickets_received: int
    tickets_closed: int
    tickets_overdue: int  # deadline passed in the period without a reply, closed or not
    on_time_closure_rate: RateOut
    urge_rate: RateOut
    reopen_rate: RateOut
    satisfaction_rate: RateOut
    returns: int


@router.get("/figures", response=FiguresOut, summary="A hotline centre's or handling unit's figures")
def figures(request: HttpRequest, unit: str, start: dt.date, end: dt.date) -> FiguresOut:
    """From ``start`` to ``end`` inclusive, local days."""
    found = _unit(unit, "unit")
    assert found is not None
    if end < start:
        raise KaopingError(ErrorCode.INVALID, what="figures", where="end", why="lies before start")
    zone = clock.local_zone()
    f = selectors.hotline_figures(
        user=request.user,
        unit=found,
        start=dt.datetime.combine(start, dt.time(), tzinfo=zone),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )

    def rate(r: selectors.Rate) -> RateOut:
        return RateOut(value=r.value, numerator=r.numerator, denominator=r.denominator)

    return FiguresOut(
        unit=found.code,
        start=start,
        end=end,
        calls_offered=f.calls_offered,
        calls_answered=f.calls_answered,
        calls_abandoned=f.calls_abandoned,
        answer_rate=rate(f.answer_rate),
        answered_within_15s=rate(f.answered_within),
        tickets_received=f.tickets_received,
        tickets_closed=f.tickets_closed,
        tickets_overdue=f.tickets_overdue,
        on_time_closure_rate=rate(f.on_time_closure_rate),
        urge_rate=rate(f.urge_rate),
        reopen_rate=rate(f.reopen_rate),
        satisfaction_rate=rate(f.satisfaction_rate),
        returns=f.returns,
    )
