"""The bulk evaluation of common cases (``cases.bulk``) gives the same derived fields as the engine
one case at a time (``deadlines.evaluate`` then ``derived.derived_values``). No database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kaoping.cases.bulk import CommonCase, derive_common
from kaoping.cases.deadlines import Event, EventKind, evaluate
from kaoping.cases.derived import FIELD_NAMES, derived_values
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.limits import Limit, LimitUnit
from tests.workcal.official import official_calendar

CAL = official_calendar()
KINDS = [k for k in EventKind if k not in (EventKind.PAUSE_STARTED, EventKind.PAUSE_ENDED)]
KINDS.remove(EventKind.EXTENSION_GRANTED)
START = int(dt.datetime(2025, 12, 29, 8, 0, tzinfo=SHANGHAI).timestamp())  # across New Year's holiday

limits = st.builds(
    Limit,
    st.integers(1, 40),
    st.sampled_from(list(LimitUnit)),
)
events = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(-3600, 20 * 86400)), min_size=0, max_size=9)


def _epoch(value: Any) -> Any:
    return int(value.timestamp()) if isinstance(value, dt.datetime) else value


def _one_by_one(case: CommonCase, raw: list[tuple[EventKind, int]], base: dict[str, Limit], now: float):
    timeline = evaluate(
        [Event(dt.datetime.fromtimestamp(START + offset, SHANGHAI), kind) for kind, offset in raw],
        limits={**base, "handling": case.handling},
        calendar=CAL,
        now=dt.datetime.fromtimestamp(now, SHANGHAI),
        received_at=dt.datetime.fromtimestamp(case.received, SHANGHAI),
    )
    return tuple(_epoch(v) for v in derived_values(0, timeline, ()))


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
    cases=st.lists(st.tuples(events, limits, st.integers(-600, 600)), min_size=1, max_size=6),
    base=st.fixed_dictionaries(
        {"appointment_response": limits, "acceptance": limits, "result_delivery": limits}
    ),
    now_offset=st.integers(0, 25 * 86400),
    fraction=st.sampled_from([0.0, 0.25, 0.999999]),
)
@example(  # a case handled though never accepted: closed, its handling never started
    cases=[([(EventKind.HANDLED, 3600)], Limit(3, LimitUnit.WORKING_DAYS), 0)],
    base={"appointment_response": Limit(15, LimitUnit.WORKING_MINUTES)}
    | {
        "acceptance": Limit(30, LimitUnit.WORKING_MINUTES),
        "result_delivery": Limit(24, LimitUnit.NATURAL_HOURS),
    },
    now_offset=7200,
    fraction=0.0,
)
def test_bulk_equals_one_by_one(cases, base, now_offset, fraction):
    now = START + now_offset + fraction
    common = [_common(raw, handling, START + received) for raw, handling, received in cases]
    expected = [_one_by_one(case, raw, base, now) for case, (raw, _, _) in zip(common, cases, strict=True)]
    got = derive_common(common, base_limits=base, calendar=CAL, now=now)
    for one, bulk in zip(expected, got, strict=True):
        assert dict(zip(FIELD_NAMES, bulk, strict=True)) == dict(zip(FIELD_NAMES, one, strict=True))


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
