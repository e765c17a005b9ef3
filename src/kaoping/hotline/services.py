"""Writes for hotline tickets: one function per workflow action.

Each checks the actor's role and scope (``require_party``), runs the pure transition
(``workflow.Machine.apply``: an illegal step is refused with the state and the action named), stores
the ticket and one ``TicketEvent``, and appends one evidence entry — all in one transaction, so a
refusal leaves nothing behind.

Who acts (R3.1): the centre's people act for the centre, the handling unit's staff for their unit.

- accept, merge, dispatch, redispatch, close a ticket answered on the call: call taker, hall manager;
- urge, centre revisit: call taker, monitor, hall manager;
- return review, extension decision, close after the unit's revisit without 满意: monitor, hall
  manager (and a centre director covering the hotline centre);
- sign, return request, handle, reply, unit revisit, extension request: the handling unit's staff,
  i.e. a department head (科室负责人) or window staff (窗口人员) role held at the handling unit (or at a
  handling unit above it).

Roles count where they cover the ticket's hotline centre (centre side) or its current handling unit
(unit side; a role held at the hotline centre itself does not make anyone a unit's staff).
Superusers may act for both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access, scope_paths
from kaoping.evidence.services import evidence_append
from kaoping.hotline.matching import Rule, Suggestion, parse_keywords, similarity, suggest_unit
from kaoping.hotline.models import Category, DispatchRule, Ticket, TicketEvent
from kaoping.hotline.workflow import (
    MAX_URGE_LEVEL,
    PARTY,
    Action,
    Machine,
    Outcome,
    Party,
    Satisfaction,
    State,
    TransitionError,
)
from kaoping.org.models import Role, Staff, Unit, UnitKind
from kaoping.workcal.calendar import CalendarError, Due
from kaoping.workcal.limits import Limit
from kaoping.workcal.selectors import get_calendar

WHAT = "ticket"
CALL_SIDE = frozenset({Role.CALL_TAKER, Role.HALL_MANAGER})
REVIEWERS = frozenset({Role.MONITOR, Role.HALL_MANAGER, Role.CENTRE_DIRECTOR})
CENTRE_ROLES: dict[Action, frozenset[Role]] = {
    Action.ACCEPT: CALL_SIDE,
    Action.MERGE: CALL_SIDE,
    Action.DISPATCH: CALL_SIDE,
    Action.REDISPATCH: CALL_SIDE,
    Action.CLOSE: CALL_SIDE,
    Action.URGE: CALL_SIDE | {Role.MONITOR},
    Action.CENTRE_REVISIT: CALL_SIDE | {Role.MONITOR},
    Action.RETURN_REVIEW: REVIEWERS,
    Action.EXTENSION_DECIDE: REVIEWERS,
}
# Closing a ticket the caller did not call 满意 is a review decision, not a call taker's.
CLOSE_AFTER_REVISIT_ROLES = REVIEWERS
UNIT_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.WINDOW_STAFF})
MAX_TEXT = 4000


# -- limits and deadlines -----------------------------------------------------------------------------


@cache
def _limits(items: tuple[tuple[str, str], ...]) -> dict[str, Limit]:
    return {category: Limit.parse(text) for category, text in items}


def category_limits() -> dict[str, Limit]:
    """The handling limit of each category (settings.KAOPING_HOTLINE_LIMITS), checked once."""
    configured: dict[str, str] = settings.KAOPING_HOTLINE_LIMITS
    missing = [c for c in Category.values if c not in configured]
    if missing:
        raise KaopingError(
            ErrorCode.INVALID,
            what="KAOPING_HOTLINE_LIMITS",
            why=f"no limit for {', '.join(missing)}",
        )
    try:
        return _limits(tuple(sorted(configured.items())))
    except CalendarError as exc:
        raise KaopingError(ErrorCode.INVALID, what="KAOPING_HOTLINE_LIMITS", why=str(exc)) from None


def due_for(*, category: str, unit: Unit, start: dt.datetime) -> Due:
    """When a ticket of this category dispatched to ``unit`` at ``start`` is due (the unit's calendar)."""
    return category_limits()[category].due(get_calendar(unit=unit), start)


# -- scope and roles ----------------------------------------------------------------------------------


def _covers(paths: list[str], unit: Unit) -> bool:
    return any(unit.path.startswith(path) for path in paths)


def _superuser(actor: User) -> bool:
    return bool(actor.is_authenticated and getattr(actor, "is_superuser", False))


def centre_roles(action: Action, state: State) -> frozenset[Role]:
    if action is Action.CLOSE and state is State.UNIT_REVISITED:
        return CLOSE_AFTER_REVISIT_ROLES
    return CENTRE_ROLES[action]


def may_act(actor: User, *, action: Action, centre: Unit, unit: Unit | None, state: State) -> bool:
    """Whether the actor may take this action for this centre and handling unit (roles only, not the
    workflow state: that is the machine's to refuse)."""
    if _superuser(actor):
        return True
    if PARTY[action] is Party.CENTRE:
        return _covers(scope_paths(actor, roles=centre_roles(action, state)), centre)
    if unit is None:
        return False
    paths = [p for p in scope_paths(actor, roles=UNIT_ROLES) if len(p) > len(centre.path)]
    return _covers(paths, unit)


def require_party(actor: User, *, action: Action, centre: Unit, unit: Unit | None, state: State) -> None:
    if may_act(actor, action=action, centre=centre, unit=unit, state=state):
        return
    if PARTY[action] is Party.CENTRE:
        roles = "、".join(sorted(Role(r).label for r in centre_roles(action, state)))
        why = f"only the hotline centre's {roles} may {action.value} a ticket"
        where = centre.code
    else:
        why = f"only the handling unit's staff may {action.value} this ticket"
        where = unit.code if unit else centre.code
    raise KaopingError(ErrorCode.FORBIDDEN, what=WHAT, where=where, why=why)


# -- the step -----------------------------------------------------------------------------------------


def machine_of(ticket: Ticket) -> Machine:
    return Machine(
        state=State(ticket.state),
        returns=ticket.returns,
        return_requests=ticket.return_requests,
        reopens=ticket.reopens,
        urges=ticket.urges,
        urge_level=ticket.urge_level,
        extensions=ticket.extensions,
        extension_requests=ticket.extension_requests,
        extension_pending=ticket.extension_pending,
        dispatches=ticket.dispatches,
    )


def store_machine(ticket: Ticket, machine: Machine) -> None:
    ticket.state = machine.state.value
    ticket.returns = machine.returns
    ticket.return_requests = machine.return_requests
    ticket.reopens = machine.reopens
    ticket.urges = machine.urges
    ticket.urge_level = machine.urge_level
    ticket.extensions = machine.extensions
    ticket.extension_requests = machine.extension_requests
    ticket.extension_pending = machine.extension_pending
    ticket.dispatches = machine.dispatches


def ticket_state(ticket: Ticket) -> dict[str, Any]:
    """What the evidence entry of a step covers."""

    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "ticket": f"{ticket.source}:{ticket.external_id}",
        "state": ticket.state,
        "centre": ticket.centre_id,
        "unit": ticket.unit_id,
        "category": ticket.category,
        "due_at": iso(ticket.due_at),
        "extended_due_at": iso(ticket.extended_due_at),
        "closed_at": iso(ticket.closed_at),
        "on_time": ticket.on_time,
        "counters": [ticket.returns, ticket.reopens, ticket.urges, ticket.extensions],
        "urge_level": ticket.urge_level,
        "merged_into": ticket.merged_into_id,
        "satisfaction": ticket.satisfaction,
    }


