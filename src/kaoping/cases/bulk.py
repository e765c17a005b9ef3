"""The derived fields of many cases at once: those whose instants are whole seconds, which are nearly
all of them. The same answers as ``deadlines.evaluate`` then ``derived.derived_values`` give one case
at a time (a property test holds them equal, pauses and extensions included), computed on columns:
one array per field over all the cases, the calendar's arithmetic in ``WorkCalendar``'s bulk forms,
instants as epoch seconds. Pure: no Django.

A file import's readers evaluate a million cases. One by one that cost about as much as reading and
validating their five million records; case by case in Python objects, still two fifths of a
reader's time. ``derive_columns`` takes the cases as columns (``Columns``); ``stored_rows`` turns
its answer into ``derived.stored_row``'s rows; ``derive_common`` is the case-by-case form of both
inputs and answers, for tests and small callers. Matters' own nodes do not count: no derived field
reads them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from kaoping.cases.deadlines import (
    BREAKER_SHARE,
    DUE_SOON_SHARE,
    PAUSABLE_NODE,
    TIMED_NODES,
    EventKind,
    NodeStatus,
)
from kaoping.cases.derived import CLOSED, OPEN
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit, LimitUnit

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Event kinds read one by one (a case's pauses are paired, its extensions ordered) before its columns.
UNCOMMON = frozenset({EventKind.PAUSE_STARTED, EventKind.PAUSE_ENDED, EventKind.EXTENSION_GRANTED})
# The kinds the bulk evaluation reads: the timed nodes' ends (their earliest instant) and the counted
# ones. ``KIND_COLUMN`` gives each its column in ``Columns.first`` and ``Columns.counts``.
KINDS = (
    EventKind.APPOINTMENT_MADE,
    EventKind.APPOINTMENT_RESPONDED,
    EventKind.ARRIVED,
    EventKind.ACCEPTED,
    EventKind.HANDLED,
    EventKind.DELIVERED,
    EventKind.TRIP,
    EventKind.RESUBMISSION,
    EventKind.ONE_TIME_NOTICE,
)
KIND_COLUMN = {kind: column for column, kind in enumerate(KINDS)}
NONE = np.iinfo(np.int64).min  # "no instant" in an instant column
_LATEST = np.iinfo(np.int64).max

# Limit units as codes in a column; natural hours are counted on the clock, the rest in office time.
UNIT_CODE = {
    LimitUnit.NATURAL_HOURS: 0,
    LimitUnit.WORKING_DAYS: 1,
    LimitUnit.WORKING_MINUTES: 2,
    LimitUnit.WORKING_HOURS: 3,
}
_NATURAL, _DAYS = 0, 1
_UNIT_SECONDS = np.array([3600, 0, 60, 3600], dtype=np.int64)

_CODES = tuple(code for code, _, _ in TIMED_NODES)
_STATUS = (
    NodeStatus.PENDING.value,
    NodeStatus.ON_TIME.value,
    NodeStatus.DUE_SOON.value,
    NodeStatus.OVERDUE.value,
    NodeStatus.DONE_ON_TIME.value,
    NodeStatus.DONE_LATE.value,
    NodeStatus.PAUSED.value,
)
_PENDING, _ON_TIME, _DUE_SOON, _OVERDUE, _DONE_ON_TIME, _DONE_LATE, _PAUSED = range(7)
_STATUS_TEXT = np.array(_STATUS, dtype=object)
_NODE_TEXT = np.array(("", *_CODES), dtype=object)  # by current node index + 1
# The engine's test, ``round(share, 4) > BREAKER_SHARE``, is ``share > 1.30005`` but for the shares
# within a hair of it, which its own expression decides.
_BREAKER_EDGE = BREAKER_SHARE + 0.00005


class Pauses(NamedTuple):
    """The handling node's pauses of some cases, flat, in the order the engine takes them (by case,
    then by start): a pause start paired with the next pause end, if any."""

    case: IntArray  # the case's row
    start: IntArray  # epoch seconds
    end: IntArray  # NONE while it lasts


NO_PAUSES = Pauses(*(np.zeros(0, dtype=np.int64) for _ in range(3)))


def pauses_of(rows: Sequence[tuple[int, int, int]]) -> Pauses:
    """``Pauses`` from (case row, start, end or NONE) in the engine's order."""
    if not rows:
        return NO_PAUSES
    case, start, end = np.array(rows, dtype=np.int64).T
    return Pauses(case, start, end)


