"""Demo data for multi-rater reviews: one closed campaign over a centre's departments.

Seeded and idempotent (a second load finds the campaign and changes nothing). The answers are
realistic rather than uniform: each department has its own level, each group its own leaning (self-
assessments run high, third parties low), each rater their own; one department has too few service
users and third-party raters to be shown (so its score is incomplete), and two raters answer far from
their group (all 1s among satisfied service users, all 5s among lukewarm peers) and await re-check."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from kaoping.core import clock
from kaoping.core.permissions import User
from kaoping.org.models import Unit, UnitKind
from kaoping.reviews.models import ReviewCampaign
from kaoping.reviews.scoring import MAX_LEVEL, MIN_LEVEL, RaterGroup
from kaoping.reviews.services import (
    ItemSpec,
    campaign_close,
    campaign_create,
    campaign_open,
    invitations_issue,
    questionnaire_create,
    response_submit,
)

ITEMS = [
    ItemSpec(
        "服务态度：热情耐心、文明用语，对服务对象一视同仁",
        {5: "主动服务、耐心解答，考评期内无投诉", 3: "态度尚可，偶有不耐烦", 1: "态度生硬，被投诉或曝光"},
    ),
    ItemSpec("办事效率：按承诺时限办结，不推诿、不拖延"),
    ItemSpec("业务能力：熟悉政策，一次性告知准确完整"),
    ItemSpec("协作配合：与其他科室、窗口衔接顺畅"),
    ItemSpec(
        "创新工作：优化流程、推出便民举措",
        {
            5: "有创新举措并被上级推广或获表彰（计20分）",
            3: "有改进措施并在本单位落地见效（计10分）",
            1: "无创新举措（计0分）",
        },
    ),
    ItemSpec("工作作风：遵守纪律、廉洁自律"),
]
# Item difficulty: innovation scores lowest, conduct highest.
ITEM_OFFSETS = [0.1, 0.0, 0.0, -0.1, -0.6, 0.2]
WEIGHTS = {
    RaterGroup.SERVICE_USERS.value: 50,
    RaterGroup.SUPERIORS.value: 25,
    RaterGroup.PEERS.value: 10,
    RaterGroup.SELF.value: 5,
    RaterGroup.THIRD_PARTY.value: 10,
}
# Leadership is a handful of people and self-assessment is one form per department: their own minimums.
GROUP_MINIMUMS = {RaterGroup.SUPERIORS.value: 3, RaterGroup.SELF.value: 1}
GROUP_LEANING = {
    RaterGroup.SERVICE_USERS: 0.0,
    RaterGroup.SUPERIORS: -0.1,
    RaterGroup.PEERS: -0.2,
    RaterGroup.SELF: 0.4,
    RaterGroup.THIRD_PARTY: -0.3,
}
RATERS = {
    RaterGroup.SERVICE_USERS: 12,
    RaterGroup.SUPERIORS: 3,
    RaterGroup.PEERS: 6,
    RaterGroup.SELF: 2,
    RaterGroup.THIRD_PARTY: 5,
}
# The last department had a thin turnout: below the minimum of 5 for these two groups.
THIN_TURNOUT = {RaterGroup.SERVICE_USERS: 4, RaterGroup.THIRD_PARTY: 3}
DEPARTMENT_LEVELS = [4.3, 3.5, 3.9, 4.0]


def previous_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    this_quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = this_quarter - dt.timedelta(days=1)
    return dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end


def demo_campaign_name(start: dt.date) -> str:
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度科室多维测评"


def _answers(rng: random.Random, level: float) -> list[int]:
    rater = rng.gauss(0, 0.3)
    return [
        min(MAX_LEVEL, max(MIN_LEVEL, round(level + offset + rater + rng.gauss(0, 0.5))))
        for offset in ITEM_OFFSETS
    ]


def load_demo_reviews(*, actor: User, centre: Unit, seed: int = 7) -> None:
    start, end = previous_quarter(clock.today())
    name = demo_campaign_name(start)
    if ReviewCampaign.objects.filter(centre=centre, name=name).exists():
        return
    departments = list(
        Unit.objects.filter(kind=UnitKind.DEPARTMENT, path__startswith=centre.path).order_by("path")
    )
    if not departments:
        return
    rng = random.Random(seed)
    with transaction.atomic():
        questionnaire = questionnaire_create(
            actor=actor, centre=centre, name="科室工作多维测评问卷", items=ITEMS
        )
        campaign = campaign_create(
            actor=actor,
            centre=centre,
            name=name,
            period_start=start,
            period_end=end,
            questionnaire=questionnaire,
            units=departments,
            weights=WEIGHTS,
            group_minimums=GROUP_MINIMUMS,
        )
        campaign_open(actor=actor, campaign=campaign)
        item_ids = list(questionnaire.items.order_by("position").values_list("pk", flat=True))
        for index, department in enumerate(departments):
            department_level = DEPARTMENT_LEVELS[index % len(DEPARTMENT_LEVELS)]
            thin = index == len(departments) - 1 and len(departments) > 1
            for group in RaterGroup:
                count = THIN_TURNOUT.get(group, RATERS[group]) if thin else RATERS[group]
                tokens = invitations_issue(
                    actor=actor, campaign=campaign, unit=department, group=group.value, count=count + 2
                )
                for number, token in enumerate(tokens[:count]):  # two invitations go unanswered
                    scores = _answers(rng, department_level + GROUP_LEANING[group])
                    if index == 0 and group is RaterGroup.SERVICE_USERS and number == count - 1:
                        scores = [MIN_LEVEL] * len(item_ids)  # a disgruntled outlier
                    if index == 1 % len(departments) and group is RaterGroup.PEERS and number == 0:
                        scores = [MAX_LEVEL] * len(item_ids)  # a friendly outlier
                    response_submit(token=token, answers=dict(zip(item_ids, scores, strict=True)))
        campaign_close(actor=actor, campaign=campaign)
