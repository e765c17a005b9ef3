"""Reads of multi-rater reviews, scoped to the user's units.

A campaign is visible to whoever's scope covers its centre or one of the units it reviews; within it, a
user sees the results of the reviewed units in their scope only. Individual responses (the flagged ones
awaiting re-check) are shown only to those who may re-check: a writing role over the centre."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, can_access_unit, unit_scope_q
from kaoping.org.models import Unit
from kaoping.reviews.models import CampaignStatus, RecheckOutcome, Response, ReviewCampaign
from kaoping.reviews.scoring import GroupSummary, RaterGroup, UnitScore, to_hundred, weighted_score
from kaoping.reviews.services import thresholds


def campaign_list(*, user: User) -> QuerySet[ReviewCampaign]:
    visible = Unit.objects.filter(unit_scope_q(user))
    reviewing = ReviewCampaign.units.through.objects.filter(unit__in=visible).values("reviewcampaign_id")
    return (
        ReviewCampaign.objects.filter(Q(centre__in=visible) | Q(pk__in=reviewing))
        .select_related("centre")
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("-period_end", "-pk")
    )


def campaign_get(*, user: User, campaign_id: int) -> ReviewCampaign:
    """One campaign the user may see; one they may not see does not exist for them."""
    campaign = campaign_list(user=user).select_related("questionnaire").filter(pk=campaign_id).first()
    if campaign is None:
        raise KaopingError(
            ErrorCode.NOT_FOUND,
            what="review campaign",
            where=str(campaign_id),
            why="no such campaign in your scope",
        )
    return campaign


def may_manage(*, user: User, campaign: ReviewCampaign) -> bool:
    """Open, close, issue invitations and re-check: a writing role over the centre."""
    return can_access_unit(user, campaign.centre, write=True)


@dataclass(frozen=True)
class GroupResult:
    group: RaterGroup
    weight: Decimal  # percent, as set for the campaign
    min_respondents: int
    shown: bool
    count: int | None  # None when withheld: not even the count is shown
    mean: float | None  # five-point mean
    score: float | None  # 0–100
    share: float | None  # the share of the unit's score it carried after renormalising

    @property
    def label(self) -> str:
        return self.group.label


@dataclass(frozen=True)
class UnitResult:
    unit_id: int
    unit_code: str
    unit_name: str
    score: float | None
    withheld: tuple[RaterGroup, ...]
    groups: list[GroupResult]
    pending_recheck: int

    @property
    def incomplete(self) -> bool:
        return bool(self.withheld)

    @property
    def withheld_labels(self) -> list[str]:
        return [group.label for group in self.withheld]


@dataclass(frozen=True)
class FlaggedResponse:
    response_id: int
    unit_name: str
    group: RaterGroup
    mean: float
    others_mean: float | None
    recheck: str
    recheck_reason: str
    recheck_by: str
    answers: list[tuple[int, str, int]]  # position, item text, score

    @property
    def deviation(self) -> float | None:
        return None if self.others_mean is None else self.mean - self.others_mean

    @property
    def recheck_label(self) -> str:
        return RecheckOutcome(self.recheck).label


@dataclass
class CampaignResults:
    campaign: ReviewCampaign
    units: list[UnitResult]
    may_manage: bool
    awaiting_recheck: list[FlaggedResponse] = field(default_factory=list)
    rechecked: list[FlaggedResponse] = field(default_factory=list)


def _weights(campaign: ReviewCampaign) -> dict[RaterGroup, Decimal]:
    return {RaterGroup(group): weight for group, weight in campaign.groups.values_list("group", "weight")}


def _summaries(campaign: ReviewCampaign, unit_ids: list[int]) -> dict[int, dict[RaterGroup, GroupSummary]]:
    """Per unit and group: how many responses count (excluded ones do not) and their mean, in one query."""
    rows = (
        Response.objects.filter(campaign=campaign, unit_id__in=unit_ids)
        .exclude(recheck=RecheckOutcome.EXCLUDED)
        .values("unit_id", "group")
        .annotate(n=Count("pk"), avg=Avg("mean"))
    )
    result: dict[int, dict[RaterGroup, GroupSummary]] = defaultdict(dict)
    for row in rows:
        result[row["unit_id"]][RaterGroup(row["group"])] = GroupSummary(row["n"], row["avg"])
    return result


def _unit_result(
    unit: Unit,
    summaries: dict[RaterGroup, GroupSummary],
    weights: dict[RaterGroup, Decimal],
    minimums: dict[RaterGroup, int],
    pending: int,
) -> UnitResult:
    scored: UnitScore = weighted_score(summaries, weights, minimums)
    groups = []
    for group in RaterGroup:
        summary = summaries.get(group, GroupSummary(0, None))
        shown = group in scored.used_weights
        groups.append(
            GroupResult(
                group=group,
                weight=weights.get(group, Decimal(0)),
                min_respondents=minimums[group],
                shown=shown,
                count=summary.count if shown else None,
                mean=summary.mean if shown else None,
                score=to_hundred(summary.mean) if shown and summary.mean is not None else None,
                share=scored.used_weights.get(group),
            )
        )
    return UnitResult(
        unit_id=unit.pk,
        unit_code=unit.code,
        unit_name=unit.name,
        score=scored.score,
        withheld=scored.withheld,
        groups=groups,
        pending_recheck=pending,
    )


def campaign_results(*, user: User, campaign: ReviewCampaign) -> CampaignResults:
    """Per reviewed unit in the user's scope: each group's count and mean (withheld below its minimum
    of respondents), the weighted score, whether it is incomplete, and the flagged responses awaiting
    re-check (for those who may re-check)."""
    units = list(campaign.units.filter(unit_scope_q(user)).order_by("path"))
    unit_ids = [u.pk for u in units]
    weights = _weights(campaign)
    minimums = thresholds(campaign)
    summaries = _summaries(campaign, unit_ids)
    flagged = list(
        Response.objects.filter(campaign=campaign, unit_id__in=unit_ids, flagged=True)
        .select_related("unit", "recheck_by")
        .prefetch_related("answers__item")
        .order_by("unit__path", "group", "pk")
    )
    pending: dict[int, int] = defaultdict(int)
    for response in flagged:
        if response.recheck == RecheckOutcome.PENDING:
            pending[response.unit_id] += 1
    results = CampaignResults(
        campaign=campaign,
        units=[_unit_result(u, summaries.get(u.pk, {}), weights, minimums, pending[u.pk]) for u in units],
        may_manage=may_manage(user=user, campaign=campaign),
    )
    if results.may_manage:
        for response in flagged:
            summary = summaries.get(response.unit_id, {}).get(RaterGroup(response.group))
            entry = _flagged(response, summary)
            (
                results.awaiting_recheck if response.recheck == RecheckOutcome.PENDING else results.rechecked
            ).append(entry)
    return results


def _flagged(response: Response, summary: GroupSummary | None) -> FlaggedResponse:
    others_mean = None
    if summary is not None and summary.mean is not None:
        counted = summary.count
        total = summary.mean * counted
        if response.recheck != RecheckOutcome.EXCLUDED:
            total -= response.mean
            counted -= 1
        others_mean = total / counted if counted else None
    answers = sorted(
        ((a.item.position, a.item.text, a.score) for a in response.answers.all()), key=lambda row: row[0]
    )
    return FlaggedResponse(
        response_id=response.pk,
        unit_name=response.unit.name,
        group=RaterGroup(response.group),
        mean=response.mean,
        others_mean=others_mean,
        recheck=response.recheck,
        recheck_reason=response.recheck_reason,
        recheck_by=str(response.recheck_by) if response.recheck_by else "",
        answers=answers,
    )


def response_get(*, user: User, campaign: ReviewCampaign, response_id: int) -> Response:
    """A response of the campaign, for someone who may re-check it."""
    response = Response.objects.filter(campaign=campaign, pk=response_id).first()
    if response is None or not may_manage(user=user, campaign=campaign):
        raise KaopingError(
            ErrorCode.NOT_FOUND, what="response", where=str(response_id), why="no such response"
        )
    return response


def review_score(*, unit_id: int, start: dt.date, end: dt.date) -> float | None:
    """The metric "multi-rater score by group weights" (0–100) for the assessment engine: the mean of
    the unit's weighted scores in the closed campaigns whose period ends within [start, end]. Campaigns
    in which no group of the unit reached its minimum of respondents do not count; None when none
    does. Not scoped: the engine reads on the system's behalf."""
    campaigns = ReviewCampaign.objects.filter(
        status=CampaignStatus.CLOSED, units=unit_id, period_end__gte=start, period_end__lte=end
    ).order_by("period_end", "pk")
    scores = []
    for campaign in campaigns:
        summaries = _summaries(campaign, [unit_id]).get(unit_id, {})
        score = weighted_score(summaries, _weights(campaign), thresholds(campaign)).score
        if score is not None:
            scores.append(score)
    return statistics.fmean(scores) if scores else None
