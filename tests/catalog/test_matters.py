from __future__ import annotations

import datetime as dt

import pytest

from kaoping.catalog.models import Matter, node_limits
from kaoping.catalog.services import matter_create
from kaoping.core.errors import KaopingError
from kaoping.workcal.calendar import SHANGHAI
from kaoping.workcal.limits import Limit, LimitUnit
from kaoping.workcal.selectors import get_calendar


@pytest.mark.parametrize(("kind", "limit"), [("immediate", "1 wh"), ("committed", "3 wd"), ("joint", "7 wd")])
def test_default_limits_by_kind(org, kind, limit):
    matter = matter_create(
        actor=org.admin, code=f"M-{kind}", name="事项", kind=kind, owner=org.window_a, channels=["window"]
    )
    assert str(matter.handling_limit) == limit
    assert not matter.has_own_limit


def test_a_matter_overrides_its_kinds_limit(org, calendar_db):
    matter = matter_create(
        actor=org.admin,
        code="M1",
        name="不动产登记",
        kind="committed",
        owner=org.window_a,
        channels=["window", "online"],
        limit="5 wd",
    )
    assert matter.handling_limit == Limit(5, LimitUnit.WORKING_DAYS)
    start = dt.datetime(2025, 9, 26, 10, tzinfo=SHANGHAI)
    assert matter.handling_limit.due(get_calendar(), start).at == dt.datetime(
        2025, 10, 10, 17, 30, tzinfo=SHANGHAI
    )


def test_node_limits_have_the_seeds_defaults(settings):
    limits = node_limits()
    assert limits["appointment_response"] == Limit(15, LimitUnit.WORKING_MINUTES)
    assert limits["acceptance"] == Limit(30, LimitUnit.WORKING_MINUTES)
    assert limits["result_delivery"] == Limit(24, LimitUnit.NATURAL_HOURS)
    settings.KAOPING_NODE_LIMITS = {**settings.KAOPING_NODE_LIMITS, "acceptance": "20 wmin"}
    assert node_limits()["acceptance"] == Limit(20, LimitUnit.WORKING_MINUTES)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "urgent"}, "is not one of"),
        ({"channels": ["fax"]}, "channels must be some of"),
        ({"channels": []}, "channels must be some of"),
        ({"limit": "3 weeks"}, "is not one of"),
        ({"limit": "24 h"}, "counted in working time"),
        ({"limit": "0 wd"}, "at least 1"),
    ],
)
def test_bad_matters_are_refused(org, kwargs, message):
    fields = {"code": "MX", "name": "x", "kind": "committed", "owner": org.window_a, "channels": ["window"]}
    with pytest.raises(KaopingError, match=message):
        matter_create(actor=org.admin, **{**fields, **kwargs})


def test_a_window_head_cannot_add_matters_elsewhere(org):
    with pytest.raises(KaopingError, match="do not allow"):
        matter_create(
            actor=org.head_a, code="MZ", name="x", kind="immediate", owner=org.window_b, channels=["window"]
        )


def test_a_matter_has_at_most_42_own_nodes(org):
    from kaoping.catalog.services import matter_node_add

    matter = matter_create(
        actor=org.admin, code="M42", name="联办事项", kind="joint", owner=org.window_a, channels=["window"]
    )
    for i in range(42):
        matter_node_add(
            actor=org.admin,
            matter=matter,
            code=f"n{i}",
            name=f"环节{i}",
            position=i,
            limit="2 wh" if i % 2 else None,
        )
    other = matter_create(
        actor=org.admin, code="M1", name="另一事项", kind="joint", owner=org.window_a, channels=["window"]
    )
    matter_node_add(actor=org.admin, matter=other, code="n0", name="环节")
    with pytest.raises(KaopingError, match="already used"):
        matter_node_add(actor=org.admin, matter=Matter.objects.get(code="M1"), code="n0", name="重复")
    with pytest.raises(KaopingError, match="at most 42 nodes"):
        matter_node_add(actor=org.admin, matter=matter, code="n42", name="多余")
    assert str(matter.nodes.get(code="n1").limit) == "2 wh"