def _invalid(where: str, why: str) -> KaopingError:
    return KaopingError(ErrorCode.INVALID, what=WHAT, where=where, why=why)


def _when(at: dt.datetime | None, ticket: Ticket | None = None) -> dt.datetime:
    """When a step happened: now, or earlier when recorded after the fact (never in the future, never
    before the ticket was received)."""
    now = clock.now()
    if at is None:
        return now
    if at.tzinfo is None or at.utcoffset() is None:
        raise KaopingError(ErrorCode.NAIVE_DATETIME, what=WHAT, where="at", why="has no UTC offset")
    if at > now:
        raise _invalid("at", "must not lie in the future")
    if ticket is not None and at < ticket.received_at:
        raise _invalid("at", "must not lie before the ticket was received")
    return at.astimezone(clock.local_zone())


def _text(value: str, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = value.strip()
    if required and not text:
        raise _invalid(name, "is required")
    if len(text) > limit:
        raise _invalid(name, f"is longer than {limit} characters")
    return text


def _judge_on_time(ticket: Ticket) -> bool | None:
    due = ticket.extended_due_at or ticket.due_at
    if ticket.unit_id is None or due is None or ticket.replied_at is None:
        return None
    return ticket.replied_at <= due


def _step(
    *,
    actor: User,
    ticket: Ticket,
    action: Action,
    outcome: Outcome = Outcome.NONE,
    at: dt.datetime | None = None,
    note: str = "",
    level: int | None = None,
    data: dict[str, Any] | None = None,
    prepare: Callable[[Ticket, dt.datetime], None] | None = None,
    event_unit: Unit | None = None,
) -> Ticket:
    """Lock the ticket, check the party, apply the transition, run ``prepare`` (which sets the
    action's fields and may refuse), save, and log the event and the evidence entry."""
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",)).select_related("centre", "unit").get(pk=ticket.pk)
        )
        state = State(locked.state)
        require_party(actor, action=action, centre=locked.centre, unit=locked.unit, state=state)
        when = _when(at, locked)
        try:
            machine = machine_of(locked).apply(action, outcome, level=level)
        except TransitionError as exc:
            raise _invalid(locked.external_id, str(exc)) from None
        before_unit = locked.unit
        store_machine(locked, machine)
        if prepare is not None:
            prepare(locked, when)
        if machine.state is State.CLOSED and state is not State.CLOSED:
            locked.closed_at = when
            locked.on_time = _judge_on_time(locked)
        locked.save()
        TicketEvent.objects.create(
            ticket=locked,
            action=action.value,
            outcome=outcome.value,
            at=when,
            actor_id=actor.pk if actor.is_authenticated else None,
            actor_name=_actor_name(actor),
            unit=event_unit or before_unit or locked.unit,
            from_state=state.value,
            to_state=machine.state.value,
            note=note,
            data=data or {},
        )
        evidence_append(
            actor=actor,
            action=f"hotline.{action.value}",
            object_type="hotline.ticket",
            object_id=str(locked.pk),
            state=ticket_state(locked),
            note=note[:200],
        )
    return locked


