"""HTTP API of the reviews app: campaigns and their results, scoped like the pages."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kaoping.reviews import selectors
from kaoping.reviews.models import ReviewCampaign

router = Router(tags=["reviews"])


class CampaignOut(Schema):
    id: int
    name: str
    centre: str
    period_start: dt.date
    period_end: dt.date
    status: str
    min_respondents: int

    @staticmethod
    def of(campaign: ReviewCampaign) -> CampaignOut:
        return CampaignOut(
            id=campaign.pk,
            name=campaign.name,
            centre=campaign.centre.code,
            period_start=campaign.period_start,
            period_end=campaign.period_end,
            status=campaign.status,
            min_respondents=campaign.min_respondents,
        )


class GroupOut(Schema):
    group: str
    label: str
    weight: float = Field(description="percent, as set for the campaign (R2.4)")
    min_respondents: int
    withheld: bool = Field(description="fewer respondents than the minimum: nothing is shown")
    note: str | None = Field(None, description="why nothing is shown, e.g. 不足5人，不显示")
    count: int | None
    mean: float | None = Field(description="five-point mean of the respondents' means")
    score: float | None = Field(description="the mean on 0–100: (mean − 1) / 4 × 100")
    share: float | None = Field(description="share of the unit's score after renormalising")


class UnitOut(Schema):
    unit_id: int
    unit_code: str
    unit_name: str
    score: float | None
    incomplete: bool
    withheld: list[str]
    pending_recheck: int
    groups: list[GroupOut]


class ResultsOut(CampaignOut):
    units: list[UnitOut]


@router.get("/campaigns", response=list[CampaignOut], summary="Review campaigns in your scope")
def list_campaigns(request: HttpRequest) -> list[CampaignOut]:
    return [CampaignOut.of(c) for c in selectors.campaign_list(user=request.user)]


@router.get("/campaigns/{campaign_id}/results", response=ResultsOut, summary="Results of a review campaign")
def campaign_results(request: HttpRequest, campaign_id: int) -> ResultsOut:
    """Per reviewed unit in your scope: each rater group's count and mean (withheld below the minimum
    of respondents), the weighted score on 0–100 and whether groups were left out. Excluded responses
    do not count."""
    campaign = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    results = selectors.campaign_results(user=request.user, campaign=campaign)
    return ResultsOut(
        **CampaignOut.of(campaign).dict(),
        units=[
            UnitOut(
                unit_id=u.unit_id,
                unit_code=u.unit_code,
                unit_name=u.unit_name,
                score=u.score,
                incomplete=u.incomplete,
                withheld=[g.value for g in u.withheld],
                pending_recheck=u.pending_recheck,
                groups=[
                    GroupOut(
                        group=g.group.value,
                        label=g.label,
                        weight=float(g.weight),
                        min_respondents=g.min_respondents,
                        withheld=not g.shown,
                        note=None if g.shown else f"不足{g.min_respondents}人，不显示",
                        count=g.count,
                        mean=g.mean,
                        score=g.score,
                        share=g.share,
                    )
                    for g in u.groups
                ],
            )
            for u in results.units
        ],
    )
