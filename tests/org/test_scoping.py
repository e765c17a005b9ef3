"""A user sees and changes only the units their role covers: through selectors, pages and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from kaoping.catalog.services import matter_create
from kaoping.core.errors import KaopingError
from kaoping.core.permissions import can_access_unit, sees_personal_data
from kaoping.org.models import Unit
from kaoping.org.selectors import unit_list
from kaoping.org.services import staff_create, unit_create, unit_update


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def codes(units) -> set[str]:
    return {u.code for u in units}


def test_a_role_covers_its_unit_and_everything_below(org):
    assert codes(unit_list(user=org.director)) == {"C1", "DA", "DB", "WA", "WB"}
    assert codes(unit_list(user=org.head_a)) == {"DA", "WA"}
    assert codes(unit_list(user=org.staff_a)) == {"WA"}
    assert codes(unit_list(user=org.auditor)) == {"R1", "C1", "DA", "DB", "WA", "WB"}
    assert codes(unit_list(user=org.admin)) == {"R1", "C1", "DA", "DB", "WA", "WB"}


def test_one_department_cannot_read_anothers_pages(org):
    head_a = client_for(org.head_a)
    assert head_a.get(f"/org/units/{org.dept_a.pk}/").status_code == 200
    assert head_a.get(f"/org/units/{org.window_a.pk}/").status_code == 200
    assert head_a.get(f"/org/units/{org.dept_b.pk}/").status_code == 404
    assert head_a.get(f"/org/units/{org.window_b.pk}/").status_code == 404
    listing = head_a.get("/org/units/").content.decode()
    assert "甲科" in listing and "乙科" not in listing and "乙窗口" not in listing


def test_one_department_cannot_read_anothers_data_through_the_api(org):
    head_a = client_for(org.head_a)
    assert head_a.get(f"/api/org/units/{org.dept_a.pk}").status_code == 200
    response = head_a.get(f"/api/org/units/{org.dept_b.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert {u["code"] for u in head_a.get("/api/org/units").json()} == {"DA", "WA"}


def test_matters_are_scoped_by_owner(org):
    matter_create(
        actor=org.admin, code="MA", name="甲事项", kind="immediate", owner=org.window_a, channels=["window"]
    )
    matter_create(
        actor=org.admin, code="MB", name="乙事项", kind="committed", owner=org.window_b, channels=["online"]
    )
    assert [m["code"] for m in client_for(org.head_a).get("/api/catalog/matters").json()] == ["MA"]
    assert [m["code"] for m in client_for(org.head_b).get("/api/catalog/matters").json()] == ["MB"]
    assert "乙事项" not in client_for(org.head_a).get(f"/org/units/{org.dept_a.pk}/").content.decode()


def test_pages_and_api_need_a_login(org):
    anonymous = Client()
    assert anonymous.get(f"/org/units/{org.dept_a.pk}/").status_code == 302
    assert anonymous.get("/api/org/units").status_code == 401


def test_a_department_head_changes_only_their_department(org):
    unit_update(actor=org.head_a, unit=org.window_a, name="甲窗口一")
    with pytest.raises(KaopingError, match="do not allow you to change"):
        unit_update(actor=org.head_a, unit=org.dept_b, name="乙科被改")
    with pytest.raises(KaopingError, match="do not allow you to change"):
        unit_create(actor=org.head_a, code="WX", name="乙新窗口", kind="window", parent=org.dept_b)
    assert Unit.objects.get(pk=org.dept_b.pk).name == "乙科"


def test_read_only_roles_cannot_change_their_own_unit(org):
    assert can_access_unit(org.staff_a, org.window_a)
    assert not can_access_unit(org.staff_a, org.window_a, write=True)
    with pytest.raises(KaopingError):
        unit_update(actor=org.staff_a, unit=org.window_a, name="改名")
    with pytest.raises(KaopingError):
        unit_update(actor=org.auditor, unit=org.dept_a, name="改名")


def test_only_the_roles_that_need_it_see_personal_data(org):
    assert sees_personal_data(org.director, org.window_a)
    assert sees_personal_data(org.admin, org.window_b)
    assert not sees_personal_data(org.head_a, org.window_a)
    assert not sees_personal_data(org.staff_a, org.window_a)
    assert not sees_personal_data(org.auditor, org.window_a)
    assert not sees_personal_data(org.director, org.region)  # outside the director's centre


def test_staff_of_a_unit_are_listed_for_those_in_scope(org):
    staff_create(actor=org.admin, unit=org.window_a, name="张小明", employee_no="E1")
    assert "张小明" in client_for(org.head_a).get(f"/org/units/{org.window_a.pk}/").content.decode()
    assert client_for(org.head_b).get(f"/org/units/{org.window_a.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "X1", "kind": "handling_unit", "parent": "centre"}, "cannot be placed under"),
        ({"code": "X6", "kind": "window", "parent": "window_a"}, "cannot be placed under"),
        ({"code": "X2", "kind": "department", "parent": "centre"}, "a department needs a kind"),
        ({"code": "X3", "kind": "region", "parent": "region", "region_code": "12"}, "6, 9 or 12 digits"),
        ({"code": "X4", "kind": "centre", "parent": None}, "only an administrative region"),
        ({"code": "WA", "kind": "window", "parent": "dept_a"}, "already taken"),
        ({"code": "X5", "kind": "planet", "parent": "centre"}, "is not one of"),
    ],
)
def test_bad_units_are_refused_with_a_reason(org, kwargs, message):
    parent = getattr(org, kwargs.pop("parent")) if kwargs.get("parent") else kwargs.pop("parent", None)
    before = Unit.objects.count()
    with pytest.raises(KaopingError, match=message):
        unit_create(actor=org.admin, name="x", parent=parent, **kwargs)
    assert Unit.objects.count() == before


def test_moving_a_unit_moves_its_subtree(org):
    region2 = unit_create(actor=org.admin, code="R2", name="另一市", kind="region", region_code="990200")
    org.centre.parent = region2
    org.centre.save()
    window = Unit.objects.get(pk=org.window_a.pk)
    assert window.path.startswith(region2.path)
    assert window.depth == 3
    assert codes(unit_list(user=org.director)) == {"C1", "DA", "DB", "WA", "WB"}


def test_unit_tree_of_any_depth(org):
    parent = org.region
    for level in range(12):
        parent = unit_create(
            actor=org.admin,
            code=f"L{level}",
            name=f"第{level}级",
            kind="region",
            parent=parent,
            region_code="990101",
        )
    assert parent.depth == 12
    assert parent.ancestor_ids()[0] == org.region.pk


def test_home_lists_the_users_own_units_in_few_queries(org, calendar_db, django_assert_max_num_queries):
    client = client_for(org.head_a)
    with django_assert_max_num_queries(8):
        page = client.get("/").content.decode()
    assert "甲科" in page and "乙科" not in page