def _actor_name(actor: User) -> str:
    if not actor.is_authenticated:
        return "anonymous"
    full = getattr(actor, "get_full_name", lambda: "")()
    return str(full or actor.get_username())[:150]


# -- accept and merge ---------------------------------------------------------------------------------


@dataclass
class Accepted:
    ticket: Ticket
    duplicates: list[Ticket] = field(default_factory=list)  # merge candidates, most similar first
    suggestion: Unit | None = None  # from the dispatch catalogue


def _require_hotline_centre(centre: Unit) -> None:
    if centre.kind != UnitKind.HOTLINE_CENTRE:
        raise _invalid("centre", f"{centre.code} is not a hotline centre")


def ticket_accept(
    *,
    actor: User,
    centre: Unit,
    caller_name: str,
    caller_phone: str,
    category: str,
    content: str,
    address: str = "",
    at: dt.datetime | None = None,
) -> Accepted:
    """Record a call as a ticket (受理). Returns it with the tickets it may duplicate (same phone,
    similar text, within KAOPING_HOTLINE_DUPLICATE_DAYS) and the dispatch catalogue's suggestion."""
    _require_hotline_centre(centre)
    require_party(actor, action=Action.ACCEPT, centre=centre, unit=None, state=State.ACCEPTED)
    if category not in Category.values:
        raise _invalid("category", f"{category!r} is not one of {', '.join(Category.values)}")
    text = _text(content, "content")
    phone = _text(caller_phone, "caller_phone", required=False, limit=30)
    name = _text(caller_name, "caller_name", required=False, limit=100)
    place = _text(address, "address", required=False, limit=200)
    when = _when(at)
    staff = Staff.objects.filter(user_id=actor.pk).first() if actor.is_authenticated else None
    with transaction.atomic():
        ticket = Ticket.objects.create(
            source="kaoping",
            external_id=uuid.uuid4().hex,
            centre=centre,
            caller_name=name,
            caller_phone=phone,
            category=category,
            content=text,
            address=place,
            received_at=when,
            call_taker=staff,
            state=State.ACCEPTED.value,
        )
        ticket.external_id = f"{when:%Y%m%d}{ticket.pk:07d}"
        ticket.save(update_fields=["external_id"])
        TicketEvent.objects.create(
            ticket=ticket,
            action=Action.ACCEPT.value,
            at=when,
            actor_id=actor.pk if actor.is_authenticated else None,
            actor_name=_actor_name(actor),
            unit=centre,
            to_state=State.ACCEPTED.value,
        )
        evidence_append(
            actor=actor,
            action="hotline.accept",
            object_type="hotline.ticket",
            object_id=str(ticket.pk),
            state={**ticket_state(ticket), "content": text, "caller_phone": phone},
        )
    return Accepted(
        ticket=ticket,
        duplicates=ticket_duplicates(ticket=ticket),
        suggestion=dispatch_suggestion(centre=centre, category=category, content=text),
    )


