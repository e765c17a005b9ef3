"""The fields a case stores about its deadlines, derived from its timeline. Pure: no Django, so a file
import's reader processes derive them too, for the cases whose events the file holds whole.

``derived_values`` returns the values of ``FIELD_NAMES`` in order: the ``Case`` columns of
``DERIVED_NAMES``, then the current node's alert instants (``ALERT_NAMES``), which go to the case's
``CaseAlert`` row. Instants are aware datetimes, statuses their stored text."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

from kaoping.cases.deadlines import NodeStatus, Timeline, counter_wait_seconds, finished_late

# Stored values of models.CaseStatus and models.WarningKind (a test holds them equal).
OPEN, CLOSED = "open", "closed"
DUE_SOON, OVERDUE, BREAKER = "due_soon", "overdue", "breaker"

DERIVED_NAMES = (
    "status",
    "accepted_at",
    "handled_at",
    "delivered_at",
    "handling_due_at",
    "deadline_status",
    "current_node",
    "current_due_at",
    "provisional",
    "overdue",
    "breaker",
    "trips",
    "resubmissions",
    "one_time_notice",
    "appointment_late",
    "acceptance_late",
    "handling_late",
    "delivery_late",
    "wait_minutes",
)
ALERT_NAMES = ("alert_due_soon_at", "alert_breaker_at", "next_alert_at")
FIELD_NAMES = DERIVED_NAMES + ALERT_NAMES


def derived_values(
    case_id: Any, timeline: Timeline, warned: Container[tuple[Any, str, str]]
) -> tuple[Any, ...]:
    """The values of ``FIELD_NAMES`` for a case with this timeline; ``warned`` holds the (case, node,
    kind) warnings already raised, whose instants are no longer alerts to come."""
    nodes = {n.code: n for n in timeline.nodes}
    handling = nodes["handling"]
    acceptance = nodes["acceptance"]
    delivery = nodes["result_delivery"]
    closed = handling.ended_at is not None
    current = timeline.current
    if current:
        deadline_status = current.status
    elif closed:
        deadline_status = handling.status
    else:
        deadline_status = NodeStatus.PENDING
    wait = counter_wait_seconds(timeline)
    next_alert = None
    if current and current.due_at is not None:
        pending = [
            at
            for kind, at in (
                (DUE_SOON, current.due_soon_at),
                (OVERDUE, current.due_at),
                (BREAKER, current.breaker_at),
            )
            if at is not None and (case_id, current.code, kind) not in warned
        ]
        next_alert = min(pending) if pending else None
    return (
        CLOSED if closed else OPEN,
        acceptance.ended_at or handling.started_at,
        handling.ended_at,
        delivery.ended_at,
        handling.due_at,
        deadline_status.value,
        current.code if current else "",
        current.due_at if current else None,
        any(n.provisional for n in timeline.nodes),
        timeline.overdue,
        any(n.breaker for n in timeline.nodes),
        timeline.trips,
        timeline.resubmissions,
        timeline.one_time_notice,
        finished_late(nodes["appointment_response"]),
        finished_late(acceptance),
        finished_late(handling),
        finished_late(delivery),
        None if wait is None else round(wait / 60, 2),
        current.due_soon_at if current else None,
        current.breaker_at if current else None,
        next_alert,
    )


# The instants among DERIVED_NAMES, converted to the backend's form when stored.
_TIMES = frozenset({"accepted_at", "handled_at", "delivered_at", "handling_due_at", "current_due_at"})
_IS_TIME = tuple(name in _TIMES for name in DERIVED_NAMES)
_WIDTH = len(DERIVED_NAMES)


def stored_row(
    case_id: int, unit_id: int, values: tuple[Any, ...], instant: Callable[[Any], Any]
) -> list[Any]:
    """What the case's UPDATE stores: ``DERIVED_NAMES``' values (instants through ``instant``, the
    backend's form) and the case id; then, when an alert is to come, the case's ``CaseAlert`` row
    (``services.ALERT_COLUMNS``: case, unit, node, due, due soon, breaker, next alert, deadline
    status, overdue, breaker)."""
    row = [
        (None if value is None else instant(value)) if is_time else value
        for value, is_time in zip(values[:_WIDTH], _IS_TIME, strict=True)
    ]
    row.append(case_id)
    due_soon, breaker_at, next_alert = values[_WIDTH:]
    if next_alert is not None:
        current_due = values[7]
        row += [
            case_id,
            unit_id,
            values[6],
            None if current_due is None else instant(current_due),
            None if due_soon is None else instant(due_soon),
            None if breaker_at is None else instant(breaker_at),
            instant(next_alert),
            values[5],
            values[9],
            values[10],
        ]
    return row