class Columns(NamedTuple):
    """Cases as columns, one row per case."""

    received: IntArray  # epoch seconds
    first: IntArray  # (cases, len(KINDS)): the earliest instant of each kind, NONE where none
    counts: IntArray  # (cases, len(KINDS)): how many events of each kind
    amounts: IntArray  # (cases, timed nodes): each node's limit, as extended
    units: IntArray  # (cases, timed nodes): its ``UNIT_CODE``
    pauses: Pauses = NO_PAUSES


class Derived(NamedTuple):
    """``derived.FIELD_NAMES``' values as columns: instants as epoch seconds (NONE where none),
    the late flags as lists of True, False or None."""

    closed: BoolArray
    accepted_at: IntArray
    handled_at: IntArray
    delivered_at: IntArray
    handling_due_at: IntArray
    deadline_status: IntArray  # index into the node statuses
    current_node: IntArray  # index into TIMED_NODES, -1 when none runs
    current_due_at: IntArray
    provisional: BoolArray
    overdue: BoolArray
    breaker: BoolArray
    trips: IntArray
    resubmissions: IntArray
    one_time_notice: BoolArray
    late: list[list[bool | None]]  # per timed node
    wait_minutes: list[float | None]
    due_soon_at: IntArray
    breaker_at: IntArray
    next_alert_at: IntArray


def columns_from(
    cases: int,
    positions: Sequence[int],
    instants: IntArray,
    received: IntArray,
    limits: Any,
    pauses: Pauses = NO_PAUSES,
) -> Columns:
    """``Columns`` from events given flat: each event's ``case index * len(KINDS) + its kind's
    column`` and its instant (epoch seconds); ``limits`` each case's (amount, unit code) of each
    timed node in turn, flat."""
    size = cases * len(KINDS)
    at = np.asarray(positions, dtype=np.int64)
    first = np.full(size, _LATEST, dtype=np.int64)
    np.minimum.at(first, at, instants)
    first[first == _LATEST] = NONE
    counts = np.bincount(at, minlength=size).astype(np.int64)
    pairs = np.asarray(limits, dtype=np.int64).reshape(cases, len(TIMED_NODES), 2)
    return Columns(
        np.asarray(received, dtype=np.int64),
        first.reshape(cases, len(KINDS)),
        counts.reshape(cases, len(KINDS)),
        np.ascontiguousarray(pairs[:, :, 0]),
        np.ascontiguousarray(pairs[:, :, 1]),
        pauses,
    )


class _Node(NamedTuple):
    """One timed node over all the cases (values where it did not start are meaningless)."""

    started: BoolArray
    running: BoolArray
    status: IntArray
    due: IntArray
    provisional: BoolArray
    used: IntArray
    breaker: BoolArray
    late: list[bool | None]
    due_soon_at: IntArray
    breaker_at: IntArray


