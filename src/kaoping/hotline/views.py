"""Pages of the hotline (R3.1, R3.4): the call taker's board (受理台), the handling unit's inbox
(承办单位待办), the monitor's review (质检/审核), one ticket with its timeline, and the hall manager's
figures (热线运行指标).

Every step posts to ``ticket_act_view``, which calls the one service of that action. A refusal
(``KaopingError``) is shown as a message on the page the step was taken from, with status 400; a
ticket outside the user's scope answers 404. Which forms a page offers comes from the workflow
(``Machine.allowed``) and the services' own role check (``may_act``), so a page never offers a step
the service would refuse for its state or role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_name, mask_phone, mask_text
from kaoping.core.permissions import User, scope_paths, sees_personal_data, unit_scope_q, user_roles
from kaoping.hotline import selectors, services
from kaoping.hotline.models import Category, FindingKind, Ticket, TicketEvent
from kaoping.hotline.quality import CHECKERS, finding_record
from kaoping.hotline.workflow import (
    ACTION_LABELS,
    SATISFACTION_LABELS,
    STATE_LABELS,
    TERMINAL,
    URGE_LEVEL_LABELS,
    Action,
    Outcome,
    Satisfaction,
    State,
)
from kaoping.org.models import Role, RoleAssignment, Staff, Unit, UnitKind

HOTLINE_ROLES = frozenset({Role.CALL_TAKER, Role.MONITOR, Role.HALL_MANAGER})
LIST_LIMIT = 200
OPEN_STATES = [s for s in State if s not in TERMINAL]
ACTION_VALUES = frozenset(a.value for a in Action)
STATE_VALUES = frozenset(s.value for s in State)
# The unit still owes a reply in these states; in the others its reply (if any) is judged by its instant.
OWES_REPLY = frozenset(
    {State.DISPATCHED, State.SIGNED, State.RETURN_REQUESTED, State.HANDLED, State.REOPENED}
)
# Which steps each list offers inline (the ticket's own page offers every step the user may take).
BOARD_ACTIONS = frozenset(
    {Action.DISPATCH, Action.REDISPATCH, Action.URGE, Action.CENTRE_REVISIT, Action.CLOSE}
)
INBOX_ACTIONS = frozenset(
    {
        Action.SIGN,
        Action.RETURN_REQUEST,
        Action.HANDLE,
        Action.REPLY,
        Action.UNIT_REVISIT,
        Action.EXTENSION_REQUEST,
    }
)
REVIEW_ACTIONS = frozenset(
    {
        Action.RETURN_REVIEW,
        Action.EXTENSION_DECIDE,
        Action.REDISPATCH,
        Action.CENTRE_REVISIT,
        Action.CLOSE,
    }
)
DONE_MESSAGES = {
    Action.MERGE: "已并单。",
    Action.DISPATCH: "已转派。",
    Action.SIGN: "已签收。",
    Action.RETURN_REQUEST: "已申请退单，等待中心审核。",
    Action.RETURN_REVIEW: "已审核退单申请。",
    Action.REDISPATCH: "已改派。",
    Action.HANDLE: "已记录办理情况。",
    Action.REPLY: "已答复。",
    Action.UNIT_REVISIT: "已记录回访。",
    Action.CENTRE_REVISIT: "已记录中心回访。",
    Action.URGE: "已督办。",
    Action.EXTENSION_REQUEST: "已申请延期，等待中心审批。",
    Action.EXTENSION_DECIDE: "已审批延期申请。",
    Action.CLOSE: "已办结。",
}


# -- who sees what ----------------------------------------------------------------------------------


def _superuser(user: User) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def unit_role_units(user: User) -> list[Unit]:
    """The handling units whose staff the user is (a unit role held at a handling unit)."""
    if _superuser(user):
        return list(Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, active=True).order_by("path"))
    held = RoleAssignment.objects.filter(
        user_id=user.pk or 0, role__in=list(services.UNIT_ROLES), unit__kind=UnitKind.HANDLING_UNIT
    ).values_list("unit__path", flat=True)
    paths = sorted(set(held))
    return _units_under(paths, UnitKind.HANDLING_UNIT)


def _units_under(paths: list[str], kind: str) -> list[Unit]:
    if not paths:
        return []
    found = Unit.objects.filter(kind=kind, active=True).order_by("path")
    return [u for u in found if any(u.path.startswith(p) for p in paths)]


def hotline_centres(user: User) -> list[Unit]:
    """The hotline centres the user's roles cover (held at the centre or above it)."""
    return list(
        Unit.objects.filter(unit_scope_q(user), kind=UnitKind.HOTLINE_CENTRE, active=True).order_by("path")
    )


