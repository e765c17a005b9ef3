"""A small organisation for tests: one region, one centre, two departments with a window each."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from kaoping.org.models import Role, Unit
from kaoping.org.services import role_grant, unit_create


@dataclass
class OrgTree:
    admin: AbstractUser
    region: Unit
    centre: Unit
    dept_a: Unit
    dept_b: Unit
    window_a: Unit
    window_b: Unit
    director: AbstractUser
    head_a: AbstractUser
    head_b: AbstractUser
    staff_a: AbstractUser
    auditor: AbstractUser


def make_user(username: str, *, is_superuser: bool = False, is_staff: bool = False) -> AbstractUser:
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_superuser=is_superuser, is_staff=is_staff
    )
    assert isinstance(user, AbstractUser)
    return user


def build_org() -> OrgTree:
    admin = make_user("root", is_superuser=True, is_staff=True)
    region = unit_create(actor=admin, code="R1", name="测试市", kind="region", region_code="990100")
    centre = unit_create(actor=admin, code="C1", name="测试市政务服务中心", kind="centre", parent=region)
    dept_a = unit_create(
        actor=admin,
        code="DA",
        name="甲科",
        kind="department",
        parent=centre,
        department_kind="external_service",
    )
    dept_b = unit_create(
        actor=admin,
        code="DB",
        name="乙科",
        kind="department",
        parent=centre,
        department_kind="internal_service",
    )
    window_a = unit_create(actor=admin, code="WA", name="甲窗口", kind="window", parent=dept_a)
    window_b = unit_create(actor=admin, code="WB", name="乙窗口", kind="window", parent=dept_b)
    users = {}
    for name, role, unit in [
        ("director", Role.CENTRE_DIRECTOR, centre),
        ("head_a", Role.DEPARTMENT_HEAD, dept_a),
        ("head_b", Role.DEPARTMENT_HEAD, dept_b),
        ("staff_a", Role.WINDOW_STAFF, window_a),
        ("auditor", Role.AUDITOR, region),
    ]:
        users[name] = make_user(name)
        role_grant(actor=admin, user=users[name], role=role, unit=unit)
    return OrgTree(
        admin=admin,
        region=region,
        centre=centre,
        dept_a=dept_a,
        dept_b=dept_b,
        window_a=window_a,
        window_b=window_b,
        **users,
    )
