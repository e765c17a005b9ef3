"""Writes of multi-rater reviews: one transaction and one evidence entry each.

Campaigns, questionnaires, invitations and re-checks are written by a writing role (director,
department head, hall manager) whose scope covers the campaign's centre. Responses are written by
anyone holding an unused invitation token, without logging in."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.db import transaction

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access
from kaoping.evidence.services import evidence_append, evidence_record
from kaoping.org.models import Unit, UnitKind
from kaoping.reviews.models import (
    MIN_ANONYMITY,
    Answer,
    CampaignGroup,
    CampaignStatus,
    Invitation,
    QuestionItem,
    Questionnaire,
    RecheckOutcome,
    Response,
    ReviewCampaign,
)
from kaoping.reviews.scoring import (
    GROUP_VALUES,
    LEVEL_LABELS,
    OutlierRule,
    RaterGroup,
    answer_problems,
    item_problems,
    outlier_flags,
    response_mean,
    weight_problems,
)

MAX_INVITATIONS = 500
RESPONDENT = "reviews:respondent"  # the evidence log's actor for anonymous submissions


def _invalid(what: str, why: str, where: str | None = None) -> KaopingError:
    return KaopingError(ErrorCode.INVALID, what=what, where=where, why=why)


class TokenProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    NOT_OPEN = "not_open"


class InvitationError(KaopingError):
    """A token that cannot be answered with: unknown, already used, or its campaign is not open."""

    def __init__(self, problem: TokenProblem) -> None:
        self.problem = problem
        why = {
            TokenProblem.UNKNOWN: "no invitation has this token",
            TokenProblem.USED: "this invitation has already been answered",
            TokenProblem.NOT_OPEN: "the review campaign is not open",
        }[problem]
        code = ErrorCode.NOT_FOUND if problem is TokenProblem.UNKNOWN else ErrorCode.INVALID
        super().__init__(code, what="invitation", why=why)


# --- questionnaires ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    text: str
    anchors: Mapping[int, str] = field(default_factory=dict)


def _require_centre(actor: User, centre: Unit, what: str) -> None:
    require_unit_access(actor, centre, what=what)
    if centre.kind != UnitKind.CENTRE:
        raise _invalid(what, f"{centre.name} is not a service centre", centre.code)


def questionnaire_create(*, actor: User, centre: Unit, name: str, items: Sequence[ItemSpec]) -> Questionnaire:
    _require_centre(actor, centre, "questionnaire")
    problems = [] if name.strip() else ["a name is required"]
    if not items:
        problems.append("a questionnaire needs at least one item")
    for position, spec in enumerate(items, start=1):
        problems.extend(f"item {position}: {p}" for p in item_problems(spec.text, spec.anchors))
    if problems:
        raise _invalid("questionnaire", "; ".join(problems), name)
    with transaction.atomic():
        questionnaire = Questionnaire.objects.create(centre=centre, name=name.strip(), created_at=clock.now())
        QuestionItem.objects.bulk_create(
            QuestionItem(
                questionnaire=questionnaire,
                position=position,
                text=spec.text.strip(),
                **{f"anchor_{level}": spec.anchors.get(level, "").strip() for level in LEVEL_LABELS},
            )
            for position, spec in enumerate(items, start=1)
        )
        evidence_record(actor=actor, action="reviews.questionnaire_create", instance=questionnaire)
    return questionnaire


# --- campaigns -----------------------------------------------------------------------------------------


def _decimal(value: Decimal | int | str) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def campaign_problems(
    *,
    centre: Unit,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    questionnaire: Questionnaire,
    units: Sequence[Unit],
    weights: Mapping[str, Decimal | int | str],
    min_respondents: int,
    group_minimums: Mapping[str, int],
    outlier_points: Decimal,
    outlier_sd: Decimal,
) -> list[str]:
    """Everything wrong with a campaign's settings, all at once (also used by the admin)."""
    problems: list[str] = []
    if not name.strip():
        problems.append("a name is required")
    if period_end < period_start:
        problems.append(f"the period ends ({period_end}) before it starts ({period_start})")
    parsed: dict[str, Decimal] = {}
    for key, raw in weights.items():
        value = _decimal(raw)
        if value is None:
            problems.append(f"weight {raw!r} of {key} is not a number")
        else:
            parsed[str(key)] = value
    problems.extend(str(p) for p in weight_problems(parsed))
    if min_respondents < MIN_ANONYMITY:
        problems.append(
            f"at least {MIN_ANONYMITY} respondents must be required before a group's results show "
            f"(anonymity), not {min_respondents}"
        )
    for key, minimum in group_minimums.items():
        if key not in GROUP_VALUES:
            problems.append(f"{key!r} is not a rater group")
        elif minimum < 1:
            problems.append(f"the minimum of respondents for {key} must be at least 1")
    if not 0 <= outlier_points <= 4:
        problems.append(f"the outlier threshold of {outlier_points} points must lie within 0–4")
    if outlier_sd < 0:
        problems.append(f"the outlier threshold of {outlier_sd} standard deviations cannot be negative")
    if questionnaire.centre_id != centre.pk:
        problems.append(f"questionnaire {questionnaire.name!r} belongs to another centre")
    elif not questionnaire.items.exists():
        problems.append(f"questionnaire {questionnaire.name!r} has no items")
    if not units:
        problems.append("at least one department must be reviewed")
    seen: set[int] = set()
    for unit in units:
        if unit.pk in seen:
            problems.append(f"{unit.name} is listed twice")
        seen.add(unit.pk)
        if unit.kind != UnitKind.DEPARTMENT:
            problems.append(f"{unit.name} is not a department")
        elif not unit.path.startswith(centre.path) or unit.pk == centre.pk:
            problems.append(f"{unit.name} is not a department of {centre.name}")
    return problems