def figure_units(user: User) -> list[Unit]:
    return list(
        Unit.objects.filter(
            unit_scope_q(user), kind__in=[UnitKind.HOTLINE_CENTRE, UnitKind.HANDLING_UNIT], active=True
        ).order_by("path")
    )


def may_see_hotline(user: User) -> bool:
    """For the navigation: a hotline role, or a role held at a handling unit."""
    if not user.is_authenticated:
        return False
    if _superuser(user) or user_roles(user) & HOTLINE_ROLES:
        return True
    return RoleAssignment.objects.filter(user_id=user.pk or 0, unit__kind=UnitKind.HANDLING_UNIT).exists()


def _tabs(request: HttpRequest, current: str) -> list[dict[str, object]]:
    user = request.user
    has_centre = bool(hotline_centres(user))
    items = [
        ("board", _("受理台"), has_centre),
        ("inbox", _("承办单位待办"), bool(unit_role_units(user))),
        ("review", _("质检/审核"), has_centre),
        ("figures", _("热线运行指标"), bool(figure_units(user))),
    ]
    return [
        {"name": name, "label": label, "url": reverse(f"hotline:{name}"), "current": name == current}
        for name, label, shown in items
        if shown
    ]


def _pick(units: list[Unit], raw: str | None) -> Unit:
    if not units:
        raise Http404("no hotline unit in your scope")
    if raw and raw.isdigit():
        chosen = next((u for u in units if u.pk == int(raw)), None)
        if chosen is None:
            raise Http404("no such unit in your scope")
        return chosen
    return units[0]


# -- what a row shows -------------------------------------------------------------------------------


@dataclass
class Row:
    """A ticket as a list or page shows it: masked as the role requires, with the steps on offer."""

    t: Ticket
    name: str
    phone: str
    content: str
    due: dt.datetime | None
    overdue: bool
    acts: dict[str, list[str]]
    state_label: str
    category_label: str


def overdue(ticket: Ticket, now: dt.datetime) -> bool:
    """Past its due instant (extended when approved) without a reply, or replied after it."""
    due = ticket.extended_due_at or ticket.due_at
    state = State(ticket.state)
    if due is None or state in TERMINAL:
        return False
    if state in OWES_REPLY:
        return due < now
    return ticket.replied_at is not None and ticket.replied_at > due


def allowed_actions(user: User, ticket: Ticket) -> dict[str, list[str]]:
    """The steps this user may take on this ticket now: action → outcomes."""
    state = State(ticket.state)
    out: dict[str, list[str]] = {}
    for action, outcome in services.machine_of(ticket).allowed():
        if services.may_act(user, action=action, centre=ticket.centre, unit=ticket.unit, state=state):
            out.setdefault(action.value, []).append(outcome.value)
    return out


def _row(user: User, ticket: Ticket, personal: bool, now: dt.datetime, only: frozenset[Action] | None) -> Row:
    acts = allowed_actions(user, ticket)
    if only is not None:
        acts = {a: o for a, o in acts.items() if Action(a) in only}
    if personal:
        name, phone, content = ticket.caller_name, ticket.caller_phone, ticket.content
    else:
        name = mask_name(ticket.caller_name)
        phone = mask_phone(ticket.caller_phone) if ticket.caller_phone else ""
        content = mask_text(ticket.content)
    return Row(
        t=ticket,
        name=name,
        phone=phone,
        content=content,
        due=ticket.extended_due_at or ticket.due_at,
        overdue=overdue(ticket, now),
        acts=acts,
        state_label=_(STATE_LABELS[State(ticket.state)]),
        category_label=_(Category(ticket.category).label) if ticket.category in Category.values else "",
    )


