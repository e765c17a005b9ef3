"""HTTP API of assessments: run a scheme over a period, read the runs and results in your scope, follow
an indicator line to the records behind it, publish, exempt a deduction, ask for and decide a re-check.

Writes go through ``services`` (which check the director's role and log evidence); reads through
``selectors`` (scoped to the caller: a run or result outside it answers 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from kaoping.assessment import selectors, services
from kaoping.assessment.metrics import is_metric_name, record_query
from kaoping.assessment.models import (
    Assessment,
    AssessmentResult,
    AssessmentStatus,
    Exemption,
    ManualEntry,
    Recheck,
)
from kaoping.assessment.schemes import Grade
from kaoping.cases.models import Case
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_name, mask_phone, mask_text
from kaoping.core.permissions import User, sees_personal_data, unit_scope_q
from kaoping.followup.models import Rectification
from kaoping.ratings.codes import CHANNEL_LABELS, LEVEL_LABELS, Level
from kaoping.ratings.models import Rating
from kaoping.reviews.models import ReviewCampaign

router = Router(tags=["assessments"])
LIST_LIMIT = 50
LIST_MAX = 200
RECORDS_LIMIT = 50
RECORDS_MAX = 200
TEXT_SHOWN = 80  # characters of free text (comments, evidence) in a record's description


# -- runs and results --------------------------------------------------------------------------------


class RunIn(Schema):
    scheme: str = Field(description="scheme code, e.g. window")
    period: str = Field(description="2026-10, 2026-Q3, 2026-H1 or 2026")
    reason: str = ""


class RunOut(Schema):
    id: int
    scheme: str
    scheme_version: int
    scheme_name: str
    period: str
    period_start: dt.date
    period_end: dt.date
    status: str
    computed_at: dt.datetime
    computed_by: str
    published_at: dt.datetime | None
    published_by: str
    reason: str
    units: int
    results_digest: str

    @staticmethod
    def of(run: Assessment) -> RunOut:
        return RunOut(
            id=run.pk,
            scheme=run.scheme.code,
            scheme_version=run.scheme.version,
            scheme_name=run.scheme.name,
            period=run.period,
            period_start=run.period_start,
            period_end=run.period_end,
            status=run.status,
            computed_at=run.computed_at,
            computed_by=run.computed_by,
            published_at=run.published_at,
            published_by=run.published_by,
            reason=run.reason,
            units=run.units,
            results_digest=run.results_digest,
        )


class ResultOut(Schema):
    id: int
    unit: str
    unit_name: str
    role: str
    total: str = Field(description="decimal string, as stored")
    grade: str
    grade_label: str
    rank: int | None
    ranked_count: int
    percentile: str | None
    vetoed: bool
    assessed: bool
    complete: bool
    deducted: str
    bonus: str
    explanation: str
    lines: list[dict[str, Any]] = Field(description="every indicator line as the engine stored it")

    @staticmethod
    def of(result: AssessmentResult) -> ResultOut:
        return ResultOut(
            id=result.pk,
            unit=result.unit.code,
            unit_name=result.unit.name,
            role=result.role,
            total=str(result.total),
            grade=result.grade,
            grade_label=Grade(result.grade).label if result.grade else "",
            rank=result.rank,
            ranked_count=result.ranked_count,
            percentile=None if result.percentile is None else str(result.percentile),
            vetoed=result.vetoed,
            assessed=result.assessed,
            complete=result.complete,
            deducted=str(result.deducted),
            bonus=str(result.bonus),
            explanation=result.explanation,
            lines=list(result.lines),
        )


class RunDetailOut(RunOut):
    results: list[ResultOut]


def _detail(user: User, run: Assessment) -> RunDetailOut:
    results = [ResultOut.of(r) for r in selectors.results_visible(user, run)]
    return RunDetailOut(**RunOut.of(run).dict(), results=results)


@router.post("", response={201: RunDetailOut}, summary="Run a scheme over a period (centre director)")
def run_assessment(request: HttpRequest, body: RunIn) -> Status[RunDetailOut]:
    """Scores every unit of the scheme's current published version and stores the run (earlier
    unpublished runs of the same scheme and period are superseded). Returns the run with its results."""
    run = services.assessment_run(
        actor=request.user, scheme_code=body.scheme.strip(), period=body.period, reason=body.reason
    )
    return Status(201, _detail(request.user, run))


class RunQuery(Schema):
    scheme: str = ""
    period: str = ""
    status: str = ""
    limit: int = Field(LIST_LIMIT, ge=1, le=LIST_MAX)
    offset: int = Field(0, ge=0)


class RunPage(Schema):
    items: list[RunOut]
    next_offset: int | None = Field(None, description="pass as `offset` for the next page")


@router.get("", response=RunPage, summary="Runs with a result in your scope, newest first")
def list_assessments(request: HttpRequest, query: Query[RunQuery]) -> RunPage:
    runs = selectors.assessments_visible(request.user)
    if query.scheme:
        runs = runs.filter(scheme__code=query.scheme)
    if query.period:
        runs = runs.filter(period=query.period)
    if query.status:
        if query.status not in AssessmentStatus.values:
            raise KaopingError(
                ErrorCode.INVALID,
                what="status",
                where=query.status,
                why=f"write one of {', '.join(AssessmentStatus.values)}",
            )
        runs = runs.filter(status=query.status)
    page = list(runs[query.offset : query.offset + query.limit + 1])
    more = len(page) > query.limit
    return RunPage(
        items=[RunOut.of(r) for r in page[: query.limit]],
        next_offset=query.offset + query.limit if more else None,
    )


@router.get("/{assessment_id}", response=RunDetailOut, summary="A run with the results you may see")
def get_assessment(request: HttpRequest, assessment_id: int) -> RunDetailOut:
    return _detail(request.user, selectors.assessment_get(request.user, assessment_id))


@router.post("/{assessment_id}/publish", response=RunOut, summary="Publish a run (centre director)")
def publish_assessment(request: HttpRequest, assessment_id: int) -> RunOut:
    run = selectors.assessment_get(request.user, assessment_id)
    return RunOut.of(services.assessment_publish(actor=request.user, assessment=run))


# -- the records behind a line -----------------------------------------------------------------------


class RecordOut(Schema):
    id: int
    kind: str = Field(description="case, rating, followup, review or manual")
    unit: str | None
    at: dt.datetime | None = Field(description="received (case), rated (rating), opened (follow-up) …")
    link: str | None = Field(description="path of the record's page, when it has one")
    description: str


class RecordPage(Schema):
    indicator: str
    metric: str
    items: list[RecordOut]
    next_offset: int | None = None
    note: str = ""


class RecordQuery(Schema):
    limit: int = Field(RECORDS_LIMIT, ge=1, le=RECORDS_MAX)
    offset: int = Field(0, ge=0)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "…"


def _case_record(case: Case, personal: bool) -> RecordOut:
    parts = [f"{case.matter.name}（{case.external_id}）"]
    if case.applicant_name:
        parts.append(f"申请人 {case.applicant_name if personal else mask_name(case.applicant_name)}")
    if case.applicant_phone:
        parts.append(case.applicant_phone if personal else mask_phone(case.applicant_phone))
    late = [
        label
        for label, flag in (
            ("预约响应超时", case.appointment_late),
            ("受理超时", case.acceptance_late),
            ("办理超时", case.handling_late),
            ("送达超时", case.delivery_late),
        )
        if flag
    ]
    parts.extend(late)
    if case.breaker:
        parts.append("触发熔断")
    if case.wait_minutes is not None:
        parts.append(f"等候 {case.wait_minutes:.0f} 分钟")
    return RecordOut(
        id=case.pk,
        kind="case",
        unit=case.unit.code,
        at=case.received_at,
        link=reverse("cases:detail", args=[case.pk]),
        description=" · ".join(parts),
    )


def _rating_record(rating: Rating, personal: bool) -> RecordOut:
    channels = {channel.value: label for channel, label in CHANNEL_LABELS.items()}
    parts = [LEVEL_LABELS[Level(rating.level)], channels.get(rating.channel, rating.channel)]
    if rating.real_name:
        rater = rating.rater_name if personal else mask_name(rating.rater_name)
        phone = (
            rating.rater_phone if personal else mask_phone(rating.rater_phone) if rating.rater_phone else ""
        )
        parts.append(" ".join(p for p in (rater, phone) if p) or "实名")
    if rating.text:
        parts.append(_short(rating.text if personal else mask_text(rating.text)))
    return RecordOut(
        id=rating.pk,
        kind="rating",
        unit=rating.unit.code,
        at=rating.rated_at,
        link=reverse("cases:detail", args=[rating.case_id]) if rating.case_id else None,
        description=" · ".join(parts),
    )


def _followup_record(rect: Rectification, personal: bool) -> RecordOut:
    parts = [rect.get_kind_display(), rect.get_state_display()]
    if rect.triage:
        parts.append(rect.get_triage_display())
    if rect.verdict:
        parts.append(rect.get_verdict_display())
    if rect.rating is not None and rect.rating.text:
        parts.append(_short(rect.rating.text if personal else mask_text(rect.rating.text)))
    return RecordOut(
        id=rect.pk,
        kind="followup",
        unit=rect.unit.code,
        at=rect.opened_at,
        link=reverse("followup:detail", args=[rect.pk]),
        description=" · ".join(parts),
    )


def _review_record(campaign: ReviewCampaign) -> RecordOut:
    return RecordOut(
        id=campaign.pk,
        kind="review",
        unit=None,
        at=None,
        link=reverse("reviews:detail", args=[campaign.pk]),
        description=f"{campaign.name}（{campaign.period_start} 至 {campaign.period_end}）",
    )


def _manual_record(entry: ManualEntry, personal: bool) -> RecordOut:
    value = entry.level if entry.level else ("" if entry.value is None else f"{entry.value:g}")
    evidence = entry.evidence if personal else mask_text(entry.evidence)
    return RecordOut(
        id=entry.pk,
        kind="manual",
        unit=entry.unit.code,
        at=entry.entered_at,
        link=None,
        description=f"{entry.code.name}：{value}{entry.code.unit_label} · 佐证：{_short(evidence)}",
    )


def _record(user: User, row: Model) -> RecordOut:
    if isinstance(row, Case):
        return _case_record(row, sees_personal_data(user, row.unit))
    if isinstance(row, Rating):
        return _rating_record(row, sees_personal_data(user, row.unit))
    if isinstance(row, Rectification):
        return _followup_record(row, sees_personal_data(user, row.unit))
    if isinstance(row, ReviewCampaign):
        return _review_record(row)
    if isinstance(row, ManualEntry):
        return _manual_record(row, sees_personal_data(user, row.unit))
    raise TypeError(f"no record form for {type(row).__name__}")


def _related(rows: QuerySet[Any]) -> QuerySet[Any]:
    model = rows.model
    if model is Case:
        return rows.select_related("matter", "unit")
    if model is Rating:
        return rows.select_related("unit")
    if model is Rectification:
        return rows.select_related("unit", "rating")
    if model is ManualEntry:
        return rows.select_related("unit", "code")
    return rows


@router.get(
    "/{assessment_id}/results/{unit_code}/lines/{indicator}/records",
    response=RecordPage,
    summary="The records behind one indicator line (late cases, bad ratings …)",
)
def line_records(
    request: HttpRequest, assessment_id: int, unit_code: str, indicator: str, query: Query[RecordQuery]
) -> RecordPage:
    """Over the run's period and the unit's subtree, as the metric counted them (default ratings left
    out when the run's scheme says so). Personal data is masked unless your role needs it."""
    run = selectors.assessment_get(request.user, assessment_id)
    result = selectors.result_get(request.user, run, unit_code)
    line = selectors.line_of(result, indicator)
    metric = str(line["metric"])
    if not is_metric_name(metric):
        return RecordPage(indicator=indicator, metric=metric, items=[], note=str(line.get("basis") or ""))
    rows = record_query(
        metric,
        result.unit,
        run.period_start,
        run.period_end,
        include_defaulted=run.scheme.scheme().count_default_ratings,
        user=request.user,
    )
    page = list(_related(rows)[query.offset : query.offset + query.limit + 1])
    more = len(page) > query.limit
    return RecordPage(
        indicator=indicator,
        metric=metric,
        items=[_record(request.user, row) for row in page[: query.limit]],
        next_offset=query.offset + query.limit if more else None,
    )


# -- exemptions and re-checks ------------------------------------------------------------------------


class ExemptionIn(Schema):
    indicator: str
    deduction_key: str
    reason: str


class ExemptionOut(Schema):
    id: int
    unit: str
    scheme: str
    period: str
    indicator: str
    deduction_key: str
    reason: str
    approved_by: str
    approved_at: dt.datetime

    @staticmethod
    def of(exemption: Exemption) -> ExemptionOut:
        return ExemptionOut(
            id=exemption.pk,
            unit=exemption.unit.code,
            scheme=exemption.scheme_code,
            period=exemption.period,
            indicator=exemption.indicator,
            deduction_key=exemption.deduction_key,
            reason=exemption.reason,
            approved_by=exemption.approved_by.get_username(),
            approved_at=exemption.approved_at,
        )


@router.post(
    "/{assessment_id}/results/{unit_code}/exemptions",
    response={201: ExemptionOut},
    summary="Approve a tolerance exemption of one deduction (centre director)",
)
def approve_exemption(
    request: HttpRequest, assessment_id: int, unit_code: str, body: ExemptionIn
) -> Status[ExemptionOut]:
    """The exemption counts in every later run of the scheme and period; this run stays as it is."""
    run = selectors.assessment_get(request.user, assessment_id)
    result = selectors.result_get(request.user, run, unit_code)
    exemption = services.exemption_approve(
        actor=request.user,
        result=result,
        indicator=body.indicator,
        deduction_key=body.deduction_key,
        reason=body.reason,
    )
    return Status(201, ExemptionOut.of(exemption))


class RecheckIn(Schema):
    reason: str


class DecisionIn(Schema):
    changed: bool
    outcome: str


class RecheckOut(Schema):
    id: int
    assessment: int
    unit: str
    status: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    outcome: str
    decided_by: str | None
    decided_at: dt.datetime | None
    new_assessment: int | None = Field(description="the published run holding the changed result")
    new_total: str | None

    @staticmethod
    def of(recheck: Recheck) -> RecheckOut:
        new = recheck.new_result
        return RecheckOut(
            id=recheck.pk,
            assessment=recheck.result.assessment_id,
            unit=recheck.result.unit.code,
            status=recheck.status,
            reason=recheck.reason,
            requested_by=recheck.requested_by.get_username(),
            requested_at=recheck.requested_at,
            outcome=recheck.outcome,
            decided_by=recheck.decided_by.get_username() if recheck.decided_by else None,
            decided_at=recheck.decided_at,
            new_assessment=new.assessment_id if new else None,
            new_total=str(new.total) if new else None,
        )


@router.post(
    "/{assessment_id}/results/{unit_code}/rechecks",
    response={201: RecheckOut},
    summary="Ask for a re-check of a published result",
)
def request_recheck(
    request: HttpRequest, assessment_id: int, unit_code: str, body: RecheckIn
) -> Status[RecheckOut]:
    run = selectors.assessment_get(request.user, assessment_id)
    result = selectors.result_get(request.user, run, unit_code)
    recheck = services.recheck_request(actor=request.user, result=result, reason=body.reason)
    return Status(201, RecheckOut.of(recheck))


def _recheck_get(user: User, pk: int) -> Recheck:
    found = (
        Recheck.objects.filter(unit_scope_q(user, field="result__unit"), pk=pk)
        .select_related("result__unit", "result__assessment__scheme", "requested_by")
        .first()
    )
    if found is None:
        raise Http404("re-check not found")
    return found


@router.post(
    "/rechecks/{recheck_id}/decision",
    response=RecheckOut,
    summary="Decide a re-check (centre director): upheld, or changed and republished",
)
def decide_recheck(request: HttpRequest, recheck_id: int, body: DecisionIn) -> RecheckOut:
    """Changed: the period is recomputed from the data as it now stands and the new run is published;
    refused when that gives the unit the same result."""
    recheck = _recheck_get(request.user, recheck_id)
    decided = services.recheck_decide(
        actor=request.user, recheck=recheck, changed=body.changed, outcome=body.outcome
    )
    return RecheckOut.of(decided)