def ticket_duplicates(*, ticket: Ticket) -> list[Ticket]:
    """Earlier tickets of the same centre from the same phone with a similar text, within the window."""
    if not ticket.caller_phone:
        return []
    since = ticket.received_at - dt.timedelta(days=settings.KAOPING_HOTLINE_DUPLICATE_DAYS)
    threshold = settings.KAOPING_HOTLINE_DUPLICATE_SIMILARITY / 100
    candidates = (
        Ticket.objects.filter(
            centre_id=ticket.centre_id,
            caller_phone=ticket.caller_phone,
            received_at__gte=since,
            received_at__lte=ticket.received_at,
            merged_into__isnull=True,
        )
        .exclude(pk=ticket.pk)
        .exclude(state=State.MERGED.value)[:50]
    )
    scored = [(similarity(ticket.content, c.content), c) for c in candidates]
    return [c for score, c in sorted(scored, key=lambda p: -p[0]) if score >= threshold]


def ticket_merge(
    *, actor: User, ticket: Ticket, into: Ticket, note: str = "", at: dt.datetime | None = None
) -> Ticket:
    """并单: this ticket duplicates ``into`` (of the same centre, itself not merged); it ends here."""
    if into.pk == ticket.pk:
        raise _invalid("into", "a ticket cannot be merged into itself")
    if into.centre_id != ticket.centre_id:
        raise _invalid("into", f"ticket {into.external_id} belongs to another hotline centre")
    if into.state == State.MERGED.value:
        raise _invalid("into", f"ticket {into.external_id} is itself merged; merge into the one it joined")

    def prepare(t: Ticket, when: dt.datetime) -> None:
        t.merged_into = into

    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.MERGE,
        at=at,
        note=note,
        data={"into": into.external_id},
        prepare=prepare,
    )


# -- dispatch -----------------------------------------------------------------------------------------


def dispatch_suggestion(*, centre: Unit, category: str, content: str) -> Unit | None:
    rules = [
        Rule(rule_id=pk, unit_id=unit_id, category=cat, keywords=parse_keywords(kw), priority=prio)
        for pk, unit_id, cat, kw, prio in DispatchRule.objects.filter(centre=centre, active=True).values_list(
            "pk", "unit_id", "category", "keywords", "priority"
        )
    ]
    found: Suggestion | None = suggest_unit(rules, category=category, content=content)
    return Unit.objects.filter(pk=found.unit_id).first() if found else None


def dispatch_rule_create(
    *, actor: User, centre: Unit, unit: Unit, category: str = "", keywords: str = "", priority: int = 0
) -> DispatchRule:
    _require_hotline_centre(centre)
    require_unit_access(actor, centre, what="dispatch rule")
    _require_handling_unit(centre, unit)
    if category and category not in Category.values:
        raise _invalid("category", f"{category!r} is not one of {', '.join(Category.values)}")
    with transaction.atomic():
        rule = DispatchRule.objects.create(
            centre=centre,
            unit=unit,
            category=category,
            keywords="，".join(parse_keywords(keywords)),
            priority=priority,
        )
        evidence_append(
            actor=actor,
            action="hotline.dispatch_rule_create",
            object_type="hotline.dispatchrule",
            object_id=str(rule.pk),
            state={"centre": centre.pk, "unit": unit.pk, "category": category, "keywords": rule.keywords},
        )
    return rule


def dispatch_rule_update(
    *,
    actor: User,
    rule: DispatchRule,
    unit: Unit,
    category: str,
    keywords: str,
    priority: int,
    active: bool,
) -> DispatchRule:
    """Change a catalogue rule (its centre stays). A rule is switched off, not deleted: the evidence
    log keeps what suggested past dispatches."""
    require_unit_access(actor, rule.centre, what="dispatch rule")
    if active:
        _require_handling_unit(rule.centre, unit)
    if category and category not in Category.values:
        raise _invalid("category", f"{category!r} is not one of {', '.join(Category.values)}")
    with transaction.atomic():
        rule.unit, rule.category, rule.priority, rule.active = unit, category, priority, active
        rule.keywords = "，".join(parse_keywords(keywords))
        rule.save(update_fields=["unit", "category", "keywords", "priority", "active"])
        evidence_append(
            actor=actor,
            action="hotline.dispatch_rule_update",
            object_type="hotline.dispatchrule",
            object_id=str(rule.pk),
            state={
                "unit": unit.pk,
                "category": category,
                "keywords": rule.keywords,
                "priority": priority,
                "active": active,
            },
        )
    return rule


