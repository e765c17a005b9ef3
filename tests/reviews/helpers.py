"""Helpers for the reviews tests: the settings of a valid campaign and a way to answer its questionnaire."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model

from kaoping.org.models import Unit
from kaoping.reviews.models import Questionnaire, Response, ReviewCampaign
from kaoping.reviews.services import ItemSpec, campaign_create, invitations_issue, response_submit
from tests.factories import OrgTree

WEIGHTS = {"service_users": 50, "superiors": 25, "peers": 10, "self": 5, "third_party": 10}
ITEMS = [
    ItemSpec("服务态度", {5: "主动热情，无投诉", 3: "态度尚可", 1: "态度生硬，被投诉"}),
    ItemSpec("办事效率"),
    ItemSpec("创新工作", {5: "被上级推广（20分）", 3: "本单位落地（10分）", 1: "无创新（0分）"}),
]


def make_campaign(
    org: OrgTree, questionnaire: Questionnaire, units: Sequence[Unit], **extra: Any
) -> ReviewCampaign:
    fields: dict[str, Any] = {
        "name": "2026年第一季度测评",
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 3, 31),
        "weights": WEIGHTS,
    } | extra
    return campaign_create(
        actor=org.director, centre=org.centre, questionnaire=questionnaire, units=units, **fields
    )


def answer(
    campaign: ReviewCampaign, unit: Unit, group: str, rows: Sequence[int | Sequence[int]]
) -> list[Response]:
    """One respondent per row: a level for every item, or the list of levels item by item."""
    admin = get_user_model().objects.get(username="root")
    tokens = invitations_issue(actor=admin, campaign=campaign, unit=unit, group=group, count=len(rows))
    item_ids = list(campaign.questionnaire.items.order_by("position").values_list("pk", flat=True))
    responses = []
    for token, row in zip(tokens, rows, strict=True):
        levels = [row] * len(item_ids) if isinstance(row, int) else list(row)
        responses.append(response_submit(token=token, answers=dict(zip(item_ids, levels, strict=True))))
    return responses
