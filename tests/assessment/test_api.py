"""The assessment API: runs and publication by the director, results scoped to the caller, clear
refusals, exemptions and re-checks that change a later result, and the records behind a line."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AbstractUser, User
from django.test import Client

from kaoping.assessment.models import Assessment, AssessmentStatus, Exemption, Recheck
from kaoping.assessment.rollups import rollups_rebuild
from tests.assessment.conftest import World, make_rating

PHONE = "13812345678"


def client_for(user: AbstractUser) -> Client:
    client = Client()
    client.force_login(cast(User, user))  # the project's user model is Django's own
    return client


def _ratings(world: World) -> None:
    """Window A: 95 of 100 satisfied (−6 points on satisfaction), the 5 bad ones real-name with a phone
    number in their comment; window B: all satisfied."""
    for n in range(100):
        rating = make_rating(
            world.org.window_a, f"2026-03-{2 + n % 20:02d}T10:00", 5 if n >= 5 else 1, real_name=n < 5
        )
        if n < 5:
            rating.rater_name = "张三丰"
            rating.rater_phone = PHONE
            rating.text = f"等了很久，请回电 {PHONE}"
            rating.save()
    for n in range(50):
        make_rating(world.org.window_b, f"2026-03-{2 + n % 20:02d}T11:00", 5)
    rollups_rebuild(days=None)


def _run(client: Client, **body: Any) -> Any:
    return client.post(
        "/api/assessments", {"scheme": "window", "period": "2026-03", **body}, content_type="application/json"
    )


def _line(result: dict[str, Any], indicator: str) -> dict[str, Any]:
    return next(line for line in result["lines"] if line["indicator"] == indicator)


def test_the_director_runs_and_publishes_through_the_api(world: World):
    _ratings(world)
    director = client_for(world.org.director)
    created = _run(director, reason="月度考核")
    assert created.status_code == 201, created.content
    run = created.json()
    assert (run["scheme"], run["period"], run["status"], run["reason"]) == (
        "window",
        "2026-03",
        "computed",
        "月度考核",
    )
    assert (run["period_start"], run["period_end"]) == ("2026-03-01", "2026-03-31")
    results = {r["unit"]: r for r in run["results"]}
    assert set(results) >= {"WA", "WB", "WC"} and run["units"] == len(results)
    wa = results["WA"]
    assert {"total", "grade", "rank", "percentile", "vetoed", "complete", "lines"} <= set(wa)
    satisfaction = _line(wa, "satisfaction")
    assert satisfaction["value"] == "95.0000" and satisfaction["deducted"] == "6.00"
    assert float(results["WB"]["total"]) > float(wa["total"])

    listed = director.get("/api/assessments", {"scheme": "window", "period": "2026-03"}).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]] and listed["next_offset"] is None
    assert director.get("/api/assessments", {"status": "published"}).json()["items"] == []

    published = director.post(f"/api/assessments/{run['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["published_by"] == world.org.director.username
    again = director.post(f"/api/assessments/{run['id']}/publish")
    assert again.status_code == 400 and "only the latest computed run" in again.json()["error"]["why"]
    assert [r["id"] for r in director.get("/api/assessments?status=published").json()["items"]] == [run["id"]]
    detail = director.get(f"/api/assessments/{run['id']}").json()
    assert detail["status"] == "published" and len(detail["results"]) == len(results)


def test_the_list_is_paged(world: World):
    director = client_for(world.org.director)
    ids = [_run(director).json()["id"] for _ in range(3)]
    first = director.get("/api/assessments", {"limit": 2}).json()
    assert [r["id"] for r in first["items"]] == ids[::-1][:2] and first["next_offset"] == 2
    rest = director.get("/api/assessments", {"limit": 2, "offset": 2}).json()
    assert [r["id"] for r in rest["items"]] == [ids[0]] and rest["next_offset"] is None
    assert [r["status"] for r in first["items"]] == ["computed", "superseded"]
    assert director.get("/api/assessments", {"limit": 500}).status_code == 422
    bad = director.get("/api/assessments", {"status": "done"})
    assert bad.status_code == 400 and bad.json()["error"]["what"] == "status"


def test_a_department_head_sees_only_their_units_results(world: World):
    _ratings(world)
    run = _run(client_for(world.org.director)).json()
    head = client_for(world.org.head_a)
    assert [r["id"] for r in head.get("/api/assessments").json()["items"]] == [run["id"]]
    detail = head.get(f"/api/assessments/{run['id']}")
    assert detail.status_code == 200
    assert [r["unit"] for r in detail.json()["results"]] == ["WA"]
    base = f"/api/assessments/{run['id']}/results"
    assert head.get(f"{base}/WA/lines/satisfaction/records").status_code == 200
    assert head.get(f"{base}/WB/lines/satisfaction/records").status_code == 404  # another department's
    assert head.get(f"{base}/WA/lines/no_such_indicator/records").status_code == 404
    assert head.get("/api/assessments/999999").status_code == 404
    window_staff = client_for(world.org.staff_a)  # reads window A's own result only
    assert [r["unit"] for r in window_staff.get(f"/api/assessments/{run['id']}").json()["results"]] == ["WA"]
    unauthenticated = Client().get(f"/api/assessments/{run['id']}")
    assert unauthenticated.status_code == 401


def test_bad_input_is_refused_clearly_and_stores_nothing(world: World):
    director = client_for(world.org.director)
    unknown = _run(director, scheme="no_such_scheme")
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert (error["what"], error["where"]) == ("scheme", "no_such_scheme") and "window" in error["why"]
    bad_period = _run(director, period="2026-13")
    assert bad_period.status_code == 400 and bad_period.json()["error"]["what"] == "period"
    wrong_kind = _run(director, period="2026-Q1")  # the window scheme is monthly
    assert wrong_kind.status_code == 400 and "month" in wrong_kind.json()["error"]["why"]
    refused = _run(client_for(world.org.head_a))
    assert refused.status_code == 403
    assert refused.json()["error"]["why"] == "only the centre director decides this"
    missing = director.post("/api/assessments", {"period": "2026-03"}, content_type="application/json")
    assert missing.status_code == 422
    assert Assessment.objects.count() == 0


def test_an_exemption_and_a_recheck_through_the_api_change_a_later_result(world: World):
    _ratings(world)
    director, head = client_for(world.org.director), client_for(world.org.head_a)
    run = _run(director).json()
    before = next(r for r in run["results"] if r["unit"] == "WA")
    base = f"/api/assessments/{run['id']}/results/WA"
    # A re-check waits for publication; only the director approves exemptions.
    early = head.post(f"{base}/rechecks", {"reason": "满意率有误"}, content_type="application/json")
    assert early.status_code == 400 and "only a published result" in early.json()["error"]["why"]
    assert director.post(f"/api/assessments/{run['id']}/publish").status_code == 200
    asked = head.post(
        f"{base}/rechecks", {"reason": "差评集中于评价器故障时段"}, content_type="application/json"
    )
    assert asked.status_code == 201, asked.content
    recheck = asked.json()
    assert (recheck["status"], recheck["unit"], recheck["requested_by"]) == ("requested", "WA", "head_a")
    assert (
        client_for(world.org.head_b)
        .post(
            f"/api/assessments/{run['id']}/results/WA/rechecks",
            {"reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 404
    )
    exemption_body = {"indicator": "satisfaction", "deduction_key": "shortfall", "reason": "评价器故障"}
    forbidden = head.post(f"{base}/exemptions", exemption_body, content_type="application/json")
    assert forbidden.status_code == 403 and not Exemption.objects.exists()
    no_such = director.post(
        f"{base}/exemptions", exemption_body | {"deduction_key": "nope"}, content_type="application/json"
    )
    assert no_such.status_code == 404 and "no such deduction" in no_such.json()["error"]["why"]
    approved = director.post(f"{base}/exemptions", exemption_body, content_type="application/json")
    assert approved.status_code == 201, approved.content
    assert approved.json()["approved_by"] == world.org.director.username
    # The stored run is unchanged; the decision recomputes and republishes.
    assert director.get(f"/api/assessments/{run['id']}").json()["results"] == run["results"]
    decision = f"/api/assessments/rechecks/{recheck['id']}/decision"
    by_head = head.post(decision, {"changed": True, "outcome": "更正"}, content_type="application/json")
    assert by_head.status_code == 403
    decided = director.post(
        decision, {"changed": True, "outcome": "核实属实，予以免责"}, content_type="application/json"
    )
    assert decided.status_code == 200, decided.content
    outcome = decided.json()
    assert outcome["status"] == "changed" and outcome["decided_by"] == world.org.director.username
    assert float(outcome["new_total"]) > float(before["total"])
    new_run = director.get(f"/api/assessments/{outcome['new_assessment']}").json()
    assert new_run["status"] == "published" and new_run["id"] != run["id"]
    wa = next(r for r in new_run["results"] if r["unit"] == "WA")
    line = _line(wa, "satisfaction")
    assert line["deducted"] == "0" and line["exempted"][0]["key"] == "shortfall"
    assert director.get(f"/api/assessments/{run['id']}").json()["status"] == AssessmentStatus.SUPERSEDED
    assert Recheck.objects.get().new_result is not None
    twice = director.post(decision, {"changed": False, "outcome": "维持"}, content_type="application/json")
    assert twice.status_code == 400 and "already decided" in twice.json()["error"]["why"]
    assert (
        director.post(
            "/api/assessments/rechecks/999999/decision",
            {"changed": False, "outcome": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_the_records_behind_the_satisfaction_line_are_the_bad_ratings_masked(world: World):
    _ratings(world)
    run = _run(client_for(world.org.director)).json()
    path = f"/api/assessments/{run['id']}/results/WA/lines/satisfaction/records"
    head = client_for(world.org.head_a)
    page = head.get(path).json()
    assert (page["indicator"], page["metric"]) == ("satisfaction", "satisfaction_rate")
    items = page["items"]
    assert len(items) == 5 and page["next_offset"] is None
    assert {item["kind"] for item in items} == {"rating"} and {item["unit"] for item in items} == {"WA"}
    assert all(item["description"].startswith("非常不满意") for item in items)
    assert all(item["at"].startswith("2026-03-0") for item in items)
    text = " ".join(item["description"] for item in items)
    assert PHONE not in text and "138****5678" in text and "张**" in text and "张三丰" not in text
    # The director's role sees personal data; paging is limit/offset with at most 200.
    director_page = client_for(world.org.director).get(path, {"limit": 2}).json()
    assert len(director_page["items"]) == 2 and director_page["next_offset"] == 2
    assert PHONE in director_page["items"][0]["description"]
    rest = client_for(world.org.director).get(path, {"limit": 2, "offset": 4}).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert head.get(path, {"limit": 201}).status_code == 422
    # Window B has no bad rating: nothing behind its full points.
    wb = client_for(world.org.director).get(path.replace("/WA/", "/WB/")).json()
    assert wb["items"] == []