def _require_handling_unit(centre: Unit, unit: Unit) -> None:
    if unit.kind != UnitKind.HANDLING_UNIT or not unit.path.startswith(centre.path) or not unit.active:
        raise _invalid("unit", f"{unit.code} is not an active handling unit of {centre.code}")


def _dispatch_to(unit: Unit | None) -> Callable[[Ticket, dt.datetime], None]:
    def prepare(t: Ticket, when: dt.datetime) -> None:
        target = unit or dispatch_suggestion(centre=t.centre, category=t.category, content=t.content)
        if target is None:
            raise _invalid("unit", "no handling unit given and the dispatch catalogue suggests none")
        _require_handling_unit(t.centre, target)
        due = due_for(category=t.category, unit=target, start=when)
        t.unit = target
        t.dispatched_at = when
        t.signed_at = None
        t.due_at = due.at
        t.provisional = due.provisional
        t.extended_due_at = None

    return prepare


def ticket_dispatch(
    *, actor: User, ticket: Ticket, unit: Unit | None = None, note: str = "", at: dt.datetime | None = None
) -> Ticket:
    """转派 to a handling unit (the catalogue's suggestion when none is given). The handling limit of
    the ticket's category runs in the unit's working time from now."""
    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.DISPATCH,
        at=at,
        note=note,
        prepare=_dispatch_to(unit),
        event_unit=unit,
    )


def ticket_redispatch(
    *, actor: User, ticket: Ticket, unit: Unit | None = None, note: str = "", at: dt.datetime | None = None
) -> Ticket:
    """改派 a returned ticket; the new unit gets the full limit from now."""
    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.REDISPATCH,
        at=at,
        note=note,
        prepare=_dispatch_to(unit),
        event_unit=unit,
    )


# -- the handling unit's steps ------------------------------------------------------------------------


def ticket_sign(*, actor: User, ticket: Ticket, at: dt.datetime | None = None) -> Ticket:
    def prepare(t: Ticket, when: dt.datetime) -> None:
        t.signed_at = when

    return _step(actor=actor, ticket=ticket, action=Action.SIGN, at=at, prepare=prepare)


def ticket_return_request(
    *, actor: User, ticket: Ticket, reason: str, at: dt.datetime | None = None
) -> Ticket:
    """退单: the unit says the ticket is not its business; the centre reviews."""
    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.RETURN_REQUEST,
        at=at,
        note=_text(reason, "reason"),
    )


def ticket_handle(*, actor: User, ticket: Ticket, note: str, at: dt.datetime | None = None) -> Ticket:
    """What the unit did (办理情况)."""
    return _step(actor=actor, ticket=ticket, action=Action.HANDLE, at=at, note=_text(note, "note"))


def ticket_reply(*, actor: User, ticket: Ticket, reply: str, at: dt.datetime | None = None) -> Ticket:
    """The unit's answer to the caller (答复); the ticket is on time when its last reply is by the due
    instant (extended when approved)."""

    def prepare(t: Ticket, when: dt.datetime) -> None:
        t.replied_at = when

    return _step(
        actor=actor, ticket=ticket, action=Action.REPLY, at=at, note=_text(reply, "reply"), prepare=prepare
    )


def ticket_unit_revisit(
    *,
    actor: User,
    ticket: Ticket,
    satisfaction: Satisfaction,
    note: str = "",
    at: dt.datetime | None = None,
) -> Ticket:
    """The unit's own revisit of the caller; what the caller said is recorded, the centre decides."""
    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.UNIT_REVISIT,
        at=at,
        note=note,
        data={"satisfaction": Satisfaction(satisfaction).value},
    )


