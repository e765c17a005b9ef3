"""Review pages and API: the public questionnaire without JavaScript, results withheld below the
minimum, re-checks through the page, scoping (404 outside it), the admin, English."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from kaoping.evidence.verify import verify_chain
from kaoping.reviews.models import Invitation, RecheckOutcome, Response, ReviewCampaign
from kaoping.reviews.services import campaign_close, campaign_open, invitations_issue
from tests.factories import OrgTree
from tests.reviews.helpers import answer, make_campaign


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def public_client() -> Client:
    return Client(enforce_csrf_checks=True)


def item_ids(campaign: ReviewCampaign) -> list[int]:
    return list(campaign.questionnaire.items.order_by("position").values_list("pk", flat=True))


def token_for(org: OrgTree, campaign: ReviewCampaign, group: str = "service_users") -> str:
    return invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_a, group=group, count=1)[0]


def submit(client: Client, token: str, answers: dict[str, str]) -> Any:
    page = client.get(f"/reviews/t/{token}/")
    assert page.status_code == 200
    csrf = client.cookies["csrftoken"].value
    return client.post(f"/reviews/t/{token}/", {"csrfmiddlewaretoken": csrf, **answers})


# --- the public questionnaire ------------------------------------------------------------------------


def test_the_questionnaire_is_answered_without_login_or_javascript(org, campaign):
    token = token_for(org, campaign)
    client = public_client()
    page = client.get(f"/reviews/t/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("max-age=0")
    assert "甲科" in html and "服务对象" in html
    assert "被上级推广（20分）" in html and "无创新（0分）" in html  # the anchored levels
    assert html.count('type="radio"') == 3 * 5 and "<script" not in html
    assert 'name="viewport"' in html and "reviews/reviews.css" in html
    first, second, third = item_ids(campaign)
    response = submit(client, token, {f"item_{first}": "5", f"item_{second}": "4", f"item_{third}": "3"})
    assert response.status_code == 302 and response.headers["Location"] == "/reviews/thanks/"
    thanks = client.get(response.headers["Location"]).content.decode()
    assert "感谢您的评价" in thanks
    stored = Response.objects.get()
    assert stored.mean == 4.0 and sorted(stored.answers.values_list("score", flat=True)) == [3, 4, 5]


def test_a_used_token_gets_a_clear_page_and_cannot_answer_twice(org, campaign):
    token = token_for(org, campaign)
    client = public_client()
    answers = {f"item_{pk}": "4" for pk in item_ids(campaign)}
    assert submit(client, token, answers).status_code == 302
    again = client.get(f"/reviews/t/{token}/")
    assert again.status_code == 410
    assert "这个链接已经提交过问卷，每个链接只能使用一次" in again.content.decode()
    csrf = client.cookies["csrftoken"].value
    posted = client.post(f"/reviews/t/{token}/", {"csrfmiddlewaretoken": csrf, **answers})
    assert posted.status_code == 410 and Response.objects.count() == 1


def test_an_unknown_token_gets_a_clear_page(org, campaign):
    page = public_client().get("/reviews/t/no-such-token/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "链接无效" in html and "没有找到这份问卷邀请" in html


def test_a_closed_campaign_says_so(org, campaign):
    token = token_for(org, campaign)
    campaign_close(actor=org.director, campaign=campaign)
    page = public_client().get(f"/reviews/t/{token}/")
    assert page.status_code == 403 and "本次测评尚未开始或已经结束" in page.content.decode()


def test_a_missing_answer_shows_the_form_again_with_the_answers_kept(org, campaign):
    token = token_for(org, campaign)
    client = public_client()
    first, _second, third = item_ids(campaign)
    page = submit(client, token, {f"item_{first}": "5", f"item_{third}": "9"})
    html = page.content.decode()
    assert page.status_code == 400 and "还有2题没有作答" in html
    assert re.search(rf'name="item_{first}" value="5" checked', html)
    assert html.count("rv-missing") == 2
    assert not Response.objects.exists() and not Invitation.objects.get().used


def test_the_form_needs_its_csrf_token(org, campaign):
    token = token_for(org, campaign)
    answers = {f"item_{pk}": "4" for pk in item_ids(campaign)}
    assert public_client().post(f"/reviews/t/{token}/", answers).status_code == 403
    assert not Response.objects.exists()


# --- results for officials -----------------------------------------------------------------------------


def test_results_below_the_minimum_are_not_shown_on_the_page_or_in_the_api(org, campaign):
    answer(campaign, org.dept_a, "service_users", [4, 4, 4, 4, 4])
    answer(campaign, org.dept_a, "peers", [2, 2, 2, 2])  # four peers
    client = client_for(org.director)
    html = client.get(f"/reviews/{campaign.pk}/").content.decode()
    peers_row = re.search(r'<tr data-group="peers">(.*?)</tr>', html, re.S)
    assert peers_row is not None
    assert "不足5人，不显示" in peers_row.group(1) and ">4<" not in peers_row.group(1)
    assert "不完整" in html and 'data-testid="unit-score">75.0<' in html  # service users alone
    body = client.get(f"/api/reviews/campaigns/{campaign.pk}/results").json()
    dept_a = next(u for u in body["units"] if u["unit_code"] == "DA")
    peers = next(g for g in dept_a["groups"] if g["group"] == "peers")
    assert peers == {
        "group": "peers",
        "label": "同级部门",
        "weight": 10.0,
        "min_respondents": 5,
        "withheld": True,
        "note": "不足5人，不显示",
        "count": None,
        "mean": None,
        "score": None,
        "share": None,
    }
    users = next(g for g in dept_a["groups"] if g["group"] == "service_users")
    assert users["count"] == 5 and users["score"] == 75.0 and users["share"] == 1.0
    assert dept_a["score"] == 75.0 and dept_a["incomplete"] is True
    assert set(dept_a["withheld"]) == {"superiors", "peers", "self", "third_party"}


def test_a_department_head_cannot_see_another_departments_campaign(org, questionnaire):
    only_a = campaign_open(actor=org.director, campaign=make_campaign(org, questionnaire, [org.dept_a]))
    head_a, head_b = client_for(org.head_a), client_for(org.head_b)
    assert head_a.get(f"/reviews/{only_a.pk}/").status_code == 200
    assert head_a.get(f"/api/reviews/campaigns/{only_a.pk}/results").status_code == 200
    assert head_b.get(f"/reviews/{only_a.pk}/").status_code == 404
    api = head_b.get(f"/api/reviews/campaigns/{only_a.pk}/results")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert only_a.name in head_a.get("/reviews/").content.decode()
    assert only_a.name not in head_b.get("/reviews/").content.decode()
    assert [c["id"] for c in head_b.get("/api/reviews/campaigns").json()] == []
    assert head_b.post(f"/reviews/{only_a.pk}/close/").status_code == 404


def test_the_director_rechecks_a_flagged_response_through_the_page(org, campaign):
    responses = answer(campaign, org.dept_a, "service_users", [4, 4, 4, 4, 4, 1])
    flagged = responses[-1]
    director, head_a = client_for(org.director), client_for(org.head_a)
    html = director.get(f"/reviews/{campaign.pk}/").content.decode()
    assert f'data-response="{flagged.pk}"' in html and 'name="outcome" value="excluded"' in html
    head_page = head_a.get(f"/reviews/{campaign.pk}/").content.decode()
    assert "1份待复核" in head_page and 'data-testid="flagged"' not in head_page  # no individual answers
    url = f"/reviews/{campaign.pk}/responses/{flagged.pk}/recheck/"
    assert head_a.post(url, {"outcome": "excluded", "reason": "越权"}).status_code == 404
    refused = director.post(url, {"outcome": "excluded", "reason": ""}, follow=True)
    assert "a reason is required" in refused.content.decode()
    done = director.post(url, {"outcome": "excluded", "reason": "经核实为误填"}, follow=True)
    assert "已剔除该答卷" in done.content.decode() and 'data-testid="no-flagged"' in done.content.decode()
    flagged.refresh_from_db()
    assert flagged.recheck == RecheckOutcome.EXCLUDED and flagged.recheck_reason == "经核实为误填"


def test_the_director_opens_issues_links_that_work_and_closes(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    director = client_for(org.director)
    assert "开始测评" in director.get(f"/reviews/{campaign.pk}/").content.decode()
    director.post(f"/reviews/{campaign.pk}/open/")
    campaign.refresh_from_db()
    assert campaign.status == "open"
    page = director.post(
        f"/reviews/{campaign.pk}/invitations/", {"unit": org.dept_a.pk, "group": "self", "count": "3"}
    )
    links = re.findall(r'<a href="(http://testserver/reviews/t/[^"]+/)">', page.content.decode())
    assert page.status_code == 200 and len(links) == 3 and Invitation.objects.count() == 3
    assert public_client().get(links[0]).status_code == 200
    bad = director.post(
        f"/reviews/{campaign.pk}/invitations/", {"unit": org.dept_a.pk, "group": "x", "count": "0"}
    )
    assert bad.status_code == 302 and Invitation.objects.count() == 3
    director.post(f"/reviews/{campaign.pk}/close/")
    campaign.refresh_from_db()
    assert campaign.status == "closed"


def test_the_results_page_reads_in_a_fixed_number_of_queries(org, campaign, django_assert_max_num_queries):
    for unit in (org.dept_a, org.dept_b):
        for group in ("service_users", "peers", "third_party"):
            answer(campaign, unit, group, [4, 5, 4, 3, 4, 1])
    director = client_for(org.director)
    with django_assert_max_num_queries(20):
        page = director.get(f"/reviews/{campaign.pk}/")
    assert page.status_code == 200 and page.content.decode().count('data-testid="flagged"') == 6


# --- admin and English ---------------------------------------------------------------------------------


def test_the_admin_refuses_weights_outside_their_ranges(org, questionnaire):
    client = client_for(org.admin)
    assert client.get("/admin/reviews/reviewcampaign/add/").status_code == 200
    data = {
        "centre": org.centre.pk,
        "name": "后台创建",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "questionnaire": questionnaire.pk,
        "units": [org.dept_a.pk],
        "min_respondents": "5",
        "outlier_points": "1.5",
        "outlier_sd": "2",
        "groups-TOTAL_FORMS": "5",
        "groups-INITIAL_FORMS": "0",
        "groups-MIN_NUM_FORMS": "0",
        "groups-MAX_NUM_FORMS": "5",
    }
    weights = {"service_users": "70", "superiors": "25", "peers": "10", "self": "5", "third_party": "10"}
    for i, (group, weight) in enumerate(weights.items()):
        data[f"groups-{i}-group"] = group
        data[f"groups-{i}-weight"] = weight
    refused = client.post("/admin/reviews/reviewcampaign/add/", data)
    html = refused.content.decode()
    assert refused.status_code == 200 and "weight 70% is outside 40–60%" in html and "add up to 120%" in html
    data["groups-0-weight"] = "50"
    assert client.post("/admin/reviews/reviewcampaign/add/", data).status_code == 302
    created = ReviewCampaign.objects.get(name="后台创建")
    assert created.groups.count() == 5 and list(created.units.all()) == [org.dept_a]
    assert verify_chain().ok  # logged with its units and weights


def test_the_review_pages_are_available_in_english(org, campaign, english):
    answer(campaign, org.dept_a, "peers", [3, 3])
    client = client_for(org.director)
    client.cookies["django_language"] = "en"
    html = client.get(f"/reviews/{campaign.pk}/").content.decode()
    assert "Fewer than 5 respondents: not shown" in html and "Rater group" in html
    assert "不足5人" not in html and "评价主体" not in html
    listing = client.get("/reviews/").content.decode()
    assert "Multi-rater reviews" in listing
    public = public_client()
    public.cookies["django_language"] = "en"
    assert "Link not valid" in public.get("/reviews/t/nothing/").content.decode()