def campaign_create(
    *,
    actor: User,
    centre: Unit,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    questionnaire: Questionnaire,
    units: Sequence[Unit],
    weights: Mapping[str, Decimal | int | str],
    min_respondents: int = 5,
    group_minimums: Mapping[str, int] | None = None,
    outlier_points: Decimal = Decimal("1.5"),
    outlier_sd: Decimal = Decimal("2"),
) -> ReviewCampaign:
    """A draft campaign. Weights are percent per rater group (R2.4); every problem is refused at once."""
    _require_centre(actor, centre, "review campaign")
    group_minimums = dict(group_minimums or {})
    problems = campaign_problems(
        centre=centre,
        name=name,
        period_start=period_start,
        period_end=period_end,
        questionnaire=questionnaire,
        units=units,
        weights=weights,
        min_respondents=min_respondents,
        group_minimums=group_minimums,
        outlier_points=outlier_points,
        outlier_sd=outlier_sd,
    )
    if problems:
        raise _invalid("review campaign", "; ".join(problems), name.strip() or None)
    with transaction.atomic():
        campaign = ReviewCampaign.objects.create(
            centre=centre,
            name=name.strip(),
            period_start=period_start,
            period_end=period_end,
            questionnaire=questionnaire,
            min_respondents=min_respondents,
            outlier_points=outlier_points,
            outlier_sd=outlier_sd,
            created_at=clock.now(),
        )
        campaign.units.set(units)
        CampaignGroup.objects.bulk_create(
            CampaignGroup(
                campaign=campaign,
                group=group.value,
                weight=Decimal(str(weights[group.value])),
                min_respondents=group_minimums.get(group.value),
            )
            for group in RaterGroup
        )
        evidence_record(actor=actor, action="reviews.campaign_create", instance=campaign)
    return campaign


def _locked(campaign: ReviewCampaign) -> ReviewCampaign:
    return ReviewCampaign.objects.select_for_update().select_related("centre").get(pk=campaign.pk)


