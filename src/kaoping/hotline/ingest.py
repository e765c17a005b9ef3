"""The one validation path for hotline records, whatever brought them (API, file, simulator), and the
replay of a ticket's events through the workflow. No database access: lookups are passed in.

Three record types (docs/data-formats.md):

* ``ticket``: a ticket as the call taker accepted it;
* ``event``: one workflow step of a ticket (dispatch, sign, … close), applied in time order;
* ``call``: one inbound call, for the GB/T 33358-2016 answer figures.

Every instant must carry its UTC offset; a value without one is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kaoping.hotline.workflow import (
    MAX_URGE_LEVEL,
    Action,
    Machine,
    Outcome,
    Satisfaction,
    State,
    TransitionError,
)

CATEGORIES = ("emergency", "consultation", "request", "suggestion", "complaint")
MAX_ID = 80
MAX_TEXT = 4000
EVENT_ACTIONS = tuple(a.value for a in Action if a is not Action.ACCEPT)
_EVENT_ACTION = {a.value: a for a in Action if a is not Action.ACCEPT}
_SATISFACTION = {s.value: s for s in Satisfaction}
DECIDED = (Action.RETURN_REVIEW, Action.EXTENSION_DECIDE)
REVISITS = (Action.UNIT_REVISIT, Action.CENTRE_REVISIT)
# Members as module globals for the per-event paths (validation and replay of an import): a look-up
# of an Enum's member on its class costs ~70 ns, a global's ~10 ns.
_DISPATCH, _REDISPATCH, _SIGN, _REPLY = Action.DISPATCH, Action.REDISPATCH, Action.SIGN, Action.REPLY
_URGE, _MERGE, _CENTRE_REVISIT = Action.URGE, Action.MERGE, Action.CENTRE_REVISIT
_EXTENSION_REQUEST, _EXTENSION_DECIDE = Action.EXTENSION_REQUEST, Action.EXTENSION_DECIDE
_RETURN_REVIEW = Action.RETURN_REVIEW
_NONE, _APPROVED, _REJECTED = Outcome.NONE, Outcome.APPROVED, Outcome.REJECTED
_CLOSED = State.CLOSED


_fromisoformat = dt.datetime.fromisoformat


class RecordError(ValueError):
    def __init__(self, field: str, why: str) -> None:
        self.field = field
        self.why = why
        super().__init__(f"{field}: {why}" if field else why)


@dataclass(frozen=True)
class Lookups:
    centres: Mapping[str, tuple[int, str]]  # hotline centre code → (id, path)
    units: Mapping[str, tuple[int, str]]  # handling unit code → (id, path)
    staff: Mapping[str, int]  # employee number → id


class TicketRecord(NamedTuple):
    source: str
    external_id: str
    centre_id: int
    category: str
    content: str
    received_at: dt.datetime
    caller_name: str
    caller_phone: str
    address: str
    call_taker_id: int | None


class EventRecord(NamedTuple):
    source: str
    external_id: str
    ticket_external_id: str
    action: Action
    outcome: Outcome
    at: dt.datetime
    unit_id: int | None
    unit_path: str
    actor_name: str
    note: str
    data: dict[str, Any]


class CallRecord(NamedTuple):
    source: str
    external_id: str
    centre_id: int
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    agent_id: int | None

    @property
    def abandoned(self) -> bool:
        return self.answered_at is None

    @property
    def wait_seconds(self) -> float:
        end = self.answered_at or self.ended_at
        return (end - self.started_at).total_seconds()


Record = TicketRecord | EventRecord | CallRecord


def _text(record: Mapping[str, Any], name: str, *, required: bool = True, limit: int = MAX_ID) -> str:
    value = record.get(name)
    if type(value) is str:  # the common case, checked first
        text = value.strip()
        if text and len(text) <= limit:
            return text
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(name, "is required")
        return ""
    if not isinstance(value, str | int):
        raise RecordError(name, f"must be text, not {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit:
        raise RecordError(name, f"is longer than {limit} characters")
    return text


def parse_instant(value: Any, name: str, *, required: bool = True) -> dt.datetime | None:
    if type(value) is str:  # the common case first: an ISO 8601 text with its offset
        try:
            instant = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if instant.tzinfo is not None:  # fromisoformat gives a fixed offset or none
                return instant
    if value is None or value == "":
        if required:
            raise RecordError(name, "is required")
        return None
    if isinstance(value, dt.datetime):
        instant = value
    else:
        if not isinstance(value, str):
            raise RecordError(name, f"must be an ISO 8601 instant, not {type(value).__name__}")
        try:
            instant = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(name, f"{value!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise RecordError(name, f"{instant.isoformat()} has no UTC offset (e.g. +08:00)")
    return instant


def _required_instant(record: Mapping[str, Any], name: str) -> dt.datetime:
    instant = parse_instant(record.get(name), name)
    assert instant is not None
    return instant


def validate(record: Mapping[str, Any], lookups: Lookups) -> Record:
    kind = record.get("type")
    if kind == "ticket":
        return _ticket(record, lookups)
    if kind == "event":
        return _event(record, lookups)
    if kind == "call":
        return _call(record, lookups)
    raise RecordError("type", f"{kind!r} is not 'ticket', 'event' or 'call'")


def _centre(record: Mapping[str, Any], lookups: Lookups) -> int:
    code = _text(record, "centre")
    found = lookups.centres.get(code)
    if found is None:
        raise RecordError("centre", f"unknown hotline centre {code!r}")
    return found[0]


def _staff(record: Mapping[str, Any], name: str, lookups: Lookups) -> int | None:
    code = _text(record, name, required=False)
    if not code:
        return None
    if code not in lookups.staff:
        raise RecordError(name, f"unknown employee number {code!r}")
    return lookups.staff[code]


def _ticket(record: Mapping[str, Any], lookups: Lookups) -> TicketRecord:
    get = record.get  # optional fields may be absent: no call for those
    category = _text(record, "category")
    if category not in CATEGORIES:
        raise RecordError("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    return TicketRecord(  # positional, as EventRecord
        _text(record, "source", limit=40),
        _text(record, "id"),
        _centre(record, lookups),
        category,
        _text(record, "content", limit=MAX_TEXT),
        _required_instant(record, "received_at"),
        "" if get("caller_name") is None else _text(record, "caller_name", required=False, limit=100),
        "" if get("caller_phone") is None else _text(record, "caller_phone", required=False, limit=30),
        "" if get("address") is None else _text(record, "address", required=False, limit=200),
        None if get("call_taker") is None else _staff(record, "call_taker", lookups),
    )


def _event(record: Mapping[str, Any], lookups: Lookups) -> EventRecord:
    get = record.get  # optional fields are mostly absent: no call for those
    given = get("action")
    action = _EVENT_ACTION.get(given) if type(given) is str else None  # a plain one needs no cleaning
    if action is None:  # trimmed, a number, or not an action at all: the general check says which
        raw = _text(record, "action", limit=30)
        action = _EVENT_ACTION.get(raw)
        if action is None:
            why = (
                "the ticket record is the acceptance"
                if raw == "accept"
                else f"is not one of {', '.join(EVENT_ACTIONS)}"
            )
            raise RecordError("action", f"{raw!r}: {why}")
    outcome = _NONE
    data: dict[str, Any] = {}
    unit_id: int | None = None
    unit_path = ""
    if action in (_DISPATCH, _REDISPATCH):
        code = _text(record, "unit")
        found = lookups.units.get(code)
        if found is None:
            raise RecordError("unit", f"unknown handling unit {code!r}")
        unit_id, unit_path = found
    if action in DECIDED:
        decision = _text(record, "outcome")
        if decision not in ("approved", "rejected"):
            raise RecordError("outcome", f"{decision!r} is not 'approved' or 'rejected'")
        outcome = _APPROVED if decision == "approved" else _REJECTED
    if action in REVISITS:
        raw_satisfaction = _text(record, "satisfaction")
        satisfaction = _SATISFACTION.get(raw_satisfaction)
        if satisfaction is None:
            allowed = ", ".join(s.value for s in Satisfaction)
            raise RecordError("satisfaction", f"{raw_satisfaction!r} is not one of {allowed}")
        data["satisfaction"] = satisfaction.value
        if action is _CENTRE_REVISIT:
            outcome = satisfaction.outcome
    if action is _URGE and record.get("level") not in (None, ""):
        level = _text(record, "level")
        if not level.isdigit() or not 1 <= int(level) <= MAX_URGE_LEVEL:
            raise RecordError("level", f"{level!r} is not a level from 1 to {MAX_URGE_LEVEL}")
        data["level"] = int(level)
    if action is _EXTENSION_REQUEST or (action is _EXTENSION_DECIDE and "until" in record):
        until = parse_instant(record.get("until"), "until", required=action is _EXTENSION_REQUEST)
        if until is not None:
            data["until"] = until.isoformat()
    if action is _MERGE:
        data["into"] = _text(record, "into")
    # The three ids, as _text would give them; inline, as these run for every event.
    source, external_id, ticket = get("source"), get("id"), get("ticket")
    source = source.strip() if type(source) is str else ""
    if not source or len(source) > 40:
        source = _text(record, "source", limit=40)
    external_id = external_id.strip() if type(external_id) is str else ""
    if not external_id or len(external_id) > 120:
        external_id = _text(record, "id", limit=120)
    ticket = ticket.strip() if type(ticket) is str else ""
    if not ticket or len(ticket) > MAX_ID:
        ticket = _text(record, "ticket")
    return EventRecord(  # positional: keywords cost twice as much per record
        source,
        external_id,
        ticket,
        action,
        outcome,
        _required_instant(record, "at"),
        unit_id,
        unit_path,
        "" if get("actor") is None else _text(record, "actor", required=False, limit=150),
        "" if get("note") is None else _text(record, "note", required=False, limit=MAX_TEXT),
        data,
    )


def _call(record: Mapping[str, Any], lookups: Lookups) -> CallRecord:
    started = _required_instant(record, "started_at")
    answered = parse_instant(record.get("answered_at"), "answered_at", required=False)
    ended = _required_instant(record, "ended_at")
    if ended < started:
        raise RecordError("ended_at", "lies before started_at")
    if answered is not None and not started <= answered <= ended:
        raise RecordError("answered_at", "must lie between started_at and ended_at")
    return CallRecord(
        source=_text(record, "source", limit=40),
        external_id=_text(record, "id"),
        centre_id=_centre(record, lookups),
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        agent_id=_staff(record, "agent", lookups),
    )


# -- replay -------------------------------------------------------------------------------------------


@dataclass
class Derived:
    """A ticket's fields that follow from its events (what the services also set, step by step)."""

    machine: Machine = field(default_factory=Machine)
    unit_id: int | None = None
    dispatched_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    replied_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    extended_due_at: dt.datetime | None = None
    provisional: bool = False
    closed_at: dt.datetime | None = None
    on_time: bool | None = None
    satisfaction: str = ""
    merged_into: str = ""  # the external id of the ticket it joined (same source)
    requested_until: dt.datetime | None = None
    # Per applied event (by id()): the unit holding the ticket when it happened (the dispatch's target
    # for a dispatch), and the states before and after, as the services record them.
    steps: dict[int, tuple[int | None, str, str]] = field(default_factory=dict)


