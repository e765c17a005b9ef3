"""The demo campaign: closed, realistic, with a thin turnout in one department and two outliers."""

from __future__ import annotations

import datetime as dt

from kaoping.evidence.verify import verify_chain
from kaoping.reviews import selectors
from kaoping.reviews.demo import load_demo_reviews, previous_quarter
from kaoping.reviews.models import CampaignStatus, Response, ReviewCampaign


def test_previous_quarter():
    assert previous_quarter(dt.date(2026, 5, 20)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert previous_quarter(dt.date(2026, 1, 3)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))


def test_the_demo_campaign_is_closed_realistic_and_loads_once(org):
    load_demo_reviews(actor=org.admin, centre=org.centre)
    campaign = ReviewCampaign.objects.get()
    assert campaign.status == CampaignStatus.CLOSED
    assert list(campaign.units.order_by("path")) == [org.dept_a, org.dept_b]
    innovation = campaign.questionnaire.items.get(text__startswith="创新工作")
    assert innovation.anchors == {
        5: "有创新举措并被上级推广或获表彰（计20分）",
        3: "有改进措施并在本单位落地见效（计10分）",
        1: "无创新举措（计0分）",
    }
    assert campaign.questionnaire.items.count() == 6
    # Two outliers await re-check: the all-1s service user of DA, the all-5s peer of DB.
    flagged = Response.objects.filter(flagged=True).order_by("unit__path")
    assert [(r.unit.code, r.group, r.mean) for r in flagged] == [
        ("DA", "service_users", 1.0),
        ("DB", "peers", 5.0),
    ]
    results = selectors.campaign_results(user=org.director, campaign=campaign)
    dept_a, dept_b = results.units
    assert not dept_a.incomplete and dept_a.score is not None and 50 < dept_a.score < 95
    assert set(dept_b.withheld) == {"service_users", "third_party"}  # 4 and 3 answered, fewer than 5
    assert dept_b.score is not None and dept_b.score != dept_a.score
    assert len(results.awaiting_recheck) == 2
    score = selectors.review_score(
        unit_id=org.dept_a.pk, start=campaign.period_start, end=campaign.period_end
    )
    assert score == dept_a.score
    count = Response.objects.count()
    load_demo_reviews(actor=org.admin, centre=org.centre)
    assert ReviewCampaign.objects.count() == 1 and Response.objects.count() == count
    assert verify_chain().ok