def campaign_open(*, actor: User, campaign: ReviewCampaign) -> ReviewCampaign:
    require_unit_access(actor, campaign.centre, what="review campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status != CampaignStatus.DRAFT:
            raise _invalid("review campaign", f"only a draft can be opened; this one is {campaign.status}")
        # The admin may have changed the draft since it was created.
        problems = []
        if not campaign.questionnaire.items.exists():
            problems.append(f"questionnaire {campaign.questionnaire.name!r} has no items")
        if not campaign.units.exists():
            problems.append("no department is reviewed")
        if problems:
            raise _invalid("review campaign", "; ".join(problems), campaign.name)
        campaign.status = CampaignStatus.OPEN
        campaign.opened_at = clock.now()
        campaign.save(update_fields=["status", "opened_at"])
        evidence_record(actor=actor, action="reviews.campaign_open", instance=campaign)
    return campaign


def campaign_close(*, actor: User, campaign: ReviewCampaign) -> ReviewCampaign:
    """No more answers; outliers are flagged once more over the final groups."""
    require_unit_access(actor, campaign.centre, what="review campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status != CampaignStatus.OPEN:
            raise _invalid(
                "review campaign", f"only an open campaign can be closed; this one is {campaign.status}"
            )
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = clock.now()
        campaign.save(update_fields=["status", "closed_at"])
        groups = Response.objects.filter(campaign=campaign).values_list("unit_id", "group").distinct()
        minimums = thresholds(campaign)
        flagged = sum(_reflag(campaign, unit_id, group, minimums) for unit_id, group in set(groups))
        evidence_record(
            actor=actor,
            action="reviews.campaign_close",
            instance=campaign,
            note=f"{flagged} response(s) flagged for re-check",
        )
    return campaign


def thresholds(campaign: ReviewCampaign) -> dict[RaterGroup, int]:
    """Each group's minimum of respondents: its own, or the campaign's."""
    own = dict(campaign.groups.values_list("group", "min_respondents"))
    return {group: own.get(group.value) or campaign.min_respondents for group in RaterGroup}


def outlier_rule(campaign: ReviewCampaign) -> OutlierRule:
    return OutlierRule(points=float(campaign.outlier_points), sd=float(campaign.outlier_sd))


def _reflag(
    campaign: ReviewCampaign, unit_id: int, group: str, minimums: dict[RaterGroup, int] | None = None
) -> int:
    """Recompute the outlier flags of one unit's group from the responses that count (excluded ones do
    not). A group below its minimum of respondents is neither shown nor checked. Returns the number
    flagged."""
    rows = list(
        Response.objects.filter(campaign=campaign, unit_id=unit_id, group=group)
        .exclude(recheck=RecheckOutcome.EXCLUDED)
        .order_by("pk")
        .values_list("pk", "mean", "flagged")
    )
    minimums = minimums or thresholds(campaign)
    if len(rows) >= minimums[RaterGroup(group)]:
        flags = outlier_flags([mean for _, mean, _ in rows], outlier_rule(campaign))
    else:
        flags = [False] * len(rows)
    raise_ = [pk for (pk, _, old), new in zip(rows, flags, strict=True) if new and not old]
    lower = [pk for (pk, _, old), new in zip(rows, flags, strict=True) if old and not new]
    if raise_:
        Response.objects.filter(pk__in=raise_).update(flagged=True)
    if lower:
        Response.objects.filter(pk__in=lower).update(flagged=False)
    return sum(flags)


# --- invitations and responses ---------------------------------------------------------------------------


def invitations_issue(
    *, actor: User, campaign: ReviewCampaign, unit: Unit, group: str, count: int
) -> list[str]:
    """``count`` one-time tokens for raters of ``group`` reviewing ``unit``. The tokens are returned
    this once (to print or send); only their hashes are stored, and the evidence entry digests them."""
    require_unit_access(actor, campaign.centre, what="review invitations")
    problems = []
    if campaign.status == CampaignStatus.CLOSED:
        problems.append("the campaign is closed")
    if not campaign.units.filter(pk=unit.pk).exists():
        problems.append(f"{unit.name} is not reviewed in this campaign")
    if group not in GROUP_VALUES:
        problems.append(f"{group!r} is not a rater group")
    if not 1 <= count <= MAX_INVITATIONS:
        problems.append(f"between 1 and {MAX_INVITATIONS} invitations at a time, not {count}")
    if problems:
        raise _invalid("review invitations", "; ".join(problems), campaign.name)
    tokens = [secrets.token_urlsafe(18) for _ in range(count)]
    issued_at = clock.now()
    with transaction.atomic():
        Invitation.objects.bulk_create(
            Invitation(
                campaign=campaign,
                unit=unit,
                group=group,
                token_hash=Invitation.hash(token),
                issued_at=issued_at,
            )
            for token in tokens
        )
        evidence_append(
            actor=actor,
            action="reviews.invitations_issue",
            object_type="reviews.invitation_batch",
            object_id=f"{campaign.pk}:{unit.pk}:{group}:{issued_at.isoformat()}",
            state={
                "campaign": campaign.pk,
                "unit": unit.pk,
                "group": group,
                "count": count,
                "token_hashes": sorted(Invitation.hash(token) for token in tokens),
            },
        )
    return tokens


def invitation_for_token(token: str) -> Invitation:
    """The invitation a token opens, if it may still be answered (else ``InvitationError``)."""
    invitation = (
        Invitation.objects.select_related("campaign__questionnaire", "unit")
        .filter(token_hash=Invitation.hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(TokenProblem.UNKNOWN)
    if invitation.used:
        raise InvitationError(TokenProblem.USED)
    if invitation.campaign.status != CampaignStatus.OPEN:
        raise InvitationError(TokenProblem.NOT_OPEN)
    return invitation


def response_submit(*, token: str, answers: Mapping[int, int]) -> Response:
    """Answers given with an invitation token, no login. Refused when the token is unknown or used, the
    campaign is not open, or an answer is missing, unknown or not a level from 1 to 5 (all listed).

    The response keeps no trace of the invitation (see ``models``); the invitation is only marked used."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_hash=Invitation.hash(token)).first()
        if invitation is None:
            raise InvitationError(TokenProblem.UNKNOWN)
        if invitation.used:
            raise InvitationError(TokenProblem.USED)
        campaign = ReviewCampaign.objects.select_for_update().get(pk=invitation.campaign_id)
        if campaign.status != CampaignStatus.OPEN:
            raise InvitationError(TokenProblem.NOT_OPEN)
        item_ids = list(campaign.questionnaire.items.order_by("position", "pk").values_list("pk", flat=True))
        problems = answer_problems(item_ids, answers)
        if problems:
            raise _invalid("answers", "; ".join(problems))
        # A conditional update: of two submissions racing with one token, only one marks it used.
        if Invitation.objects.filter(pk=invitation.pk, used=False).update(used=True) != 1:
            raise InvitationError(TokenProblem.USED)
        scores = [answers[item_id] for item_id in item_ids]
        response = Response.objects.create(
            campaign=campaign,
            unit_id=invitation.unit_id,
            group=invitation.group,
            submitted_on=clock.today(),
            mean=response_mean(scores),
        )
        Answer.objects.bulk_create(
            Answer(response=response, item_id=item_id, score=answers[item_id]) for item_id in item_ids
        )
        _reflag(campaign, invitation.unit_id, invitation.group)
        evidence_record(actor=RESPONDENT, action="reviews.response_submit", instance=response)
    return response


def response_recheck(*, actor: User, response: Response, outcome: str, reason: str) -> Response:
    """R2.10: a flagged response is re-checked: kept (it counts) or excluded (it counts nowhere), with
    the reason. The decision is final and logged."""
    campaign = ReviewCampaign.objects.select_related("centre").get(pk=response.campaign_id)
    require_unit_access(actor, campaign.centre, what="re-check")
    problems = []
    if outcome not in (RecheckOutcome.KEPT, RecheckOutcome.EXCLUDED):
        problems.append(
            f"the outcome must be {RecheckOutcome.KEPT} or {RecheckOutcome.EXCLUDED}, not {outcome!r}"
        )
    if not reason.strip():
        problems.append("a reason is required")
    if problems:
        raise _invalid("re-check", "; ".join(problems), str(response.pk))
    with transaction.atomic():
        response = Response.objects.select_for_update().get(pk=response.pk)
        if not response.flagged or response.recheck != RecheckOutcome.PENDING:
            raise _invalid(
                "re-check", "only a flagged response awaiting re-check can be re-checked", str(response.pk)
            )
        response.recheck = outcome
        response.recheck_reason = reason.strip()
        response.recheck_by_id = actor.pk
        response.rechecked_at = clock.now()
        response.save(update_fields=["recheck", "recheck_reason", "recheck_by", "rechecked_at"])
        if outcome == RecheckOutcome.EXCLUDED:
            _reflag(campaign, response.unit_id, response.group)
        evidence_record(actor=actor, action="reviews.response_recheck", instance=response)
    return response