def derive_columns(cases: Columns, *, calendar: WorkCalendar, now: float) -> Derived:
    """The derived fields of each case (no warning raised yet); ``now`` is the epoch of the moment
    they are judged at."""
    count = len(cases.received)
    first = cases.first
    column = KIND_COLUMN

    def kind(event: EventKind) -> IntArray:
        return first[:, column[event]]

    nodes: list[_Node] = []
    for index, (code, start_kind, end_kind) in enumerate(TIMED_NODES):
        start = kind(start_kind).copy()
        if index == 1:  # online cases: the clock runs from submission
            online = (start == NONE) & (kind(EventKind.ACCEPTED) != NONE)
            start[online] = cases.received[online]
        pauses = cases.pauses if code == PAUSABLE_NODE else NO_PAUSES
        amount, unit = cases.amounts[:, index], cases.units[:, index]
        nodes.append(_node(calendar, start, kind(end_kind), amount, unit, now, pauses))

    status = np.stack([node.status for node in nodes])
    current = np.full(count, -1, dtype=np.int64)
    for index, node in enumerate(nodes):
        current[node.running] = index  # the last running node is the current one
    has_current = current >= 0
    picked = np.where(has_current, current, 0)
    rows = np.arange(count)

    def of_current(values: IntArray) -> IntArray:
        return np.where(has_current, values[picked, rows], NONE)

    closed = kind(EventKind.HANDLED) != NONE
    deadline_status = np.where(has_current, status[picked, rows], np.where(closed, nodes[2].status, _PENDING))
    current_due = of_current(np.stack([node.due for node in nodes]))
    due_soon = of_current(np.stack([node.due_soon_at for node in nodes]))
    breaker_at = of_current(np.stack([node.breaker_at for node in nodes]))
    # A paused node's only alert to come is its due instant (its others are NONE, the least value).
    next_alert = np.where(
        due_soon == NONE, current_due, np.minimum(np.minimum(due_soon, current_due), breaker_at)
    )
    acceptance = nodes[1]
    waited = (kind(EventKind.ARRIVED) != NONE) & acceptance.started & ~acceptance.running
    counts = cases.counts
    return Derived(
        closed=closed,
        accepted_at=kind(EventKind.ACCEPTED),
        handled_at=kind(EventKind.HANDLED),
        delivered_at=kind(EventKind.DELIVERED),
        handling_due_at=np.where(nodes[2].started, nodes[2].due, NONE),
        deadline_status=deadline_status,
        current_node=current,
        current_due_at=current_due,
        provisional=np.any([node.provisional & node.started for node in nodes], axis=0),
        overdue=np.any((status == _OVERDUE) | (status == _DONE_LATE), axis=0),
        breaker=np.any([node.breaker & node.started for node in nodes], axis=0),
        trips=1 + counts[:, column[EventKind.TRIP]],
        resubmissions=counts[:, column[EventKind.RESUBMISSION]],
        one_time_notice=counts[:, column[EventKind.ONE_TIME_NOTICE]] > 0,
        late=[node.late for node in nodes],
        wait_minutes=[
            round(used / 60, 2) if ok else None
            for used, ok in zip(acceptance.used.tolist(), waited.tolist(), strict=True)
        ],
        due_soon_at=due_soon,
        breaker_at=breaker_at,
        next_alert_at=next_alert,
    )


def _node(
    calendar: WorkCalendar,
    start: IntArray,
    end: IntArray,
    amount: IntArray,
    unit: IntArray,
    now: float,
    pauses: Pauses,
) -> _Node:
    """One timed node of every case: its due instant (pushed back by its pauses), allowed and used
    time, status, and when it runs, its due-soon and breaker instants (when its used share reaches
    due-soon and passes the breaker; at its start when that is no time at all)."""
    count = len(start)
    started = start != NONE
    begin = np.where(started, start, 0)
    due = np.zeros(count, dtype=np.int64)
    provisional = np.zeros(count, dtype=np.bool_)
    natural = started & (unit == _NATURAL)
    worked = started & ~natural
    due[natural] = begin[natural] + amount[natural] * 3600
    days = worked & (unit == _DAYS)
    if days.any():
        due[days], provisional[days] = calendar.due_after_working_days_bulk(begin[days], amount[days])
    timed = worked & ~days
    if timed.any():
        due[timed], provisional[timed] = calendar.due_after_working_seconds_bulk(
            begin[timed], amount[timed] * _UNIT_SECONDS[unit[timed]]
        )
    ended = started & (end != NONE)
    running = started & ~ended
    paused = np.zeros(count, dtype=np.int64)
    held = np.zeros(count, dtype=np.bool_)  # an open pause holds the running node
    if len(pauses.case):
        _pause(
            calendar, pauses, begin, end, ended, started, natural, days, now, due, provisional, paused, held
        )
    # Positions on the node's clock, instants truncated to whole seconds as the engine's are.
    stop = np.where(ended, end, int(now))
    allowed = np.maximum(due - begin - paused, 1)
    used = np.maximum(stop - begin - paused, 0)
    if worked.any():
        share = int(worked.sum())
        ordinals = calendar.working_ordinal_bulk(np.concatenate([begin[worked], due[worked], stop[worked]]))
        origin = ordinals[:share]
        allowed[worked] = np.maximum(ordinals[share : 2 * share] - origin - paused[worked], 1)
        used[worked] = np.maximum(ordinals[2 * share :] - origin - paused[worked], 0)
    moving = running & ~held
    alerts = []
    for fraction, extra in ((DUE_SOON_SHARE, 0), (BREAKER_SHARE, 1)):
        # round() halves to even, as rint does
        seconds = np.rint(allowed * fraction).astype(np.int64) + extra + paused
        at = np.where(moving, begin, NONE)
        at[moving & natural] += seconds[moving & natural]
        office = moving & worked & (seconds > 0)
        if office.any():
            at[office] = calendar.due_after_working_seconds_bulk(begin[office], seconds[office])[0]
        alerts.append(at)
    share_used: FloatArray = used / allowed
    breaker = share_used > _BREAKER_EDGE
    for edge in np.flatnonzero(np.abs(share_used - _BREAKER_EDGE) < 1e-9).tolist():
        breaker[edge] = round(float(share_used[edge]), 4) > BREAKER_SHARE
    status = np.full(count, _PENDING, dtype=np.int64)
    status[ended] = np.where(end[ended] <= due[ended], _DONE_ON_TIME, _DONE_LATE)
    status[moving] = np.where(
        now > due[moving],
        _OVERDUE,
        np.where(share_used[moving] >= DUE_SOON_SHARE, _DUE_SOON, _ON_TIME),
    )
    status[running & held] = _PAUSED
    late = [
        None if not done else is_late
        for done, is_late in zip(ended.tolist(), (end > due).tolist(), strict=True)
    ]
    return _Node(started, running, status, due, provisional, used, breaker, late, alerts[0], alerts[1])


