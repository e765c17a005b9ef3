"""The public rating pages and the officials' figures, flags and follow-up pages, through HTTP."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from kaoping.cases.models import Case
from kaoping.evidence.verify import verify_chain
from kaoping.followup.models import Rectification
from kaoping.ratings.codes import Convention
from kaoping.ratings.models import Rating, RatingFlag
from kaoping.ratings.public_views import rating_link
from kaoping.ratings.services import ratings_ingest, ratings_scan
from tests.ratings.conftest import rating


def post_rating(client: Client, url: str, **data: object):
    return client.post(url, {"level": 5, "text": "", **data})


def test_a_citizen_rates_a_window_through_its_qr_page_without_javascript(rated_org):
    client = Client(REMOTE_ADDR="114.80.1.2")
    page = client.get("/r/w/WA/")
    assert page.status_code == 200 and "甲窗口" in page.content.decode()
    assert 'type="radio" name="level"' in page.content.decode()
    done = post_rating(
        client,
        "/r/w/WA/",
        level=2,
        text="等了很久，请回电13912345678",
        phone="13912345678",
        tags=["排队等候"],
    )
    assert done.status_code == 302 and done["Location"] == "/r/thanks/"
    stored = Rating.objects.get()
    assert (stored.level, stored.channel, stored.unit, stored.real_name) == (
        2,
        "qr_code",
        rated_org.window_a,
        True,
    )
    assert stored.ip == "114.80.1.2" and len(stored.device) == 32 and stored.tags == ["排队等候"]
    assert Rectification.objects.get().rating == stored  # 不满意 opens its follow-up
    assert verify_chain().ok


def test_the_public_page_refuses_missing_level_unknown_window_and_cross_site_posts(rated_org):
    client = Client()
    missing = client.post("/r/w/WA/", {"text": "hi"})
    assert missing.status_code == 400 and "请选择评价等级" in missing.content.decode()
    too_long = client.post("/r/w/WA/", {"level": 5, "text": "长" * 501})
    assert too_long.status_code == 400 and "不能超过500字" in too_long.content.decode()
    assert client.get("/r/w/DA/").status_code == 404  # a department is not a window
    forged = client.post("/r/w/WA/", {"level": 5}, HTTP_ORIGIN="https://evil.example")
    assert forged.status_code == 403
    assert not Rating.objects.exists()


@override_settings(KAOPING_RATE_LIMIT_DEVICE_HOUR=3)
def test_one_device_is_rate_limited(rated_org):
    client = Client(REMOTE_ADDR="114.80.1.2")
    codes = [post_rating(client, "/r/w/WA/").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Rating.objects.count() == 3


@override_settings(KAOPING_RATE_LIMIT_ADDRESS_10MIN=2, KAOPING_TRUSTED_PROXIES=["127.0.0.1"])
def test_one_address_is_rate_limited_behind_a_trusted_proxy_only(rated_org):
    # Three different devices (fresh clients) from one citizen address behind the proxy.
    codes = [
        post_rating(Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="36.1.1.1"), "/r/w/WA/").status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]
    other = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="36.1.1.2")
    assert post_rating(other, "/r/w/WA/").status_code == 302
    assert set(Rating.objects.values_list("ip", flat=True)) == {"36.1.1.1", "36.1.1.2"}


def test_a_case_link_works_once_and_forged_links_are_refused(rated_org):
    case = Case.objects.get(external_id="C1")
    link = rating_link(case)
    client = Client()
    assert "C1" in client.get(link).content.decode()
    assert post_rating(client, link, level=4).status_code == 302
    reused = post_rating(Client(), link, level=1)
    assert reused.status_code == 409 and "已经评价" in reused.content.decode()
    another_link_same_channel = post_rating(Client(), rating_link(case), level=1)
    assert another_link_same_channel.status_code == 409  # one first rating per case and channel
    token = link.split("/")[3]
    forged = Client().get(f"/r/c/{token[:-3]}abc/")
    assert forged.status_code == 400 and "链接无效" in forged.content.decode()
    assert list(Rating.objects.values_list("case__external_id", "level")) == [("C1", 4)]


def test_figures_are_scoped_and_mask_personal_data_for_a_department_head(rated_org, client):
    ratings_ingest(
        actor="t",
        records=[
            ("1", rating("R1", level=1, text="态度生硬，电话13812341234", rater_name="张三丰")),
            ("2", rating("R2", case="C2", level=5, text="办事效率高")),
            ("3", rating("R3", case=None, unit="WB", level=4)),
        ],
        label="t",
        convention=Convention.PROVINCIAL,
    )
    client.force_login(rated_org.head_a)
    page = client.get(f"/ratings/?unit={rated_org.dept_a.pk}&from=2026-03-01&to=2026-03-31")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="total">2<' in body and "50.0%" in body  # R3 is dept B's
    assert "138****1234" in body and "13812341234" not in body and "张三丰" not in body
    assert client.get(f"/ratings/?unit={rated_org.dept_b.pk}").status_code == 404
    bad = client.get("/ratings/?from=2026-03-31&to=2026-03-01")
    assert bad.status_code == 400 and "is before" in bad.content.decode()
    client.force_login(rated_org.director)
    body = client.get(
        f"/ratings/?unit={rated_org.centre.pk}&from=2026-03-01&to=2026-03-31&by=staff"
    ).content.decode()
    assert "13812341234" in body and "李四" in body


def test_a_bad_rating_is_followed_up_through_the_pages(rated_org, client):
    ratings_ingest(
        actor="t", records=[("1", rating("R1", level=2))], label="t", convention=Convention.PROVINCIAL
    )
    rect = Rectification.objects.get()
    client.force_login(rated_org.head_a)
    url = f"/followup/{rect.pk}/step/"
    client.post(url, {"action": "rectify", "note": "x"})  # not yet: revisit first
    rect.refresh_from_db()
    assert rect.state == "revisit_pending"
    client.post(url, {"action": "revisit", "note": "已电话联系，群众反映排队太久"})
    client.post(url, {"action": "complex", "note": "增开窗口", "days": "20"})  # outside 5–15
    rect.refresh_from_db()
    assert rect.state == "triage_pending"
    client.post(url, {"action": "complex", "note": "增开窗口", "days": "5"})
    client.post(url, {"action": "rectify", "note": "高峰期增开两个窗口"})
    client.post(url, {"action": "verdict", "verdict": "satisfied"})
    rect.refresh_from_db()
    assert (rect.state, rect.triage, rect.verdict) == ("closed", "complex", "satisfied")
    # Then the citizen's one follow-up rating (追评).
    follow = rating("R1b", level=4, attempt="follow_up", channel="sms")
    first = ratings_ingest(actor="t", records=[("1", follow)], label="t", convention=Convention.PROVINCIAL)
    second = ratings_ingest(
        actor="t", records=[("1", {**follow, "id": "R1c"})], label="t", convention=Convention.PROVINCIAL
    )
    assert first.accepted == 1 and second.accepted == 0 and "only one 追评" in second.rejected[0].reason
    rect.refresh_from_db()
    assert rect.follow_up_rating is not None and rect.follow_up_rating.external_id == "R1b"
    assert client.get(f"/followup/{rect.pk}/").status_code == 200
    client.force_login(rated_org.head_b)
    assert client.get(f"/followup/{rect.pk}/").status_code == 404
    assert verify_chain().ok


def test_a_confirmed_flag_excludes_the_rating_from_the_figures_and_is_logged(rated_org, client):
    import datetime as dt

    from kaoping.workcal.calendar import SHANGHAI

    ratings_ingest(
        actor="t",
        records=[("1", rating("OWN", device="PC-E100", rated_at="2026-03-03T10:00:05+08:00"))],
        label="t",
        convention=Convention.PROVINCIAL,
    )
    start = dt.datetime(2026, 3, 3, tzinfo=SHANGHAI)
    assert ratings_scan(start=start, end=start + dt.timedelta(days=1)) == 1
    flag = RatingFlag.objects.get()
    client.force_login(rated_org.head_a)
    page = client.get("/ratings/flags/").content.decode()
    assert "办结后 5 秒在经办人终端 PC-E100 上评价" in page
    client.post(
        f"/ratings/flags/{flag.pk}/review/", {"decision": "confirm", "note": ""}
    )  # a note is required
    flag.refresh_from_db()
    assert flag.status == "pending"
    client.post(
        f"/ratings/flags/{flag.pk}/review/", {"decision": "confirm", "note": "经调取监控，系工作人员代评"}
    )
    flag.refresh_from_db()
    assert flag.status == "confirmed" and Rating.objects.get().excluded
    figures = client.get(
        f"/ratings/?unit={rated_org.window_a.pk}&from=2026-03-01&to=2026-03-31"
    ).content.decode()
    assert 'data-testid="total">0<' in figures
    assert verify_chain().ok


@pytest.mark.parametrize("user", ["head_a", "director"])
def test_a_window_poster_carries_its_qr_code(rated_org, client, user):
    client.force_login(getattr(rated_org, user))
    page = client.get(f"/ratings/poster/{rated_org.window_a.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and "/r/w/WA/" in body
    assert client.get(f"/ratings/poster/{rated_org.dept_a.pk}/").status_code == 404


def test_a_closed_cases_page_shows_its_ratings_and_a_fresh_one_time_link(rated_org, client):
    ratings_ingest(
        actor="t", records=[("1", rating("R1", level=1))], label="t", convention=Convention.PROVINCIAL
    )
    case = Case.objects.get(external_id="C1")
    client.force_login(rated_org.head_a)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "非常不满意" in body and f"/followup/{Rectification.objects.get().pk}/" in body
    link = body.split('readonly value="')[1].split('"')[0]
    assert "/r/c/" in link
    path = link[link.index("/r/c/") :]
    assert post_rating(Client(), path, level=5).status_code == 302  # the link's channel (mobile) is unrated
    assert post_rating(Client(), path, level=5).status_code == 409  # and the link works once
    assert set(Rating.objects.filter(case=case).values_list("channel", flat=True)) == {
        "hall_tablet",
        "mobile",
    }