def _rows(user: User, tickets: list[Ticket], only: frozenset[Action] | None) -> list[Row]:
    now = clock.now()
    seen: dict[int, bool] = {}
    rows = []
    for t in tickets:
        if t.centre_id not in seen:
            seen[t.centre_id] = sees_personal_data(user, t.centre)
        rows.append(_row(user, t, seen[t.centre_id], now, only))
    return rows


def _handling_units(centre: Unit) -> list[Unit]:
    return list(
        Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, active=True, path__startswith=centre.path).order_by(
            "path"
        )
    )


def _labels() -> dict[str, object]:
    """Choices the action forms use, translated."""
    return {
        "satisfactions": [(s.value, _(label)) for s, label in SATISFACTION_LABELS.items()],
        "urge_levels": [(n, _(label)) for n, label in URGE_LEVEL_LABELS.items()],
        "action_labels": {a.value: _(label) for a, label in ACTION_LABELS.items()},
    }


def _last_event(ticket: Ticket, action: Action) -> TicketEvent | None:
    return ticket.events.filter(action=action.value).order_by("-at", "-pk").first()


# -- the call taker's board -------------------------------------------------------------------------


@login_required
def hotline_home_view(request: HttpRequest) -> HttpResponse:
    """热线工单: the page of the user's first hotline role."""
    roles = user_roles(request.user)
    centres = hotline_centres(request.user)
    if centres and roles & {Role.CALL_TAKER, Role.HALL_MANAGER}:
        return redirect("hotline:board")
    if unit_role_units(request.user):
        return redirect("hotline:inbox")
    if centres and Role.MONITOR in roles:
        return redirect("hotline:review")
    if centres:
        return redirect("hotline:board")
    if figure_units(request.user):
        return redirect("hotline:figures")
    raise Http404("no hotline in your scope")


