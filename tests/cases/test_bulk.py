"""The bulk evaluation of common cases (``cases.bulk``) gives the same derived fields as the engine
one case at a time (``deadlines.evaluate`` then ``derived.derived_values``). No database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kaoping.cases.bulk import (
    NONE,
    CommonCase,
    columns_of,
    derive_columns,
    derive_common,
    field_values,
    stored_rows,
)
from kaoping.cases.deadlines import Event, EventKind, evaluate, pair_pauses
from kaoping.cases.derived import FIELD_NAMES, derived_values, stored_row
from kaoping.core.bulk import sqlite_epoch, sqlite_epochs
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.limits import Limit, LimitUnit
from tests.workcal.official import official_calendar

CAL = official_calendar()
KINDS = [k for k in EventKind if k not in (EventKind.PAUSE_STARTED, EventKind.PAUSE_ENDED)]
KINDS.remove(EventKind.EXTENSION_GRANTED)
EXTENDED_NODES = ["", "handling", "acceptance", "appointment_response", "result_delivery", "own-node"]
START = int(dt.datetime(2025, 12, 29, 8, 0, tzinfo=SHANGHAI).timestamp())  # across New Year's holiday

limits = st.builds(
    Limit,
    st.integers(1, 40),
    st.sampled_from(list(LimitUnit)),
)
events = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(-3600, 20 * 86400)), min_size=0, max_size=9)
# Pauses and extensions: (kind, offset, node, limit)
specials = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from([EventKind.PAUSE_STARTED, EventKind.PAUSE_ENDED]),
            st.integers(-3600, 20 * 86400),
            st.just(""),
            st.none(),
        ),
        st.tuples(
            st.just(EventKind.EXTENSION_GRANTED),
            st.integers(-3600, 20 * 86400),
            st.sampled_from(EXTENDED_NODES),
            limits,
        ),
    ),
    max_size=5,
)


def _epoch(value: Any) -> Any:
    return int(value.timestamp()) if isinstance(value, dt.datetime) else value


def _one_by_one(
    case: CommonCase, raw: list[tuple[EventKind, int]], base: dict[str, Limit], now: float, special=()
):
    timeline = evaluate(
        [Event(dt.datetime.fromtimestamp(START + offset, SHANGHAI), kind) for kind, offset in raw]
        + [_special_event(item) for item in special],
        limits={**base, "handling": case.handling},
        calendar=CAL,
        now=dt.datetime.fromtimestamp(now, SHANGHAI),
        received_at=dt.datetime.fromtimestamp(case.received, SHANGHAI),
    )
    return tuple(_epoch(v) for v in derived_values(0, timeline, ()))


def _special_event(item) -> Event:
    kind, offset, node, limit = item
    at = dt.datetime.fromtimestamp(START + offset, SHANGHAI)
    if kind is EventKind.EXTENSION_GRANTED:
        return Event(at, kind, node=node, reason="r", approver="a", limit=str(limit))
    return Event(at, kind, pause_kind="hearing" if kind is EventKind.PAUSE_STARTED else "")


def _with_specials(case: CommonCase, special) -> CommonCase:
    """The case's pauses paired as the engine pairs them, and its extended limits (the last of each
    node in the engine's order)."""
    events = sorted(_special_event(item) for item in special)
    pauses = tuple(
        (int(p.started_at.timestamp()), None if p.ended_at is None else int(p.ended_at.timestamp()))
        for p in pair_pauses(events)
    )
    extended = {
        (e.node or "handling"): Limit.parse(e.limit) for e in events if e.kind is EventKind.EXTENSION_GRANTED
    }
    return replace(case, pauses=pauses, extended=extended)


def _common(raw: list[tuple[EventKind, int]], handling: Limit, received: int) -> CommonCase:
    first: dict[EventKind, int] = {}
    for kind, offset in raw:
        first[kind] = min(first.get(kind, START + offset), START + offset)
    kinds = [kind for kind, _ in raw]
    return CommonCase(
        received=received,
        first=first,
        handling=handling,
        trips=1 + kinds.count(EventKind.TRIP),
        resubmissions=kinds.count(EventKind.RESUBMISSION),
        one_time_notice=EventKind.ONE_TIME_NOTICE in kinds,
    )


@settings(max_examples=300, deadline=None)
@given(
    cases=st.lists(st.tuples(events, limits, st.integers(-600, 600), specials), min_size=1, max_size=6),
    base=st.fixed_dictionaries(
        {"appointment_response": limits, "acceptance": limits, "result_delivery": limits}
    ),
    now_offset=st.integers(0, 25 * 86400),
    fraction=st.sampled_from([0.0, 0.25, 0.999999]),
)
@example(  # a case handled though never accepted: closed, its handling never started
    cases=[([(EventKind.HANDLED, 3600)], Limit(3, LimitUnit.WORKING_DAYS), 0, [])],
    base={"appointment_response": Limit(15, LimitUnit.WORKING_MINUTES)}
    | {
        "acceptance": Limit(30, LimitUnit.WORKING_MINUTES),
        "result_delivery": Limit(24, LimitUnit.NATURAL_HOURS),
    },
    now_offset=7200,
    fraction=0.0,
)
def test_bulk_equals_one_by_one(cases, base, now_offset, fraction):
    """Any mix of events, pauses (paired or open, before, inside or after the handling node) and
    extensions (of any node, or of a matter's own node, which does not count)."""
    now = START + now_offset + fraction
    common = [
        _with_specials(_common(raw, handling, START + received), special)
        for raw, handling, received, special in cases
    ]
    expected = [
        _one_by_one(case, raw, base, now, special)
        for case, (raw, _, _, special) in zip(common, cases, strict=True)
    ]
    got = derive_common(common, base_limits=base, calendar=CAL, now=now)
    for one, bulk in zip(expected, got, strict=True):
        assert dict(zip(FIELD_NAMES, bulk, strict=True)) == dict(zip(FIELD_NAMES, one, strict=True))


