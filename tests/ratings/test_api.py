"""The ratings API: terminals post ratings with a token and declared codes; figures; case links."""

from __future__ import annotations

import json

from django.test import Client

from kaoping.cases.models import Case
from kaoping.core.models import ApiToken
from kaoping.ratings.models import Rating
from tests.ratings.conftest import rating


def post(client: Client, records: list[dict[str, object]], token: str, codes: str | None = "provincial"):
    query = f"?codes={codes}" if codes else ""
    return client.post(
        f"/api/ratings/records{query}",
        json.dumps(records),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_hall_terminal_posts_ratings_with_a_token_and_declared_codes(rated_org):
    _, key = ApiToken.issue(user=rated_org.head_a, name="大厅评价器")
    client = Client()
    assert post(client, [rating()], key, codes=None).status_code == 422  # the convention is never guessed
    assert post(client, [rating()], key, codes="guess").status_code == 422
    done = post(client, [rating("R1"), rating("R2", case="C2", level=9)], key)
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["accepted"] == 1 and body["duplicates"] == 0
    assert body["rejected"] == [
        {
            "where": "record 1",
            "id": "R2",
            "reason": "level: 9 is not a level code: codes run from 1 to 5 (codes read as provincial)",
        }
    ]
    assert post(client, [rating("R1")], key).json()["duplicates"] == 1
    outside = post(client, [rating("R9", case=None, unit="WB")], key).json()
    assert outside["rejected"][0]["reason"] == "unit: unknown unit 'WB'"
    assert post(client, [rating("R8")], "wrong").status_code == 401
    assert Rating.objects.count() == 1


def test_figures_and_links_are_scoped(rated_org):
    _, key = ApiToken.issue(user=rated_org.head_a, name="报表")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    post(client, [rating("R1", level=1), rating("R2", case="C2", level=4)], key)
    figures = client.get(f"/api/ratings/figures?unit={rated_org.window_a.pk}&start=2026-03-01&end=2026-03-31")
    assert figures.status_code == 200, figures.content
    body = figures.json()
    assert body["totals"]["total"] == 2 and body["totals"]["bad"] == 1
    assert body["totals"]["satisfaction_rate"] == 0.5 and body["follow_up"]["bad_ratings"] == 1
    assert body["follow_up"]["revisit_rate"] == 0.0
    assert client.get(f"/api/ratings/figures?unit={rated_org.window_b.pk}").status_code == 404
    bad_period = client.get("/api/ratings/figures?start=2026-13-01")
    assert bad_period.status_code == 400 and bad_period.json()["error"]["message"].startswith("from")
    case = Case.objects.get(external_id="C1")
    link = client.post(
        "/api/ratings/links", json.dumps({"case_id": case.pk}), content_type="application/json"
    )
    assert link.status_code == 200 and "/r/c/" in link.json()["url"]
    head_b = ApiToken.issue(user=rated_org.head_b, name="x")[1]
    other = Client(headers={"Authorization": f"Bearer {head_b}"})
    assert (
        other.post(
            "/api/ratings/links", json.dumps({"case_id": case.pk}), content_type="application/json"
        ).status_code
        == 404
    )