# (category, unit id, start) → (due instant, provisional)
DueOf = Callable[[str, int, dt.datetime], tuple[dt.datetime, bool]]


def apply_event(
    derived: Derived, event: EventRecord, *, category: str, centre_path: str, due_of: DueOf
) -> None:
    """Apply one event in place; raises RecordError (leaving ``derived`` as it was) when the workflow
    or the event's own data refuses it."""
    try:
        machine = derived.machine.apply(event.action, event.outcome, level=event.data.get("level"))
    except TransitionError as exc:
        raise RecordError("action", str(exc)) from None
    action, at = event.action, event.at
    holder = derived.unit_id
    if action in (_DISPATCH, _REDISPATCH):
        assert event.unit_id is not None
        if not event.unit_path.startswith(centre_path):
            raise RecordError("unit", "is not a handling unit of the ticket's hotline centre")
        due, provisional = due_of(category, event.unit_id, at)
        derived.unit_id, derived.dispatched_at, derived.signed_at = event.unit_id, at, None
        derived.due_at, derived.provisional, derived.extended_due_at = due, provisional, None
    elif action is _EXTENSION_REQUEST:
        current = derived.extended_due_at or derived.due_at
        until = dt.datetime.fromisoformat(event.data["until"])
        if current is None or at > current:
            raise RecordError("at", "an extension is asked for before the deadline")
        if until <= current:
            raise RecordError("until", "must lie after the current deadline")
        derived.requested_until = until
    elif action is _EXTENSION_DECIDE and event.outcome is _APPROVED:
        chosen = dt.datetime.fromisoformat(event.data["until"]) if "until" in event.data else None
        derived.extended_due_at = chosen or derived.requested_until
    elif action is _SIGN:
        derived.signed_at = at
    elif action is _RETURN_REVIEW:
        if event.outcome is _APPROVED:
            derived.unit_id, derived.due_at, derived.extended_due_at, derived.provisional = (
                None,
                None,
                None,
                False,
            )
        elif derived.signed_at is None:
            derived.signed_at = at
    elif action is _REPLY:
        derived.replied_at = at
    elif action is _CENTRE_REVISIT:
        derived.satisfaction = event.data["satisfaction"]
    elif action is _MERGE:
        derived.merged_into = event.data["into"]
    before_state = derived.machine.state
    derived.steps[id(event)] = (
        event.unit_id if event.unit_id is not None else holder,
        before_state._value_,  # plain attributes: Enum.value is a Python-level property
        machine.state._value_,
    )
    if machine.state is _CLOSED and before_state is not _CLOSED:
        derived.closed_at = at
        deadline = derived.extended_due_at or derived.due_at
        derived.on_time = (
            None
            if derived.unit_id is None or deadline is None or derived.replied_at is None
            else derived.replied_at <= deadline
        )
    derived.machine = machine


def replay(
    events: Iterable[tuple[EventRecord, bool]],
    *,
    category: str,
    received_at: dt.datetime,
    centre_path: str,
    due_of: DueOf,
) -> tuple[Derived, list[tuple[EventRecord, str]]]:
    """Apply the events in time order (ties in the order given). ``True`` marks an event already
    stored: it must apply. A new event that does not fit where it falls is refused, with the reason,
    and the replay goes on without it."""
    derived = Derived()
    refused: list[tuple[EventRecord, str]] = []
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1][0].at, pair[0]))
    for _index, (event, stored) in ordered:
        if event.at < received_at and not stored:
            refused.append((event, "at: lies before the ticket was received"))
            continue
        try:
            apply_event(derived, event, category=category, centre_path=centre_path, due_of=due_of)
        except RecordError as exc:
            if stored:
                raise
            refused.append((event, str(exc)))
    return derived, refused
