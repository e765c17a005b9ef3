"""A case's timeline from its events: each timed node's due instant in working time, the pauses that
stop its clock, approved extensions, its status and the overtime breaker (R0.4). Pure: no Django.

The events may come in any order; ``evaluate`` sorts them, so recomputing after a late or
out-of-order event is just evaluating again (duplicates are dropped before, by their ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit, LimitUnit

DUE_SOON_SHARE = 0.8  # share of the limit used when a node counts as due soon
BREAKER_SHARE = 1.3  # R0.4: a step more than 30% over its limit trips the breaker


class EventKind(StrEnum):
    APPOINTMENT_MADE = "appointment_made"
    APPOINTMENT_RESPONDED = "appointment_responded"
    ARRIVED = "arrived"
    ACCEPTED = "accepted"
    HANDLED = "handled"
    DELIVERED = "delivered"
    PAUSE_STARTED = "pause_started"
    PAUSE_ENDED = "pause_ended"
    EXTENSION_GRANTED = "extension_granted"
    TRIP = "trip"
    RESUBMISSION = "resubmission"
    ONE_TIME_NOTICE = "one_time_notice"
    NODE_STARTED = "node_started"
    NODE_FINISHED = "node_finished"


class PauseKind(StrEnum):
    SUPPLEMENT = "supplement"  # 补正: waiting for the applicant's documents
    EXPERT_REVIEW = "expert_review"
    HEARING = "hearing"


class NodeStatus(StrEnum):
    PENDING = "pending"  # not started
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"


# The four timed nodes of R0.4: (code, event that starts it, event that ends it).
TIMED_NODES: tuple[tuple[str, EventKind, EventKind], ...] = (
    ("appointment_response", EventKind.APPOINTMENT_MADE, EventKind.APPOINTMENT_RESPONDED),
    ("acceptance", EventKind.ARRIVED, EventKind.ACCEPTED),
    ("handling", EventKind.ACCEPTED, EventKind.HANDLED),
    ("result_delivery", EventKind.HANDLED, EventKind.DELIVERED),
)
PAUSABLE_NODE = "handling"


@dataclass(frozen=True, order=True)
class Event:
    at: dt.datetime
    kind: EventKind
    node: str = ""
    pause_kind: str = ""
    reason: str = ""
    approver: str = ""
    limit: str = ""


@dataclass(frozen=True)
class Pause:
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class Extension:
    node: str
    at: dt.datetime
    reason: str
    approver: str
    limit: Limit


@dataclass(frozen=True)
class NodeResult:
    code: str
    limit: Limit
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    due_at: dt.datetime | None
    provisional: bool
    status: NodeStatus
    used_share: float  # working time used / allowed (after pauses), at the end or now
    paused_seconds: int
    due_soon_at: dt.datetime | None  # when the node becomes due soon (None once ended or paused)
    breaker_at: dt.datetime | None  # when its overrun passes the breaker share
    extended: bool
    # Time used on the node's clock (working seconds, or real ones for natural-hour limits), pauses
    # excluded: at the end, or until now while it runs.
    used_seconds: int = 0

    @property
    def breaker(self) -> bool:
        return self.used_share > BREAKER_SHARE


@dataclass(frozen=True)
class CustomNode:
    """A matter's own node (R0.7: up to 42 per matter), timed when the matter gives it a limit."""

    code: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    timed: NodeResult | None


@dataclass
class Timeline:
    nodes: list[NodeResult]
    pauses: list[Pause] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    trips: int = 1
    resubmissions: int = 0
    one_time_notice: bool = False
    custom_nodes: list[CustomNode] = field(default_factory=list)
    arrived_at: dt.datetime | None = None  # the applicant came to the counter (not online)

    def node(self, code: str) -> NodeResult:
        return next(n for n in self.nodes if n.code == code)

    @property
    def current(self) -> NodeResult | None:
        """The running node whose deadline matters now (the latest one started and not ended)."""
        running = [n for n in self.nodes if n.started_at is not None and n.ended_at is None]
        return running[-1] if running else None

    @property
    def closed(self) -> bool:
        return self.node("handling").ended_at is not None

    @property
    def overdue(self) -> bool:
        return any(n.status in (NodeStatus.OVERDUE, NodeStatus.DONE_LATE) for n in self.nodes)