def ticket_extension_request(
    *, actor: User, ticket: Ticket, until: dt.datetime, reason: str, at: dt.datetime | None = None
) -> Ticket:
    """延期申请: a later due instant, asked for before the current one has passed."""
    if until.tzinfo is None or until.utcoffset() is None:
        raise KaopingError(ErrorCode.NAIVE_DATETIME, what=WHAT, where="until", why="has no UTC offset")

    def prepare(t: Ticket, when: dt.datetime) -> None:
        due = t.extended_due_at or t.due_at
        if due is None:
            raise _invalid("until", "the ticket has no deadline to extend")
        if when > due:
            raise _invalid(
                "at", f"the deadline {due.isoformat()} has passed: an extension is asked for before it"
            )
        if until <= due:
            raise _invalid("until", f"must lie after the current deadline {due.isoformat()}")

    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.EXTENSION_REQUEST,
        at=at,
        note=_text(reason, "reason"),
        data={"until": until.isoformat()},
        prepare=prepare,
    )


# -- the centre's decisions ---------------------------------------------------------------------------


def ticket_return_review(
    *, actor: User, ticket: Ticket, approve: bool, note: str, at: dt.datetime | None = None
) -> Ticket:
    """Approved: the ticket comes back to the centre for re-dispatch. Rejected: the unit keeps it
    (signed for)."""

    def prepare(t: Ticket, when: dt.datetime) -> None:
        if approve:
            t.unit = None
            t.due_at = None
            t.extended_due_at = None
            t.provisional = False
        elif t.signed_at is None:
            t.signed_at = when

    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.RETURN_REVIEW,
        outcome=Outcome.APPROVED if approve else Outcome.REJECTED,
        at=at,
        note=_text(note, "note"),
        prepare=prepare,
    )


def ticket_extension_decide(
    *,
    actor: User,
    ticket: Ticket,
    approve: bool,
    note: str = "",
    until: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> Ticket:
    """Approved: the ticket is due at the requested instant (or ``until``, set by the centre)."""
    if until is not None and (until.tzinfo is None or until.utcoffset() is None):
        raise KaopingError(ErrorCode.NAIVE_DATETIME, what=WHAT, where="until", why="has no UTC offset")

    def prepare(t: Ticket, when: dt.datetime) -> None:
        if not approve:
            return
        request = (
            TicketEvent.objects.filter(ticket=t, action=Action.EXTENSION_REQUEST.value)
            .order_by("-at", "-pk")
            .first()
        )
        asked = request.data.get("until") if request else None
        chosen = until or (dt.datetime.fromisoformat(asked) if asked else None)
        due = t.extended_due_at or t.due_at
        if chosen is None:
            raise _invalid("until", "the request names no instant: give one")
        if due is not None and chosen <= due:
            raise _invalid("until", f"must lie after the current deadline {due.isoformat()}")
        t.extended_due_at = chosen.astimezone(clock.local_zone())

    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.EXTENSION_DECIDE,
        outcome=Outcome.APPROVED if approve else Outcome.REJECTED,
        at=at,
        note=note,
        data={"until": until.isoformat()} if until else {},
        prepare=prepare,
    )


def ticket_urge(
    *, actor: User, ticket: Ticket, note: str, level: int | None = None, at: dt.datetime | None = None
) -> Ticket:
    """督办 the unit holding the ticket; ``level`` 1–3 (一般 / 重点 / 挂牌督办) never goes down; without
    it the level reached so far (1 the first time)."""
    if level is not None and not 1 <= level <= MAX_URGE_LEVEL:
        raise _invalid("level", f"must be between 1 and {MAX_URGE_LEVEL}")
    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.URGE,
        at=at,
        level=level,
        note=_text(note, "note"),
        data={"level": level} if level else {},
    )


def ticket_centre_revisit(
    *,
    actor: User,
    ticket: Ticket,
    satisfaction: Satisfaction,
    note: str = "",
    at: dt.datetime | None = None,
) -> Ticket:
    """The centre's revisit decides (R3.4): 满意 closes the ticket; 基本满意 or 不满意 reopens it for the
    unit to handle again."""
    verdict = Satisfaction(satisfaction)

    def prepare(t: Ticket, when: dt.datetime) -> None:
        t.satisfaction = verdict.value

    return _step(
        actor=actor,
        ticket=ticket,
        action=Action.CENTRE_REVISIT,
        outcome=verdict.outcome,
        at=at,
        note=note,
        data={"satisfaction": verdict.value},
        prepare=prepare,
    )


def ticket_close(*, actor: User, ticket: Ticket, note: str, at: dt.datetime | None = None) -> Ticket:
    """办结 without a 满意 revisit: a ticket answered on the call (from accepted, call taker), or one
    whose caller stays unsatisfied after the unit's revisit, closed on review (monitor, hall manager)."""
    return _step(actor=actor, ticket=ticket, action=Action.CLOSE, at=at, note=_text(note, "note"))
