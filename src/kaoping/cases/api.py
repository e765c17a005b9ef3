from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kaoping.cases import selectors, services
from kaoping.cases.models import Case, CaseWarning
from kaoping.core.errors import ErrorCode, KaopingError

router = Router(tags=["cases"])
MAX_RECORDS = 1000


class IngestOut(Schema):
    accepted_cases: int
    accepted_events: int
    duplicates: int
    rejected: list[dict[str, str]]


@router.post("/records", response=IngestOut, summary="Post cases and events as they happen")
def post_records(request: HttpRequest, records: list[dict[str, Any]]) -> IngestOut:
    """Records as in docs/data-formats.md. Sending a record again changes nothing; an event whose case
    is not stored yet is refused (send the case first). Units outside your roles are refused."""
    if len(records) > MAX_RECORDS:
        raise KaopingError(ErrorCode.INVALID, what="records", why=f"at most {MAX_RECORDS} records per call")
    report = services.cases_ingest(
        actor=request.user,
        records=[(f"record {i}", r) for i, r in enumerate(records)],
        label="api",
        orphans="reject",
        user=request.user,
    )
    return IngestOut(
        accepted_cases=report.accepted_cases,
        accepted_events=report.accepted_events,
        duplicates=report.duplicates,
        rejected=[{"where": r.where, "id": r.record_id, "reason": r.reason} for r in report.rejected],
    )


class CaseOut(Schema):
    id: int
    source: str
    external_id: str
    matter: str
    unit: str
    channel: str
    received_at: dt.datetime
    status: str
    deadline_status: str
    current_node: str
    current_due_at: dt.datetime | None
    handling_due_at: dt.datetime | None
    provisional: bool
    overdue: bool
    breaker: bool

    @staticmethod
    def of(case: Case) -> CaseOut:
        return CaseOut(
            id=case.pk,
            source=case.source,
            external_id=case.external_id,
            matter=case.matter.code,
            unit=case.unit.code,
            channel=case.channel,
            received_at=case.received_at,
            status=case.status,
            deadline_status=case.deadline_status,
            current_node=case.current_node,
            current_due_at=case.current_due_at,
            handling_due_at=case.handling_due_at,
            provisional=case.provisional,
            overdue=case.overdue,
            breaker=case.breaker,
        )


class CasePage(Schema):
    items: list[CaseOut]
    next: str | None = Field(None, description="pass as `after` for the next page")


class CaseQuery(Schema):
    unit: int | None = None
    matter: int | None = None
    kind: str = ""
    channel: str = ""
    status: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    after: str = ""


@router.get("", response=CasePage, summary="Cases in your scope, newest first")
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> CasePage:
    filters = selectors.CaseFilters(
        unit=query.unit,
        matter=query.matter,
        kind=query.kind,
        channel=query.channel,
        status=query.status,
        start=query.start,
        end=query.end,
    )
    cases = selectors.case_list(user=request.user, filters=filters, after=selectors.parse_cursor(query.after))
    return CasePage(
        items=[CaseOut.of(c) for c in cases],
        next=selectors.make_cursor(cases[-1]) if len(cases) == selectors.PAGE_SIZE else None,
    )


class NodeOut(Schema):
    code: str
    limit: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    due_at: dt.datetime | None
    provisional: bool
    status: str
    used_share: float
    breaker: bool


class CaseDetailOut(CaseOut):
    applicant: dict[str, str]
    nodes: list[NodeOut]
    events: list[dict[str, Any]]


@router.get("/{case_id}", response=CaseDetailOut, summary="One case with its timeline")
def get_case(request: HttpRequest, case_id: int) -> CaseDetailOut:
    case = selectors.case_get(user=request.user, case_id=case_id)
    timeline = selectors.case_timeline(case)
    return CaseDetailOut(
        **CaseOut.of(case).dict(),
        applicant=selectors.applicant_view(user=request.user, case=case),
        nodes=[
            NodeOut(
                code=n.code,
                limit=str(n.limit),
                started_at=n.started_at,
                ended_at=n.ended_at,
                due_at=n.due_at,
                provisional=n.provisional,
                status=n.status.value,
                used_share=n.used_share,
                breaker=n.breaker,
            )
            for n in timeline.nodes
        ],
        events=[
            {"id": e.external_id, "event": e.kind, "at": e.at.isoformat(), "node": e.node, **e.detail}
            for e in selectors.case_events(case=case)
        ],
    )


class WarningOut(Schema):
    id: int
    case_id: int
    case: str
    unit: str
    node: str
    kind: str
    due_at: dt.datetime
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None

    @staticmethod
    def of(w: CaseWarning) -> WarningOut:
        return WarningOut(
            id=w.pk,
            case_id=w.case_id,
            case=w.case.external_id,
            unit=w.unit.code,
            node=w.node,
            kind=w.kind,
            due_at=w.due_at,
            raised_at=w.raised_at,
            acknowledged_at=w.acknowledged_at,
        )


@router.get("/warnings/feed", response=list[WarningOut], summary="Warnings in your scope, newest first")
def list_warnings(request: HttpRequest, acknowledged: bool | None = None) -> list[WarningOut]:
    return [WarningOut.of(w) for w in selectors.warning_list(user=request.user, acknowledged=acknowledged)]


@router.post("/warnings/{warning_id}/acknowledge", response=WarningOut, summary="Acknowledge a warning")
def acknowledge(request: HttpRequest, warning_id: int) -> WarningOut:
    warning = services.warning_acknowledge(actor=request.user, warning_id=warning_id)
    return WarningOut.of(warning)