def pair_pauses(events: Sequence[Event]) -> list[Pause]:
    """Pair each pause start with the next pause end (sorted events)."""
    pauses: list[Pause] = []
    open_start: Event | None = None
    for event in events:
        if event.kind is EventKind.PAUSE_STARTED and open_start is None:
            open_start = event
        elif event.kind is EventKind.PAUSE_ENDED and open_start is not None:
            pauses.append(Pause(open_start.pause_kind, open_start.at, event.at))
            open_start = None
    if open_start is not None:
        pauses.append(Pause(open_start.pause_kind, open_start.at, None))
    return pauses


def evaluate(
    raw_events: Iterable[Event],
    *,
    limits: dict[str, Limit],
    calendar: WorkCalendar,
    now: dt.datetime,
    received_at: dt.datetime,
    due_soon_share: float = DUE_SOON_SHARE,
    custom_limits: dict[str, Limit] | None = None,
) -> Timeline:
    """The timeline of one case as of ``now``. ``limits`` gives each of the four timed nodes' limit,
    ``custom_limits`` those of the matter's own nodes that have one."""
    events = sorted(raw_events)
    # The first instant of each kind, in one pass: most cases have a handful of kinds, and the
    # rarer ones (pauses, extensions, trips, matter nodes) are looked at only when present.
    first: dict[EventKind, dt.datetime] = {}
    for event in events:
        if event.kind not in first:
            first[event.kind] = event.at
    pauses = pair_pauses(events) if EventKind.PAUSE_STARTED in first else []
    extensions = (
        [
            Extension(e.node or PAUSABLE_NODE, e.at, e.reason, e.approver, Limit.parse(e.limit))
            for e in events
            if e.kind is EventKind.EXTENSION_GRANTED
        ]
        if EventKind.EXTENSION_GRANTED in first
        else []
    )
    nodes = []
    for code, start_kind, end_kind in TIMED_NODES:
        start = first.get(start_kind)
        if code == "acceptance" and start is None and EventKind.ACCEPTED in first:
            start = received_at  # online cases: the clock runs from submission
        limit = limits[code]
        granted = [x for x in extensions if x.node == code]
        if granted:
            limit = granted[-1].limit
        node_pauses = pauses if code == PAUSABLE_NODE else []
        nodes.append(
            _node(
                code,
                limit,
                start,
                first.get(end_kind),
                node_pauses,
                calendar,
                now,
                due_soon_share,
                extended=bool(granted),
            )
        )
    custom: dict[str, list[dt.datetime | None]] = {}
    if EventKind.NODE_STARTED in first or EventKind.NODE_FINISHED in first:
        for event in events:
            if event.kind in (EventKind.NODE_STARTED, EventKind.NODE_FINISHED) and event.node:
                slot = custom.setdefault(event.node, [None, None])
                index = 0 if event.kind is EventKind.NODE_STARTED else 1
                slot[index] = slot[index] or event.at
    return Timeline(
        nodes=nodes,
        pauses=pauses,
        extensions=extensions,
        trips=1 + (sum(1 for e in events if e.kind is EventKind.TRIP) if EventKind.TRIP in first else 0),
        resubmissions=(
            sum(1 for e in events if e.kind is EventKind.RESUBMISSION)
            if EventKind.RESUBMISSION in first
            else 0
        ),
        one_time_notice=EventKind.ONE_TIME_NOTICE in first,
        arrived_at=first.get(EventKind.ARRIVED),
        custom_nodes=[
            CustomNode(
                code,
                start,
                end,
                _node(
                    code,
                    (custom_limits or {})[code],
                    start,
                    end,
                    [],
                    calendar,
                    now,
                    due_soon_share,
                    extended=False,
                )
                if start is not None and code in (custom_limits or {})
                else None,
            )
            for code, (start, end) in custom.items()
        ],
    )


