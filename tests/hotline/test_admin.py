"""The dispatch catalogue in the admin: rules go through the services (checked, logged), are switched
off instead of deleted, and what is switched off is no longer suggested."""

from __future__ import annotations

from django.test import Client

from kaoping.evidence.digest import digest
from kaoping.evidence.models import EvidenceEntry
from kaoping.hotline.models import DispatchRule
from kaoping.hotline.services import dispatch_suggestion
from kaoping.org.services import unit_create
from tests.hotline.conftest import Hotline


def _client(hot: Hotline) -> Client:
    client = Client()
    client.force_login(hot.org.admin)  # type: ignore[arg-type]
    return client


def _form(hot: Hotline, **changes: object) -> dict[str, object]:
    return {
        "centre": hot.centre.pk,
        "category": "",
        "keywords": "噪音、施工",
        "unit": hot.unit_b.pk,
        "priority": 5,
        "active": "on",
        **changes,
    }


def test_a_rule_added_in_the_admin_is_logged_and_suggested(hot: Hotline) -> None:
    response = _client(hot).post("/admin/hotline/dispatchrule/add/", _form(hot))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = DispatchRule.objects.get(keywords="噪音，施工")
    assert (rule.unit, rule.priority, rule.active) == (hot.unit_b, 5, True)
    assert EvidenceEntry.objects.filter(
        action="hotline.dispatch_rule_create", object_id=str(rule.pk)
    ).exists()
    assert (
        dispatch_suggestion(centre=hot.centre, category="request", content="夜间施工噪音扰民") == hot.unit_b
    )


def test_the_admin_refuses_a_unit_outside_the_centre_and_stores_nothing(hot: Hotline) -> None:
    other = unit_create(
        actor=hot.org.admin, code="H2", name="另一热线", kind="hotline_centre", parent=hot.org.region
    )
    theirs = unit_create(
        actor=hot.org.admin, code="HU-X", name="他处承办单位", kind="handling_unit", parent=other
    )
    before = DispatchRule.objects.count()
    client = _client(hot)
    response = client.post("/admin/hotline/dispatchrule/add/", _form(hot, unit=theirs.pk))
    assert response.status_code == 200
    assert "HU-X is not an active handling unit of H1" in response.content.decode()
    # A window is not even offered.
    window = client.post("/admin/hotline/dispatchrule/add/", _form(hot, unit=hot.org.window_a.pk))
    assert window.status_code == 200 and 'name="unit"' in window.content.decode()
    assert (
        f'value="{hot.org.window_a.pk}"'
        not in window.content.decode().split('name="unit"')[1].split("</select>")[0]
    )
    assert DispatchRule.objects.count() == before


def test_a_rule_switched_off_in_the_admin_is_no_longer_suggested_and_cannot_be_deleted(hot: Hotline) -> None:
    rule = DispatchRule.objects.get(unit=hot.unit_a)
    assert dispatch_suggestion(centre=hot.centre, category="request", content="小区物业不作为") == hot.unit_a
    client = _client(hot)
    form = _form(hot, keywords=rule.keywords, unit=hot.unit_a.pk, priority=0)
    del form["active"]  # an unticked box is not sent
    del form["centre"]  # read-only once the rule exists
    response = client.post(f"/admin/hotline/dispatchrule/{rule.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.active is False
    entry = EvidenceEntry.objects.filter(action="hotline.dispatch_rule_update", object_id=str(rule.pk)).get()
    state = {"unit": hot.unit_a.pk, "category": "", "keywords": rule.keywords, "priority": 0, "active": False}
    assert entry.digest == digest(state)
    assert dispatch_suggestion(centre=hot.centre, category="request", content="小区物业不作为") is None
    assert client.post(f"/admin/hotline/dispatchrule/{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DispatchRule.objects.filter(pk=rule.pk).exists()