def _board_page(
    request: HttpRequest, params: QueryDict, *, status: int = 200, form: dict[str, str] | None = None
) -> HttpResponse:
    user = request.user
    centres = hotline_centres(user)
    centre = _pick(centres, params.get("centre"))
    state = params.get("state", "")
    open_states = [s.value for s in OPEN_STATES]
    tickets = selectors.tickets_visible(user).filter(centre=centre, state__in=open_states)
    counts = dict(tickets.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    if state in open_states:
        tickets = tickets.filter(state=state)
    else:
        state = ""
    chosen = list(tickets.select_related("centre", "unit").order_by("received_at", "pk")[:LIST_LIMIT])
    may_accept = services.may_act(user, action=Action.ACCEPT, centre=centre, unit=None, state=State.ACCEPTED)
    return render(
        request,
        "hotline/board.html",
        {
            "tabs": _tabs(request, "board"),
            "centres": centres,
            "centre": centre,
            "state": state,
            "states": [(s.value, _(STATE_LABELS[s]), counts.get(s.value, 0)) for s in OPEN_STATES],
            "total": sum(counts.values()),
            "rows": _rows(user, chosen, BOARD_ACTIONS),
            "may_accept": may_accept,
            "categories": [(v, _(label)) for v, label in Category.choices],
            "form": form or {"category": "consultation"},  # most calls are questions
            "units": _handling_units(centre),
            "next": "board",
            "next_query": params.urlencode(),
            **_labels(),
        },
        status=status,
    )


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    return _board_page(request, request.GET)


@login_required
@require_POST
def accept_view(request: HttpRequest) -> HttpResponse:
    """受理: record the call; the new ticket's page shows the duplicates to merge and the suggested unit."""
    post = request.POST
    centre = _pick(hotline_centres(request.user), post.get("centre"))
    fields = ("caller_name", "caller_phone", "category", "content", "address")
    form = {name: post.get(name, "") for name in fields}
    try:
        done = services.ticket_accept(
            actor=request.user,
            centre=centre,
            caller_name=form["caller_name"],
            caller_phone=form["caller_phone"],
            category=form["category"],
            content=form["content"],
            address=form["address"],
        )
    except KaopingError as exc:
        messages.error(request, exc.message)
        return _board_page(request, QueryDict(f"centre={centre.pk}"), status=400, form=form)
    messages.success(request, _("已受理，工单编号 %(id)s。") % {"id": done.ticket.external_id})
    return redirect("hotline:detail", pk=done.ticket.pk)


# -- the handling unit's inbox ----------------------------------------------------------------------


def _inbox_page(request: HttpRequest, params: QueryDict, *, status: int = 200) -> HttpResponse:
    user = request.user
    units = unit_role_units(user)
    unit = _pick(units, params.get("unit"))
    tickets = selectors.unit_inbox(user=user, unit=unit)
    return render(
        request,
        "hotline/inbox.html",
        {
            "tabs": _tabs(request, "inbox"),
            "units": units,
            "unit": unit,
            "rows": _rows(user, tickets, INBOX_ACTIONS),
            "next": "inbox",
            "next_query": params.urlencode(),
            **_labels(),
        },
        status=status,
    )


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    return _inbox_page(request, request.GET)


# -- the monitor's review ---------------------------------------------------------------------------


@dataclass
class Pending:
    row: Row
    event: TicketEvent | None  # the request waiting for a decision
    until: str  # the extension asked for, as shown
    said: str  # the caller's judgement at the unit's revisit


def _last_events(tickets: list[Ticket], action: Action) -> dict[int, TicketEvent]:
    """Each ticket's latest event of one action, in one query (the review lists hold up to 200)."""
    latest: dict[int, TicketEvent] = {}
    events = TicketEvent.objects.filter(ticket__in=[t.pk for t in tickets], action=action.value)
    for event in events.order_by("at", "pk"):
        latest[event.ticket_id] = event
    return latest


def _pending(user: User, tickets: list[Ticket], action: Action) -> list[Pending]:
    rows = _rows(user, tickets, REVIEW_ACTIONS)
    latest = _last_events([row.t for row in rows], action)
    out = []
    for row in rows:
        event = latest.get(row.t.pk)
        until = ""
        if event is not None and event.data.get("until"):
            until = (
                dt.datetime.fromisoformat(event.data["until"])
                .astimezone(clock.local_zone())
                .strftime("%Y-%m-%d %H:%M")
            )
        said = ""
        if event is not None and event.data.get("satisfaction") in {v.value for v in Satisfaction}:
            said = _(SATISFACTION_LABELS[Satisfaction(event.data["satisfaction"])])
        out.append(Pending(row=row, event=event, until=until, said=said))
    return out


def _review_page(request: HttpRequest, params: QueryDict, *, status: int = 200) -> HttpResponse:
    user = request.user
    centres = hotline_centres(user)
    centre = _pick(centres, params.get("centre"))
    base = selectors.tickets_visible(user).filter(centre=centre).select_related("centre", "unit")

    def of(**where: Any) -> list[Ticket]:
        return list(base.filter(**where).order_by("received_at", "pk")[:LIST_LIMIT])

    return render(
        request,
        "hotline/review.html",
        {
            "tabs": _tabs(request, "review"),
            "centres": centres,
            "centre": centre,
            "returns": _pending(user, of(state=State.RETURN_REQUESTED.value), Action.RETURN_REQUEST),
            "extensions": _pending(user, of(extension_pending=True), Action.EXTENSION_REQUEST),
            "returned": _rows(user, of(state=State.RETURNED.value), REVIEW_ACTIONS),
            "revisits": _pending(user, of(state=State.UNIT_REVISITED.value), Action.UNIT_REVISIT),
            "units": _handling_units(centre),
            "next": "review",
            "next_query": params.urlencode(),
            **_labels(),
        },
        status=status,
    )


@login_required
def review_view(request: HttpRequest) -> HttpResponse:
    return _review_page(request, request.GET)


# -- one ticket -------------------------------------------------------------------------------------


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    try:
        return selectors.ticket_get(user=request.user, ticket_id=pk)
    except KaopingError:
        raise Http404("no such ticket in your scope") from None


def _timeline(ticket: Ticket) -> list[dict[str, object]]:
    satisfaction = {s.value: _(label) for s, label in SATISFACTION_LABELS.items()}
    outcomes = {Outcome.APPROVED.value: _("同意"), Outcome.REJECTED.value: _("不同意")}
    out = []
    for e in selectors.ticket_events(ticket=ticket):
        detail = []
        if e.data.get("satisfaction"):
            detail.append(satisfaction.get(e.data["satisfaction"], e.data["satisfaction"]))
        elif e.outcome in outcomes:
            detail.append(outcomes[e.outcome])
        if e.data.get("level"):
            detail.append(_(URGE_LEVEL_LABELS.get(int(e.data["level"]), str(e.data["level"]))))
        if e.data.get("until"):
            until = dt.datetime.fromisoformat(e.data["until"]).astimezone(clock.local_zone())
            detail.append(_("延至 %(until)s") % {"until": until.strftime("%Y-%m-%d %H:%M")})
        if e.data.get("into"):
            detail.append(_("并入 %(id)s") % {"id": e.data["into"]})
        out.append(
            {
                "e": e,
                "action": _(ACTION_LABELS[Action(e.action)]) if e.action in ACTION_VALUES else e.action,
                "to_state": _(STATE_LABELS[State(e.to_state)]) if e.to_state in STATE_VALUES else e.to_state,
                "detail": "，".join(detail),
            }
        )
    return out


def _detail_page(request: HttpRequest, pk: int, *, status: int = 200) -> HttpResponse:
    user = request.user
    ticket = _ticket(request, pk)
    personal = sees_personal_data(user, ticket.centre)
    row = _row(user, ticket, personal, clock.now(), None)
    duplicates: list[Row] = []
    suggestion: Unit | None = None
    if Action.MERGE.value in row.acts:
        duplicates = _rows(user, _visible_only(user, services.ticket_duplicates(ticket=ticket)), frozenset())
    if {Action.DISPATCH.value, Action.REDISPATCH.value} & set(row.acts):
        suggestion = services.dispatch_suggestion(
            centre=ticket.centre, category=ticket.category, content=ticket.content
        )
    pending_until = ""
    if ticket.extension_pending:
        event = _last_event(ticket, Action.EXTENSION_REQUEST)
        if event is not None and event.data.get("until"):
            pending_until = (
                dt.datetime.fromisoformat(event.data["until"])
                .astimezone(clock.local_zone())
                .strftime("%Y-%m-%d %H:%M")
            )
    return render(
        request,
        "hotline/detail.html",
        {
            "tabs": _tabs(request, ""),
            "row": row,
            "t": ticket,
            "timeline": _timeline(ticket),
            "duplicates": duplicates,
            "suggestion": suggestion,
            "units": _handling_units(ticket.centre) if row.acts else [],
            "merged": list(ticket.merged.order_by("pk")) if not ticket.merged_into_id else [],
            "pending_until": pending_until,
            "urge_level_label": _(URGE_LEVEL_LABELS[ticket.urge_level]) if ticket.urge_level else "",
            "satisfaction_label": _(SATISFACTION_LABELS[Satisfaction(ticket.satisfaction)])
            if ticket.satisfaction
            else "",
            "next": "detail",
            "next_query": "",
            "findings": list(ticket.findings.select_related("staff", "found_by").order_by("found_at", "pk")),
            "may_check": may_check(user, ticket.centre),
            "finding_kinds": FindingKind.choices,
            "centre_staff": list(
                Staff.objects.filter(unit=ticket.centre, active=True).order_by("employee_no")
            ),
            **_labels(),
        },
        status=status,
    )


def may_check(user: User, centre: Unit) -> bool:
    """Monitors, hall managers and directors covering the centre record quality findings (R3.3)."""
    return _superuser(user) or any(centre.path.startswith(p) for p in scope_paths(user, roles=CHECKERS))


@login_required
@require_POST
def finding_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a quality finding (质检发现) against a person of the centre, about this ticket."""
    ticket = _ticket(request, pk)
    try:
        staff = Staff.objects.filter(unit=ticket.centre, employee_no=request.POST.get("staff", "")).first()
        if staff is None:
            raise _invalid("staff", "choose a person of this hotline centre")
        finding_record(
            actor=request.user,
            staff=staff,
            kind=request.POST.get("kind", ""),
            note=request.POST.get("note", ""),
            ticket=ticket,
        )
    except KaopingError as error:
        messages.error(request, str(error))
        return _detail_page(request, pk, status=400)
    messages.success(request, _("已记录质检发现。"))
    return redirect("hotline:detail", pk=pk)


def _visible_only(user: User, tickets: list[Ticket]) -> list[Ticket]:
    visible = set(
        selectors.tickets_visible(user).filter(pk__in=[t.pk for t in tickets]).values_list("pk", flat=True)
    )
    return [t for t in tickets if t.pk in visible]


@login_required
def ticket_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


# -- taking a step ----------------------------------------------------------------------------------


def _invalid(where: str, why: str) -> KaopingError:
    return KaopingError(ErrorCode.INVALID, what="ticket", where=where, why=why)


def _unit_field(raw: str) -> Unit | None:
    """The unit a dispatch names; empty: the dispatch catalogue's suggestion."""
    if not raw:
        return None
    unit = Unit.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if unit is None:
        raise _invalid("unit", f"unknown unit {raw!r}")
    return unit


def _satisfaction_field(raw: str) -> Satisfaction:
    try:
        return Satisfaction(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in Satisfaction)
        raise _invalid("satisfaction", f"{raw!r} is not one of {allowed}") from None


def _approve_field(raw: str) -> bool:
    if raw not in ("1", "0"):
        raise _invalid("approve", "choose approve or reject")
    return raw == "1"


def _level_field(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise _invalid("level", f"{raw!r} is not an urge level")
    return int(raw)


def _until_field(raw: str, *, required: bool) -> dt.datetime | None:
    """A local date and time from the form (``datetime-local``) as an aware instant."""
    if not raw:
        if required:
            raise _invalid("until", "is required")
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise KaopingError(
            ErrorCode.BAD_DATETIME, what="ticket", where="until", why=f"{raw!r} is not a date and time"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.local_zone())
    return value


def _take(user: User, ticket: Ticket, action: Action, post: QueryDict) -> Ticket:
    """Run the service of one step with the form's fields."""
    note = post.get("note", "")
    if action is Action.MERGE:
        raw = post.get("into", "")
        if not raw.isdigit():
            raise _invalid("into", "choose the ticket to merge into")
        into = selectors.ticket_get(user=user, ticket_id=int(raw))
        return services.ticket_merge(actor=user, ticket=ticket, into=into, note=note)
    steps: dict[Action, Callable[[], Ticket]] = {
        Action.DISPATCH: lambda: services.ticket_dispatch(
            actor=user, ticket=ticket, unit=_unit_field(post.get("unit", "")), note=note
        ),
        Action.REDISPATCH: lambda: services.ticket_redispatch(
            actor=user, ticket=ticket, unit=_unit_field(post.get("unit", "")), note=note
        ),
        Action.SIGN: lambda: services.ticket_sign(actor=user, ticket=ticket),
        Action.RETURN_REQUEST: lambda: services.ticket_return_request(actor=user, ticket=ticket, reason=note),
        Action.RETURN_REVIEW: lambda: services.ticket_return_review(
            actor=user, ticket=ticket, approve=_approve_field(post.get("approve", "")), note=note
        ),
        Action.HANDLE: lambda: services.ticket_handle(actor=user, ticket=ticket, note=note),
        Action.REPLY: lambda: services.ticket_reply(actor=user, ticket=ticket, reply=note),
        Action.UNIT_REVISIT: lambda: services.ticket_unit_revisit(
            actor=user,
            ticket=ticket,
            satisfaction=_satisfaction_field(post.get("satisfaction", "")),
            note=note,
        ),
        Action.CENTRE_REVISIT: lambda: services.ticket_centre_revisit(
            actor=user,
            ticket=ticket,
            satisfaction=_satisfaction_field(post.get("satisfaction", "")),
            note=note,
        ),
        Action.URGE: lambda: services.ticket_urge(
            actor=user, ticket=ticket, note=note, level=_level_field(post.get("level", ""))
        ),
        Action.EXTENSION_REQUEST: lambda: services.ticket_extension_request(
            actor=user,
            ticket=ticket,
            until=_until_field(post.get("until", ""), required=True),  # type: ignore[arg-type]
            reason=note,
        ),
        Action.EXTENSION_DECIDE: lambda: services.ticket_extension_decide(
            actor=user,
            ticket=ticket,
            approve=_approve_field(post.get("approve", "")),
            note=note,
            until=_until_field(post.get("until", ""), required=False),
        ),
        Action.CLOSE: lambda: services.ticket_close(actor=user, ticket=ticket, note=note),
    }
    return steps[action]()


PAGES = frozenset({"board", "inbox", "review", "detail"})


@login_required
@require_POST
def ticket_act_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One workflow step on one ticket; back to the page it was taken from."""
    ticket = _ticket(request, pk)
    post = request.POST
    page = post.get("next", "detail")
    page = page if page in PAGES else "detail"
    query = QueryDict(post.get("next_query", ""))
    raw = post.get("action", "")
    try:
        if raw not in ACTION_VALUES or raw == Action.ACCEPT.value:
            raise _invalid("action", f"{raw!r} is not a step of a ticket")
        action = Action(raw)
        done = _take(request.user, ticket, action, post)
    except KaopingError as exc:
        messages.error(request, exc.message)
        if page == "board":
            return _board_page(request, query, status=400)
        if page == "inbox":
            return _inbox_page(request, query, status=400)
        if page == "review":
            return _review_page(request, query, status=400)
        return _detail_page(request, ticket.pk, status=400)
    messages.success(request, f"{done.external_id}：{_(DONE_MESSAGES[action])}")
    if page == "detail":
        return redirect("hotline:detail", pk=ticket.pk)
    target = reverse(f"hotline:{page}")
    return redirect(f"{target}?{query.urlencode()}" if query else target)


# -- the hall manager's figures ---------------------------------------------------------------------


def _period(params: QueryDict, errors: list[str]) -> tuple[dt.date, dt.date, str]:
    """The period asked for: a month (YYYY-MM) or a day range; the current month by default."""
    today = clock.today()
    month = params.get("month", "")
    start_raw, end_raw = params.get("start", ""), params.get("end", "")
    if start_raw or end_raw:
        try:
            start = dt.date.fromisoformat(start_raw or end_raw)
            end = dt.date.fromisoformat(end_raw or start_raw)
        except ValueError:
            errors.append(_("日期应为 YYYY-MM-DD"))
        else:
            if end < start:
                errors.append(_("结束日期早于开始日期"))
            else:
                return start, end, ""
    elif month:
        try:
            first = dt.date.fromisoformat(f"{month}-01")
        except ValueError:
            errors.append(_("月份应为 YYYY-MM"))
        else:
            return first, _month_end(first), month
    first = today.replace(day=1)
    return first, _month_end(first), f"{first:%Y-%m}"


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


@login_required
def figures_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = figure_units(user)
    unit = _pick(units, request.GET.get("unit"))
    errors: list[str] = []
    start, end, month = _period(request.GET, errors)
    zone = clock.local_zone()
    figures = selectors.hotline_figures(
        user=user,
        unit=unit,
        start=dt.datetime.combine(start, dt.time(), tzinfo=zone),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )
    f = figures
    rates = [
        ("answer_rate", _("接通率"), f.answer_rate, _("≥95%（GB/T 33358-2016）")),
        ("answered_within", _("15秒内接通率"), f.answered_within, ""),
        ("on_time_closure_rate", _("按时办结率"), f.on_time_closure_rate, ""),
        ("urge_rate", _("督办率"), f.urge_rate, ""),
        ("reopen_rate", _("重办率"), f.reopen_rate, ""),
        ("satisfaction_rate", _("满意率"), f.satisfaction_rate, _("满意与基本满意")),
    ]
    return render(
        request,
        "hotline/figures.html",
        {
            "tabs": _tabs(request, "figures"),
            "units": units,
            "unit": unit,
            "start": start,
            "end": end,
            "month": month,
            "f": f,
            "rates": rates,
            "is_centre": unit.kind == UnitKind.HOTLINE_CENTRE,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
