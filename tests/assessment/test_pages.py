"""The assessment pages through the Django test client: scoping of results, the records behind a
line, and entering manual values (refused out of range, nothing stored)."""

from __future__ import annotations

import pytest
from django.test import Client

from kaoping.assessment.models import ManualEntry
from kaoping.assessment.rollups import rollups_rebuild
from kaoping.assessment.services import assessment_publish, assessment_run, manual_code_define
from tests.assessment.conftest import World, make_case, make_rating


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=f"pw-{username}")
    return client


@pytest.fixture
def published(world: World) -> int:
    for n in range(10):
        make_case(world, world.org.window_a, f"2026-03-{2 + n:02d}T09:00", acceptance_late=n < 2)
        make_rating(world.org.window_a, f"2026-03-{2 + n:02d}T10:00", 5 if n else 1)
        make_rating(world.org.window_b, f"2026-03-{2 + n:02d}T10:00", 5)
    rollups_rebuild(days=None)
    run = assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")
    assessment_publish(actor=world.org.director, assessment=run)
    return run.pk


def test_results_are_scoped_and_other_units_are_not_found(world: World, published: int):
    head = _client("head_a")
    page = head.get(f"/assessment/{published}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-unit="WA"' in text and 'data-unit="WB"' not in text
    assert head.get(f"/assessment/{published}/u/WB/").status_code == 404
    director = _client("director").get(f"/assessment/{published}/").content.decode()
    assert 'data-unit="WA"' in director and 'data-unit="WB"' in director


def test_the_records_behind_a_lost_point(world: World, published: int):
    page = _client("head_a").get(f"/assessment/{published}/u/WA/acceptance_on_time/")
    assert page.status_code == 200
    table = page.content.decode().split('data-testid="records"')[1]
    assert table.count('href="/cases/') == 2  # the two cases accepted late, each linked


def test_manual_values_are_entered_with_evidence_and_refused_out_of_range(world: World):
    manual_code_define(
        actor=world.org.admin, code="training_pass_rate", name="服务技能考核合格率", low=0, high=100
    )
    head = _client("head_a")
    refused = head.post(
        "/assessment/manual/",
        {
            "unit": world.org.window_a.pk,
            "code": "training_pass_rate",
            "period": "2026-03",
            "value": "120",
            "evidence": "考试成绩单",
        },
    )
    assert refused.status_code == 400 and "outside the allowed range" in refused.content.decode()
    assert not ManualEntry.objects.exists()
    outside = head.post(
        "/assessment/manual/",
        {
            "unit": world.org.window_b.pk,
            "code": "training_pass_rate",
            "period": "2026-03",
            "value": "90",
            "evidence": "考试成绩单",
        },
    )
    assert outside.status_code == 400 and not ManualEntry.objects.exists()  # B is not head A's unit
    done = head.post(
        "/assessment/manual/",
        {
            "unit": world.org.window_a.pk,
            "code": "training_pass_rate",
            "period": "2026-03",
            "value": "92.5",
            "evidence": "考试成绩单",
        },
    )
    assert done.status_code == 302
    entry = ManualEntry.objects.get()
    assert (entry.value, entry.period_start.isoformat(), entry.entered_by) == (
        92.5,
        "2026-03-01",
        world.org.head_a,
    )


def test_the_records_say_how_late_each_case_and_ticket_was(world: World):
    from kaoping.cases.services import cases_ingest

    base = {
        "source": "feed",
        "matter": "M-COM",
        "unit": "WA",
        "channel": "window",
        "applicant_kind": "person",
    }
    records = [
        {**base, "type": "case", "id": "LATE-1", "received_at": "2026-03-02T09:00:00+08:00"},
        {
            "type": "event",
            "source": "feed",
            "id": "LATE-1/a",
            "case": "LATE-1",
            "event": "arrived",
            "at": "2026-03-02T09:00:00+08:00",
        },
        # 50 working minutes to acceptance against a limit of 30: 167 % of the limit used.
        {
            "type": "event",
            "source": "feed",
            "id": "LATE-1/b",
            "case": "LATE-1",
            "event": "accepted",
            "at": "2026-03-02T09:50:00+08:00",
        },
    ]
    report = cases_ingest(
        actor="test", records=[(f"line {n}", r) for n, r in enumerate(records, 1)], label="t"
    )
    assert report.accepted == 3 and not report.rejected
    rollups_rebuild(days=None)
    run = assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")
    assessment_publish(actor=world.org.director, assessment=run)
    page = _client("head_a").get(f"/assessment/{run.pk}/u/WA/acceptance_on_time/")
    table = page.content.decode().split('data-testid="records"')[1]
    assert "LATE-1" in table
    assert "受理用时 167%（时限 30个工作分钟）" in table