@settings(max_examples=100, deadline=None)
@given(
    cases=st.lists(
        st.tuples(events, limits, st.integers(-600, 600), st.integers(1, 9)), min_size=1, max_size=6
    ),
    base=st.fixed_dictionaries(
        {"appointment_response": limits, "acceptance": limits, "result_delivery": limits}
    ),
    now_offset=st.integers(0, 25 * 86400),
)
def test_stored_rows_are_each_cases_stored_row(cases, base, now_offset):
    """The readers' rows straight from the columns (instants as SQLite text, or as datetimes) are
    ``derived.stored_row`` of each case's values."""
    common = [_common(raw, handling, START + received) for raw, handling, received, _ in cases]
    units = [unit for _, _, _, unit in cases]
    derived = derive_columns(columns_of(common, base), calendar=CAL, now=START + now_offset)
    values = field_values(derived)

    def as_text(column):
        return sqlite_epochs(column, NONE)

    def as_datetime(column):
        return [None if v == NONE else dt.datetime.fromtimestamp(v, dt.UTC) for v in column.tolist()]

    for convert, one, as_ints in (
        (as_text, sqlite_epoch, False),
        (as_text, sqlite_epoch, True),  # SQLite's form: the flags as 1 and 0
        (as_datetime, lambda v: dt.datetime.fromtimestamp(v, dt.UTC), False),
    ):
        rows = stored_rows(derived, units, convert, flags_as_ints=as_ints)
        assert [list(row) for row in rows] == [
            stored_row(0, unit, case_values, one) for unit, case_values in zip(units, values, strict=True)
        ]
        flags = [value for row in rows for value in row if type(value) in (bool, int) and value in (0, 1)]
        assert flags  # every row has flags (provisional, overdue …)
        expected: set[type] = {int} if as_ints else {bool, int}
        assert {type(value) for value in flags} == expected


def test_the_breaker_at_the_rounding_edge():
    """The engine trips the breaker when the used share, rounded to 4 places, is over 1.3. A node
    50 hours long (natural) that has run 234,009 s has used 1.30005 of it, as near as a double
    holds: both ways agree, running or done."""
    base = {
        "appointment_response": Limit(15, LimitUnit.WORKING_MINUTES),
        "acceptance": Limit(30, LimitUnit.WORKING_MINUTES),
        "result_delivery": Limit(50, LimitUnit.NATURAL_HOURS),
    }
    handled = (EventKind.HANDLED, 3600)
    assert 234_009 / 180_000 == 1.30005 and round(1.30005, 4) == 1.3  # the edge, not over it
    for raw, now, tripped in (
        ([handled], START + 3600 + 234_009, False),
        ([handled, (EventKind.DELIVERED, 3600 + 234_009)], START + 30 * 86400, False),
        ([handled], START + 3600 + 234_010, True),  # one second more is over
    ):
        case = _common(raw, Limit(3, LimitUnit.WORKING_DAYS), START)
        (bulk,) = derive_common([case], base_limits=base, calendar=CAL, now=now)
        one = _one_by_one(case, raw, base, now)
        assert dict(zip(FIELD_NAMES, bulk, strict=True)) == dict(zip(FIELD_NAMES, one, strict=True))
        assert bulk[FIELD_NAMES.index("breaker")] is tripped


def test_a_seed_example_closing_late_and_overdue():
    """R0.4's acceptance limit (30 working minutes) across lunch: arrived 11:50, accepted 13:55 is 35
    office minutes (10 before lunch, 25 after): late; handled within 3 working days; the result
    delivered 49 hours later, against 24: late too."""
    day = int(dt.datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI).timestamp())
    first = {
        EventKind.ARRIVED: day + 11 * 3600 + 50 * 60,
        EventKind.ACCEPTED: day + 13 * 3600 + 55 * 60,
        EventKind.HANDLED: day + 86400 + 10 * 3600,
        EventKind.DELIVERED: day + 2 * 86400 + 11 * 3600,
    }
    case = CommonCase(first[EventKind.ARRIVED], first, Limit(3, LimitUnit.WORKING_DAYS), 1, 0, False)
    base = {
        "appointment_response": Limit(15, LimitUnit.WORKING_MINUTES),
        "acceptance": Limit(30, LimitUnit.WORKING_MINUTES),
        "result_delivery": Limit(24, LimitUnit.NATURAL_HOURS),
    }
    (values,) = derive_common([case], base_limits=base, calendar=CAL, now=day + 10 * 86400)
    fields = dict(zip(FIELD_NAMES, values, strict=True))
    assert fields["status"] == "closed" and fields["overdue"] is True
    assert (fields["acceptance_late"], fields["handling_late"], fields["delivery_late"]) == (
        True,
        False,
        True,
    )
    assert fields["wait_minutes"] == 35.0
