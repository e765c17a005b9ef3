"""The derived fields of many common cases at once: those with no pause and no extension, which are
nearly all of them. The same answers as ``deadlines.evaluate`` then ``derived.derived_values`` give
one case at a time (a property test holds them equal), with the calendar's arithmetic done on arrays
(``WorkCalendar``'s bulk forms) and instants kept as epoch seconds. Pure: no Django.

A file import's readers evaluate a million cases; one by one that cost about as much as reading and
validating their five million records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kaoping.cases.deadlines import BREAKER_SHARE, DUE_SOON_SHARE, TIMED_NODES, EventKind, NodeStatus
from kaoping.cases.derived import CLOSED, OPEN
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit, LimitUnit

# Event kinds that make a case uncommon: the one-at-a-time engine evaluates it.
UNCOMMON = frozenset({EventKind.PAUSE_STARTED, EventKind.PAUSE_ENDED, EventKind.EXTENSION_GRANTED})
_SECONDS = {LimitUnit.WORKING_MINUTES: 60, LimitUnit.WORKING_HOURS: 3600}
_CODES = tuple(code for code, _, _ in TIMED_NODES)
_PENDING = NodeStatus.PENDING.value
_ON_TIME = NodeStatus.ON_TIME.value
_DUE_SOON = NodeStatus.DUE_SOON.value
_OVERDUE = NodeStatus.OVERDUE.value
_DONE_ON_TIME = NodeStatus.DONE_ON_TIME.value
_DONE_LATE = NodeStatus.DONE_LATE.value


@dataclass(frozen=True)
class CommonCase:
    """A case as the bulk evaluation needs it: instants as epoch seconds (whole seconds)."""

    received: int
    first: dict[EventKind, int]  # the earliest instant of each kind of event it has
    handling: Limit
    trips: int
    resubmissions: int
    one_time_notice: bool


class _Node:
    """One started timed node of one case, on its way through the arithmetic."""

    __slots__ = ("after", "allowed", "case", "due", "end", "index", "limit", "provisional", "start", "used")

    def __init__(self, case: int, index: int, limit: Limit, start: int, end: int | None) -> None:
        self.case, self.index, self.limit, self.start, self.end = case, index, limit, start, end
        self.due = self.allowed = self.used = 0
        self.provisional = False
        self.after: list[int] = []  # a running node's due-soon and breaker instants


def derive_common(
    cases: Sequence[CommonCase], *, base_limits: dict[str, Limit], calendar: WorkCalendar, now: float
) -> list[tuple[object, ...]]:
    """``derived.FIELD_NAMES``' values for each case (no warning raised yet), instants as epoch
    seconds; ``now`` is the epoch of the moment they are judged at."""
    nodes: list[_Node] = []
    for number, case in enumerate(cases):
        first = case.first
        for index, (code, start_kind, end_kind) in enumerate(TIMED_NODES):
            start = first.get(start_kind)
            if index == 1 and start is None and EventKind.ACCEPTED in first:
                start = case.received  # online cases: the clock runs from submission
            if start is not None:
                limit = case.handling if index == 2 else base_limits[code]
                nodes.append(_Node(number, index, limit, start, first.get(end_kind)))
    _measure(nodes, calendar, now)
    by_case: list[list[_Node | None]] = [[None, None, None, None] for _ in cases]
    for node in nodes:
        by_case[node.case][node.index] = node
    return [_values(case, row, now) for case, row in zip(cases, by_case, strict=True)]


def _measure(nodes: list[_Node], calendar: WorkCalendar, now: float) -> None:
    """Each node's due instant, allowed and used time; a running node's alert instants."""
    worked = [n for n in nodes if n.limit.unit is not LimitUnit.NATURAL_HOURS]
    for node in nodes:
        if node.limit.unit is LimitUnit.NATURAL_HOURS:
            node.due = node.start + node.limit.amount * 3600
    days = [n for n in worked if n.limit.unit is LimitUnit.WORKING_DAYS]
    if days:
        due, provisional = calendar.due_after_working_days_bulk(
            np.array([n.start for n in days]), np.array([n.limit.amount for n in days])
        )
        for node, at, flag in zip(days, due.tolist(), provisional.tolist(), strict=True):
            node.due, node.provisional = at, flag
    timed = [n for n in worked if n.limit.unit is not LimitUnit.WORKING_DAYS]
    if timed:
        due, provisional = calendar.due_after_working_seconds_bulk(
            np.array([n.start for n in timed]),
            np.array([n.limit.amount * _SECONDS[n.limit.unit] for n in timed]),
        )
        for node, at, flag in zip(timed, due.tolist(), provisional.tolist(), strict=True):
            node.due, node.provisional = at, flag
    # Positions on each node's clock: office seconds since its start (real seconds when natural),
    # instants truncated to whole seconds as the engine's are (``now`` may have a fraction).
    whole_now = int(now)
    if worked:
        ordinals = calendar.working_ordinal_bulk(
            np.array(
                [n.start for n in worked]
                + [n.due for n in worked]
                + [whole_now if n.end is None else n.end for n in worked]
            )
        ).tolist()
        count = len(worked)
        for k, node in enumerate(worked):
            origin = ordinals[k]
            node.allowed = max(ordinals[count + k] - origin, 1)
            node.used = max(ordinals[2 * count + k] - origin, 0)
    for node in nodes:
        if node.limit.unit is LimitUnit.NATURAL_HOURS:
            node.allowed = max(node.due - node.start, 1)
            node.used = max((whole_now if node.end is None else node.end) - node.start, 0)
    # A running node's alert instants: when its used share reaches due-soon and passes the breaker
    # (at its start when that is no time at all).
    pending: list[tuple[_Node, int, int]] = []  # (node, which instant, office seconds from its start)
    for node in nodes:
        if node.end is not None:
            continue
        node.after = [node.start, node.start]
        for which, seconds in enumerate(
            (round(node.allowed * DUE_SOON_SHARE), round(node.allowed * BREAKER_SHARE) + 1)
        ):
            if node.limit.unit is LimitUnit.NATURAL_HOURS:
                node.after[which] = node.start + seconds
            elif seconds > 0:
                pending.append((node, which, seconds))
    if pending:
        due, _ = calendar.due_after_working_seconds_bulk(
            np.array([n.start for n, _, _ in pending]), np.array([s for _, _, s in pending])
        )
        for (node, which, _), at in zip(pending, due.tolist(), strict=True):
            node.after[which] = at


def _values(case: CommonCase, nodes: list[_Node | None], now: float) -> tuple[object, ...]:
    statuses: list[str] = []
    late: list[bool | None] = []
    provisional = overdue = breaker = False
    current: _Node | None = None
    current_status = ""
    for node in nodes:
        if node is None:
            statuses.append(_PENDING)
            late.append(None)
            continue
        share = node.used / node.allowed
        if round(share, 4) > BREAKER_SHARE:
            breaker = True
        provisional = provisional or node.provisional
        if node.end is not None:
            status = _DONE_ON_TIME if node.end <= node.due else _DONE_LATE
            late.append(status == _DONE_LATE)
        else:
            status = _OVERDUE if now > node.due else _DUE_SOON if share >= DUE_SOON_SHARE else _ON_TIME
            late.append(None)
            current, current_status = node, status
        if status in (_OVERDUE, _DONE_LATE):
            overdue = True
        statuses.append(status)
    _, acceptance, handling, _ = nodes
    first = case.first
    # A node's end counts even when it never started (a handled case with no acceptance recorded).
    closed = EventKind.HANDLED in first
    if current is not None:
        deadline_status = current_status
    elif closed:
        deadline_status = statuses[2]
    else:
        deadline_status = _PENDING
    wait = None
    if EventKind.ARRIVED in first and acceptance is not None and acceptance.end is not None:
        wait = round(acceptance.used / 60, 2)
    due_soon = breaker_at = next_alert = None
    if current is not None:
        due_soon, breaker_at = current.after
        next_alert = min(due_soon, current.due, breaker_at)
    return (
        CLOSED if closed else OPEN,
        first.get(EventKind.ACCEPTED),
        first.get(EventKind.HANDLED),
        first.get(EventKind.DELIVERED),
        handling.due if handling is not None else None,
        deadline_status,
        _CODES[current.index] if current is not None else "",
        current.due if current is not None else None,
        provisional,
        overdue,
        breaker,
        case.trips,
        case.resubmissions,
        case.one_time_notice,
        late[0],
        late[1],
        late[2],
        late[3],
        wait,
        due_soon,
        breaker_at,
        next_alert,
    )
