"""Review campaigns through the services and selectors: refusals, anonymity, outliers and re-checks,
scoping, the evidence log and the metric for the assessment engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import models

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User
from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain
from kaoping.org.models import Unit
from kaoping.reviews import selectors
from kaoping.reviews.models import (
    Answer,
    CampaignStatus,
    Invitation,
    RecheckOutcome,
    Response,
    ReviewCampaign,
)
from kaoping.reviews.services import (
    InvitationError,
    ItemSpec,
    TokenProblem,
    campaign_close,
    campaign_create,
    campaign_open,
    invitations_issue,
    questionnaire_create,
    response_recheck,
    response_submit,
)
from tests.reviews.helpers import WEIGHTS, answer, make_campaign


def item_ids(campaign: ReviewCampaign) -> list[int]:
    return list(campaign.questionnaire.items.order_by("position").values_list("pk", flat=True))


def all_items(campaign: ReviewCampaign, level: int) -> dict[int, int]:
    return {pk: level for pk in item_ids(campaign)}


def one_token(org, campaign, group="service_users", unit=None) -> str:
    return invitations_issue(
        actor=org.director, campaign=campaign, unit=unit or org.dept_a, group=group, count=1
    )[0]


# --- creating campaigns ----------------------------------------------------------------------------


def test_weights_outside_their_ranges_are_refused_with_every_problem_listed(org, questionnaire):
    weights = {"service_users": 70, "superiors": 10, "peers": 10, "self": 12}
    with pytest.raises(KaopingError) as refused:
        make_campaign(org, questionnaire, [org.dept_a], weights=weights)
    assert refused.value.code is ErrorCode.INVALID
    why = refused.value.why
    for problem in (
        "service_users (服务对象) weight 70% is outside 40–60%",
        "superiors (上级领导) weight 10% is outside 20–30%",
        "self (自评) weight 12% is outside 5–10%",
        "third_party (第三方) weight 0% is outside 5–15%",
        "the weights add up to 102%, not 100%",
    ):
        assert problem in why
    assert "peers" not in why  # 10% is inside 10–20%
    assert not ReviewCampaign.objects.exists()


def test_every_other_problem_of_a_campaign_is_listed_too(org, questionnaire):
    other = questionnaire_create(actor=org.admin, centre=org.centre, name="空问卷", items=[ItemSpec("甲")])
    other.items.all().delete()
    with pytest.raises(KaopingError) as refused:
        make_campaign(
            org,
            other,
            [org.dept_a, org.window_b, org.dept_a],
            name=" ",
            period_start=dt.date(2026, 3, 31),
            period_end=dt.date(2026, 1, 1),
            min_respondents=2,
            weights=WEIGHTS | {"peers": "ten"},
        )
    why = refused.value.why
    for problem in (
        "a name is required",
        "the period ends (2026-01-01) before it starts (2026-03-31)",
        "weight 'ten' of peers is not a number",
        "at least 3 respondents must be required",
        "questionnaire '空问卷' has no items",
        "甲科 is listed twice",
        "乙窗口 is not a department",
    ):
        assert problem in why


def test_only_a_writing_role_over_the_centre_creates_campaigns(org, questionnaire):
    with pytest.raises(KaopingError) as refused:
        campaign_create(
            actor=org.head_a,
            centre=org.centre,
            name="越权",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 3, 31),
            questionnaire=questionnaire,
            units=[org.dept_a],
            weights=WEIGHTS,
        )
    assert refused.value.code is ErrorCode.FORBIDDEN
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    with pytest.raises(KaopingError) as refused:
        campaign_open(actor=org.head_a, campaign=campaign)
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(KaopingError):
        invitations_issue(actor=org.auditor, campaign=campaign, unit=org.dept_a, group="peers", count=1)


def test_a_campaign_goes_from_draft_to_open_to_closed_and_not_back(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    assert campaign.status == CampaignStatus.DRAFT
    with pytest.raises(KaopingError, match="only an open campaign can be closed"):
        campaign_close(actor=org.director, campaign=campaign)
    campaign = campaign_open(actor=org.director, campaign=campaign)
    with pytest.raises(KaopingError, match="only a draft can be opened"):
        campaign_open(actor=org.director, campaign=campaign)
    campaign = campaign_close(actor=org.director, campaign=campaign)
    assert campaign.status == CampaignStatus.CLOSED and campaign.closed_at is not None
    with pytest.raises(KaopingError, match="the campaign is closed"):
        invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_a, group="peers", count=3)


def test_a_draft_emptied_in_the_admin_cannot_be_opened(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    campaign.units.clear()
    questionnaire.items.all().delete()
    with pytest.raises(KaopingError) as refused:
        campaign_open(actor=org.director, campaign=campaign)
    assert refused.value.why == "questionnaire '科室测评问卷' has no items; no department is reviewed"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_invitations_are_refused_for_units_groups_and_counts_outside_the_campaign(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    with pytest.raises(KaopingError) as refused:
        invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_b, group="citizens", count=0)
    assert "乙科 is not reviewed in this campaign" in refused.value.why
    assert "'citizens' is not a rater group" in refused.value.why
    assert "between 1 and 500 invitations at a time, not 0" in refused.value.why
    assert not Invitation.objects.exists()


# --- answering -------------------------------------------------------------------------------------


def test_a_token_answers_once_and_only_its_hash_is_stored(org, campaign):
    token = one_token(org, campaign)
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert Invitation.objects.filter(token_hash=Invitation.hash(token)).exists()
    response = response_submit(token=token, answers=all_items(campaign, 4))
    assert response.unit == org.dept_a and response.group == "service_users" and response.mean == 4.0
    with pytest.raises(InvitationError) as refused:
        response_submit(token=token, answers=all_items(campaign, 5))
    assert refused.value.problem is TokenProblem.USED
    assert Response.objects.count() == 1


def test_an_unknown_token_is_refused(org, campaign):
    with pytest.raises(InvitationError) as refused:
        response_submit(token="not-a-token", answers=all_items(campaign, 4))
    assert refused.value.problem is TokenProblem.UNKNOWN and refused.value.code is ErrorCode.NOT_FOUND


def test_levels_outside_1_to_5_and_missing_items_are_refused_and_leave_the_token_usable(org, campaign):
    token = one_token(org, campaign)
    first, second, third = item_ids(campaign)
    with pytest.raises(KaopingError) as refused:
        response_submit(token=token, answers={first: 6, second: 0})
    assert (
        refused.value.why
        == "item 1: 6 is not a level from 1 to 5; item 2: 0 is not a level from 1 to 5; "
        + ("item 3 is not answered")
    )
    with pytest.raises(KaopingError, match="is not in this questionnaire"):
        response_submit(token=token, answers=all_items(campaign, 3) | {99999: 3})
    assert not Response.objects.exists()
    assert not Invitation.objects.get().used
    response_submit(token=token, answers={first: 5, second: 4, third: 3})
    assert Response.objects.get().mean == 4.0


def test_a_campaign_that_is_not_open_takes_no_answers(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    token = one_token(org, campaign)
    with pytest.raises(InvitationError) as refused:
        response_submit(token=token, answers=all_items(campaign, 4))
    assert refused.value.problem is TokenProblem.NOT_OPEN
    campaign_open(actor=org.director, campaign=campaign)
    campaign_close(actor=org.director, campaign=campaign)
    with pytest.raises(InvitationError) as refused:
        response_submit(token=token, answers=all_items(campaign, 4))
    assert refused.value.problem is TokenProblem.NOT_OPEN
    assert not Response.objects.exists() and not Invitation.objects.get().used


def test_nothing_links_a_response_to_its_invitation(org, campaign):
    tokens = invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_a, group="peers", count=3)
    responses = [
        response_submit(token=t, answers=all_items(campaign, level))
        for t, level in zip(tokens, (2, 4, 5), strict=True)
    ]
    # No relation from a response (or its answers) to an invitation.
    for model in (Response, Answer):
        for f in model._meta.get_fields():
            assert getattr(f, "related_model", None) is not Invitation, f
    # No instant of submission: a response keeps the day; an invitation keeps whether, never when.
    response_times = {f.name for f in Response._meta.concrete_fields if isinstance(f, models.DateTimeField)}
    assert response_times == {"rechecked_at"}  # the officer's re-check, not the rater's answer
    invitation_times = {
        f.name for f in Invitation._meta.concrete_fields if isinstance(f, models.DateTimeField)
    }
    assert invitation_times == {"issued_at"}
    invitations = list(Invitation.objects.filter(group="peers"))
    assert len({i.issued_at for i in invitations}) == 1  # the batch shares its instant: it tells no one apart
    assert all(i.used for i in invitations)
    # The evidence log names the responses, never the invitations or their tokens.
    secrets = set(tokens) | {i.token_hash for i in invitations}
    entries = list(EvidenceEntry.objects.filter(action="reviews.response_submit"))
    assert [e.object_id for e in entries] == [str(r.pk) for r in responses]
    for entry in entries:
        assert entry.actor == "reviews:respondent" and entry.actor_id is None
        assert entry.object_type == "reviews.response" and entry.note == ""
        assert not any(s in entry.object_id for s in secrets)
    assert {r.submitted_on for r in responses} == {responses[0].submitted_on}
    assert isinstance(responses[0].submitted_on, dt.date) and not isinstance(
        responses[0].submitted_on, dt.datetime
    )


# --- results, outliers, re-checks ---------------------------------------------------------------------


def unit_result(
    user: User, campaign: ReviewCampaign, unit: Unit
) -> tuple[selectors.UnitResult, selectors.CampaignResults]:
    results = selectors.campaign_results(user=user, campaign=campaign)
    return next(u for u in results.units if u.unit_id == unit.pk), results


def group(result: selectors.UnitResult, name: str) -> selectors.GroupResult:
    return next(g for g in result.groups if g.group == name)


def test_groups_below_the_minimum_are_withheld_and_the_rest_renormalised(org, campaign):
    answer(campaign, org.dept_a, "service_users", [4, 4, 4, 4, 4, 4])  # 75
    answer(campaign, org.dept_a, "superiors", [5, 5, 5, 5, 5])  # 100
    answer(campaign, org.dept_a, "peers", [3, 3, 3, 3])  # four: withheld
    result, _ = unit_result(org.director, campaign, org.dept_a)
    assert group(result, "service_users").count == 6 and group(result, "service_users").score == 75.0
    peers = group(result, "peers")
    assert not peers.shown and peers.count is None and peers.mean is None and peers.min_respondents == 5
    assert result.incomplete and set(result.withheld) == {"peers", "self", "third_party"}
    assert result.score == pytest.approx((50 * 75 + 25 * 100) / 75)


def test_a_groups_own_minimum_overrides_the_campaigns(org, questionnaire):
    campaign = make_campaign(org, questionnaire, [org.dept_a], group_minimums={"self": 1})
    campaign = campaign_open(actor=org.director, campaign=campaign)
    answer(campaign, org.dept_a, "self", [5])
    result, _ = unit_result(org.director, campaign, org.dept_a)
    assert group(result, "self").shown and result.score == 100.0


def test_an_outlier_is_flagged_rechecked_and_excluded_from_the_results(org, campaign):
    responses = answer(campaign, org.dept_a, "service_users", [4, 4, 4, [4, 5, 4], 4, 1])
    dissenter = responses[-1]
    dissenter.refresh_from_db()
    assert dissenter.flagged and [r.pk for r in Response.objects.filter(flagged=True)] == [dissenter.pk]
    result, results = unit_result(org.director, campaign, org.dept_a)
    assert result.pending_recheck == 1 and [f.response_id for f in results.awaiting_recheck] == [dissenter.pk]
    flagged = results.awaiting_recheck[0]
    assert flagged.others_mean == pytest.approx((4 * 4 + 13 / 3) / 5)
    assert flagged.deviation == pytest.approx(1 - (4 * 4 + 13 / 3) / 5)
    mean_before = group(result, "service_users").mean
    assert mean_before == pytest.approx((4 * 4 + 13 / 3 + 1) / 6)

    with pytest.raises(KaopingError) as refused:
        response_recheck(actor=org.head_a, response=dissenter, outcome="excluded", reason="偏离")
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(KaopingError) as refused:
        response_recheck(actor=org.director, response=dissenter, outcome="deleted", reason=" ")
    assert "a reason is required" in refused.value.why and "not 'deleted'" in refused.value.why

    response_recheck(
        actor=org.director, response=dissenter, outcome="excluded", reason="与其他评价明显矛盾，经核实为误填"
    )
    dissenter.refresh_from_db()
    assert dissenter.recheck == RecheckOutcome.EXCLUDED and dissenter.recheck_by == org.director
    result, results = unit_result(org.director, campaign, org.dept_a)
    assert group(result, "service_users").count == 5
    assert group(result, "service_users").mean == pytest.approx((4 * 4 + 13 / 3) / 5)
    assert results.awaiting_recheck == [] and [f.recheck for f in results.rechecked] == ["excluded"]
    with pytest.raises(KaopingError, match="only a flagged response awaiting re-check"):
        response_recheck(actor=org.director, response=dissenter, outcome="kept", reason="再议")
    # The five left agree with one another: nothing else is flagged.
    assert not Response.objects.filter(flagged=True, recheck=RecheckOutcome.PENDING).exists()


def test_a_kept_outlier_still_counts(org, campaign):
    responses = answer(campaign, org.dept_a, "service_users", [5, 5, 5, 5, 5, 1])
    response_recheck(
        actor=org.director, response=responses[-1], outcome="kept", reason="服务对象确有不满，已回访核实"
    )
    result, results = unit_result(org.director, campaign, org.dept_a)
    assert group(result, "service_users").count == 6 and result.pending_recheck == 0
    assert [f.recheck_label for f in results.rechecked] == ["复核保留"]


def test_flags_are_only_raised_in_groups_that_may_be_shown(org, campaign):
    answer(campaign, org.dept_a, "peers", [5, 5, 5, 1])  # four peers: under the minimum of five
    assert not Response.objects.filter(flagged=True).exists()
    answer(campaign, org.dept_a, "peers", [5])  # the fifth
    assert list(Response.objects.filter(flagged=True).values_list("mean", flat=True)) == [1.0]


def test_closing_reflags_and_every_write_leaves_one_evidence_entry_that_verifies(org, questionnaire):
    start = EvidenceEntry.objects.count()
    campaign = make_campaign(org, questionnaire, [org.dept_a])
    campaign = campaign_open(actor=org.director, campaign=campaign)
    tokens = invitations_issue(actor=org.director, campaign=campaign, unit=org.dept_a, group="peers", count=6)
    for token, level in zip(tokens, (4, 4, 4, 4, 4, 1), strict=True):
        response_submit(token=token, answers=all_items(campaign, level))
    flagged = Response.objects.get(flagged=True)
    response_recheck(actor=org.director, response=flagged, outcome="kept", reason="核实无误")
    campaign_close(actor=org.director, campaign=campaign)
    actions = list(EvidenceEntry.objects.filter(seq__gt=start).values_list("action", flat=True))
    assert actions == [
        "reviews.campaign_create",
        "reviews.campaign_open",
        "reviews.invitations_issue",
        *["reviews.response_submit"] * 6,
        "reviews.response_recheck",
        "reviews.campaign_close",
    ]
    report = verify_chain()
    assert report.ok, report.problems


def test_a_weight_changed_behind_the_logs_back_is_caught(org, campaign):
    campaign.groups.filter(group="self").update(weight=9)
    report = verify_chain()
    assert not report.ok and "reviews.reviewcampaign" in str(report.first_bad)


# --- scoping -------------------------------------------------------------------------------------------


def test_a_department_sees_its_own_results_only_and_no_individual_response(org, campaign, questionnaire):
    only_a = campaign_open(
        actor=org.director, campaign=make_campaign(org, questionnaire, [org.dept_a], name="甲科专项测评")
    )
    answer(campaign, org.dept_b, "service_users", [4, 4, 4, 4, 4, 1])
    assert set(selectors.campaign_list(user=org.head_b)) == {campaign}
    assert set(selectors.campaign_list(user=org.head_a)) == {campaign, only_a}
    assert set(selectors.campaign_list(user=org.director)) == {campaign, only_a}
    assert not selectors.campaign_list(user=org.staff_a).exists()
    with pytest.raises(KaopingError) as refused:
        selectors.campaign_get(user=org.head_b, campaign_id=only_a.pk)
    assert refused.value.code is ErrorCode.NOT_FOUND
    results = selectors.campaign_results(user=org.head_b, campaign=campaign)
    assert [u.unit_code for u in results.units] == ["DB"] and results.units[0].pending_recheck == 1
    assert not results.may_manage and results.awaiting_recheck == []
    director = selectors.campaign_results(user=org.director, campaign=campaign)
    assert [u.unit_code for u in director.units] == ["DA", "DB"] and len(director.awaiting_recheck) == 1


# --- the metric for the assessment engine --------------------------------------------------------------


def test_review_score_counts_closed_campaigns_ending_within_the_period(org, campaign):
    answer(campaign, org.dept_a, "service_users", [5, 5, 5, 5, 5])
    answer(campaign, org.dept_a, "superiors", [3, 3, 3, 3, 3])
    q1 = {"unit_id": org.dept_a.pk, "start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)}
    assert selectors.review_score(**q1) is None  # still open
    campaign_close(actor=org.director, campaign=campaign)
    assert selectors.review_score(**q1) == pytest.approx((50 * 100 + 25 * 50) / 75)
    assert (
        selectors.review_score(**(q1 | {"start": dt.date(2026, 4, 1), "end": dt.date(2026, 6, 30)})) is None
    )
    assert selectors.review_score(**(q1 | {"unit_id": org.dept_b.pk})) is None  # nobody reviewed it
