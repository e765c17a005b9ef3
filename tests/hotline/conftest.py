"""A hotline for the tests: a centre under the test region with two handling units and its people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser

from kaoping.hotline.services import dispatch_rule_create
from kaoping.org.models import Role, Unit
from kaoping.org.services import role_grant, staff_create, unit_create
from kaoping.workcal.calendar import SHANGHAI
from tests.factories import OrgTree, make_user


@dataclass
class Hotline:
    org: OrgTree
    centre: Unit
    unit_a: Unit
    unit_b: Unit
    calltaker: AbstractUser
    monitor: AbstractUser
    hallmgr: AbstractUser
    staff_a: AbstractUser  # department head at unit A
    staff_b: AbstractUser  # window staff at unit B
    centre_head: AbstractUser  # a department head held at the hotline centre: no party to anything


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def hot(org: OrgTree, calendar_db: None) -> Hotline:
    admin = org.admin
    centre = unit_create(
        actor=admin, code="H1", name="测试市12345热线", kind="hotline_centre", parent=org.region
    )
    unit_a = unit_create(actor=admin, code="HU-A", name="住建局", kind="handling_unit", parent=centre)
    unit_b = unit_create(actor=admin, code="HU-B", name="市场监管局", kind="handling_unit", parent=centre)
    people = {}
    for name, role, unit in [
        ("calltaker", Role.CALL_TAKER, centre),
        ("monitor", Role.MONITOR, centre),
        ("hallmgr", Role.HALL_MANAGER, centre),
        ("staff_a", Role.DEPARTMENT_HEAD, unit_a),
        ("staff_b", Role.WINDOW_STAFF, unit_b),
        ("centre_head", Role.DEPARTMENT_HEAD, centre),
    ]:
        people[name] = make_user("hl_" + name)
        role_grant(actor=admin, user=people[name], role=role, unit=unit)
    staff_create(actor=admin, unit=centre, name="刘话务", employee_no="CT01", user=people["calltaker"])  # type: ignore[arg-type]
    dispatch_rule_create(actor=admin, centre=centre, unit=unit_a, keywords="物业，漏水，房屋")
    dispatch_rule_create(actor=admin, centre=centre, unit=unit_b, category="complaint", keywords="食品，价格")
    return Hotline(org=org, centre=centre, unit_a=unit_a, unit_b=unit_b, **people)