def _node(
    code: str,
    limit: Limit,
    start: dt.datetime | None,
    end: dt.datetime | None,
    pauses: list[Pause],
    calendar: WorkCalendar,
    now: dt.datetime,
    due_soon_share: float,
    *,
    extended: bool,
) -> NodeResult:
    if start is None:
        return NodeResult(
            code, limit, None, end, None, False, NodeStatus.PENDING, 0.0, 0, None, None, extended
        )
    natural = limit.unit is LimitUnit.NATURAL_HOURS
    stop = end or now

    # Seconds on the node's clock axis from its start: real seconds for natural limits, office
    # seconds else (the start's own ordinal computed once: a node measures several spans from it).
    origin = int(start.timestamp()) if natural else calendar.working_ordinal(start)

    def position(instant: dt.datetime) -> int:
        if natural:
            return int(instant.timestamp()) - origin
        return calendar.working_ordinal(instant) - origin

    # Without pauses the due instant comes straight from the limit; each pause that begins before
    # the (moving) due instant pushes it back by the working time it lasted.
    base = limit.due(calendar, start)
    due, provisional = base.at, base.provisional
    paused = 0
    open_pause = False
    for pause in sorted(pauses, key=lambda p: p.started_at):
        pause_start = max(pause.started_at, start)
        if pause_start >= min(due, stop):
            continue
        pause_end = pause.ended_at or now
        if end is not None and pause_end > end:
            pause_end = end
        if pause.ended_at is None and end is None:
            open_pause = True
        length = max(position(pause_end) - position(pause_start), 0)
        if length:
            paused += length
            shifted = _shift(calendar, due, length, limit, natural)
            due, provisional = shifted.at, provisional or shifted.provisional
    allowed = max(position(due) - paused, 1)
    used = max(position(stop) - paused, 0)
    share = used / allowed
    if end is not None:
        status = NodeStatus.DONE_ON_TIME if end <= due else NodeStatus.DONE_LATE
        due_soon_at = breaker_at = None
    elif open_pause:
        status = NodeStatus.PAUSED
        due_soon_at = breaker_at = None
    else:
        status = (
            NodeStatus.OVERDUE
            if now > due
            else NodeStatus.DUE_SOON
            if share >= due_soon_share
            else NodeStatus.ON_TIME
        )
        due_soon_at = _after(calendar, start, round(allowed * due_soon_share) + paused, natural)
        breaker_at = _after(calendar, start, round(allowed * BREAKER_SHARE) + paused + 1, natural)
    return NodeResult(
        code,
        limit,
        start,
        end,
        due,
        provisional,
        status,
        round(share, 4),
        paused,
        due_soon_at,
        breaker_at,
        extended,
        used,
    )


def finished_late(node: NodeResult) -> bool | None:
    """Whether a node finished after its due instant: None while it runs, or when it never ran (no
    appointment, say), so on-time rates count finished nodes only."""
    if node.status is NodeStatus.DONE_LATE:
        return True
    if node.status is NodeStatus.DONE_ON_TIME:
        return False
    return None


def counter_wait_seconds(timeline: Timeline) -> int | None:
    """The applicant's wait at the counter: working seconds from arrival to acceptance (the acceptance
    node's used time). None for a case with no arrival (online: its acceptance examines a submission,
    nobody queues) or not yet accepted."""
    node = timeline.node("acceptance")
    if timeline.arrived_at is None or node.started_at is None or node.ended_at is None:
        return None
    return node.used_seconds


def _shift(calendar: WorkCalendar, due: dt.datetime, seconds: int, limit: Limit, natural: bool) -> _Due:
    if natural:
        return _Due(due + dt.timedelta(seconds=seconds), False)
    shifted = calendar.due_after_working_seconds(due, seconds)
    if limit.unit is LimitUnit.WORKING_DAYS:
        # A limit in working days ends at the close of office: so does its extension by a pause.
        close = dt.datetime.combine(shifted.at.date(), calendar.office_hours.close, tzinfo=shifted.at.tzinfo)
        return _Due(close, shifted.provisional)
    return _Due(shifted.at, shifted.provisional)


def _after(calendar: WorkCalendar, start: dt.datetime, seconds: int, natural: bool) -> dt.datetime:
    if natural:
        return start + dt.timedelta(seconds=seconds)
    if seconds <= 0:
        return start
    return calendar.due_after_working_seconds(start, seconds).at


@dataclass(frozen=True)
class _Due:
    at: dt.datetime
    provisional: bool