def _pause(
    calendar: WorkCalendar,
    pauses: Pauses,
    begin: IntArray,
    end: IntArray,
    ended: BoolArray,
    started: BoolArray,
    natural: BoolArray,
    days: BoolArray,
    now: float,
    due: IntArray,
    provisional: BoolArray,
    paused: IntArray,
    held: BoolArray,
) -> None:
    """The engine's pauses, each case's in turn (the k-th of every case at once): a pause that
    begins before the (moving) due instant and the node's stop pushes the due instant back by the
    working time it lasted (to the office's close, for a limit in working days). Updates ``due``,
    ``provisional``, ``paused`` (the time paused) and ``held`` (an open pause) in place."""
    rank = np.arange(len(pauses.case)) - np.searchsorted(pauses.case, pauses.case, side="left")
    whole_now = int(now)
    for turn in range(int(rank.max()) + 1):
        which = np.flatnonzero(rank == turn)
        case = pauses.case[which]
        keep = started[case]
        which, case = which[keep], case[keep]
        pause_start = np.maximum(pauses.start[which], begin[case])
        stop = np.where(ended[case], end[case], now)
        keep = pause_start < np.minimum(due[case], stop)
        which, case, pause_start = which[keep], case[keep], pause_start[keep]
        lasts = pauses.end[which] == NONE
        pause_end = np.where(lasts, whole_now, pauses.end[which])
        pause_end = np.where(ended[case] & (pause_end > end[case]), end[case], pause_end)
        held[case[lasts & ~ended[case]]] = True
        length = pause_end - pause_start
        office = ~natural[case]
        if office.any():
            ordinals = calendar.working_ordinal_bulk(np.concatenate([pause_start[office], pause_end[office]]))
            length[office] = ordinals[office.sum() :] - ordinals[: office.sum()]
        some = length > 0
        case, length, office = case[some], length[some], office[some]
        paused[case] += length
        due[case[~office]] += length[~office]
        if office.any():
            shifted, flag = calendar.due_after_working_seconds_bulk(due[case[office]], length[office])
            by_days = days[case[office]]
            shifted[by_days] = calendar.close_of_day_bulk(shifted[by_days])
            due[case[office]] = shifted
            provisional[case[office]] |= flag


def _derived_columns(
    derived: Derived, instants: Callable[[IntArray], list[Any]], *, flags_as_ints: bool = False
) -> list[list[Any]]:
    """``derived.DERIVED_NAMES``' values as lists, one per name, instants through ``instants``; the
    flags as 1, 0 (and None) with ``flags_as_ints``."""
    if flags_as_ints:
        flag: Callable[[BoolArray], list[Any]] = _ints
        late: list[list[Any]] = [
            [None if value is None else int(value) for value in node] for node in derived.late
        ]
    else:
        flag, late = _bools, derived.late
    return [
        np.where(derived.closed, CLOSED, OPEN).tolist(),
        instants(derived.accepted_at),
        instants(derived.handled_at),
        instants(derived.delivered_at),
        instants(derived.handling_due_at),
        _STATUS_TEXT[derived.deadline_status].tolist(),
        _NODE_TEXT[derived.current_node + 1].tolist(),
        instants(derived.current_due_at),
        flag(derived.provisional),
        flag(derived.overdue),
        flag(derived.breaker),
        derived.trips.tolist(),
        derived.resubmissions.tolist(),
        flag(derived.one_time_notice),
        *late,
        derived.wait_minutes,
    ]


def _bools(column: BoolArray) -> list[Any]:
    return column.tolist()  # type: ignore[no-any-return]


def _ints(column: BoolArray) -> list[Any]:
    return column.astype(np.int64).tolist()  # type: ignore[no-any-return]


def stored_rows(
    derived: Derived,
    unit_ids: Sequence[int],
    instants: Callable[[IntArray], list[Any]],
    *,
    flags_as_ints: bool = False,
) -> list[tuple[Any, ...]]:
    """``derived.stored_row(0, unit, values, instant)`` of each case, as a tuple; ``instants``
    converts an instant column (NONE as None) to the backend's form. With ``flags_as_ints`` the
    flags are 1 and 0, as SQLite stores them: its driver binds an int directly, a bool only after
    looking for an adapter."""
    columns = _derived_columns(derived, instants, flags_as_ints=flags_as_ints)
    zeros = [0] * len(derived.closed)
    status, node, current_due, overdue, breaker = (columns[i] for i in (5, 6, 7, 9, 10))
    alerts = zip(
        zeros,
        unit_ids,
        node,
        current_due,
        instants(derived.due_soon_at),
        instants(derived.breaker_at),
        instants(derived.next_alert_at),
        status,
        overdue,
        breaker,
        strict=True,
    )
    has_alert = (derived.next_alert_at != NONE).tolist()
    values = zip(*columns, zeros, strict=True)
    return [row + alert if has else row for row, alert, has in zip(values, alerts, has_alert, strict=True)]


def field_values(derived: Derived) -> list[tuple[Any, ...]]:
    """``derived.FIELD_NAMES``' values of each case, instants as epoch seconds."""
    alerts = (derived.due_soon_at, derived.breaker_at, derived.next_alert_at)
    return list(
        zip(
            *_derived_columns(derived, _epochs_or_none),
            *(_epochs_or_none(column) for column in alerts),
            strict=True,
        )
    )


def _epochs_or_none(column: IntArray) -> list[int | None]:
    return [None if value == NONE else value for value in column.tolist()]


@dataclass(frozen=True)
class CommonCase:
    """A case as the bulk evaluation needs it, whole: instants as epoch seconds (whole seconds)."""

    received: int
    first: dict[EventKind, int]  # the earliest instant of each kind of event it has
    handling: Limit
    trips: int
    resubmissions: int
    one_time_notice: bool
    # The handling node's pauses (start, end or None) in the engine's order, and the timed nodes'
    # limits as extensions granted them (the last granted of each node).
    pauses: tuple[tuple[int, int | None], ...] = ()
    extended: dict[str, Limit] = field(default_factory=dict)


def derive_common(
    cases: Sequence[CommonCase], *, base_limits: dict[str, Limit], calendar: WorkCalendar, now: float
) -> list[tuple[Any, ...]]:
    """``derive_columns`` case by case: ``derived.FIELD_NAMES``' values for each case, instants as
    epoch seconds."""
    columns = columns_of(cases, base_limits)
    return field_values(derive_columns(columns, calendar=calendar, now=now))


def columns_of(cases: Sequence[CommonCase], base_limits: dict[str, Limit]) -> Columns:
    first = np.full((len(cases), len(KINDS)), NONE, dtype=np.int64)
    counts = np.zeros((len(cases), len(KINDS)), dtype=np.int64)
    limits: list[int] = []
    pauses: list[tuple[int, int, int]] = []
    for number, case in enumerate(cases):
        for event, at in case.first.items():
            if event in KIND_COLUMN:  # the others do not count
                first[number, KIND_COLUMN[event]] = at
        counts[number, KIND_COLUMN[EventKind.TRIP]] = case.trips - 1
        counts[number, KIND_COLUMN[EventKind.RESUBMISSION]] = case.resubmissions
        counts[number, KIND_COLUMN[EventKind.ONE_TIME_NOTICE]] = case.one_time_notice
        for code, _, _ in TIMED_NODES:
            limit = case.extended.get(code) or (case.handling if code == "handling" else base_limits[code])
            limits += (limit.amount, UNIT_CODE[limit.unit])
        pauses += [(number, start, NONE if end is None else end) for start, end in case.pauses]
    pairs = np.array(limits, dtype=np.int64).reshape(len(cases), len(TIMED_NODES), 2)
    return Columns(
        np.array([case.received for case in cases], dtype=np.int64),
        first,
        counts,
        np.ascontiguousarray(pairs[:, :, 0]),
        np.ascontiguousarray(pairs[:, :, 1]),
        pauses_of(pauses),
    )
