"""HTTP API of ratings: hall terminals, apps and SMS gateways post ratings; figures and links."""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from kaoping.cases.models import Case
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import can_access_unit
from kaoping.ratings import selectors, services
from kaoping.ratings.codes import Channel, Convention
from kaoping.ratings.figures import LevelCounts
from kaoping.ratings.public_views import rating_link

router = Router(tags=["ratings"])
MAX_RECORDS = 1000


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[dict[str, str]]


@router.post("/records", response=IngestOut, summary="Post ratings (terminals, apps, SMS gateways)")
def post_records(
    request: HttpRequest, records: list[dict[str, Any]], codes: Literal["gbt39046", "provincial"]
) -> IngestOut:
    """Rating records as in docs/data-formats.md. ``codes`` declares how ``level`` is written: gbt39046
    (1 = 非常满意) or provincial (1 = 非常不满意); it is never guessed. Sending a rating again changes
    nothing; a second first rating of a case through one channel is refused."""
    if len(records) > MAX_RECORDS:
        raise KaopingError(ErrorCode.INVALID, what="records", why=f"at most {MAX_RECORDS} records per call")
    report = services.ratings_ingest(
        actor=request.user,
        records=[(f"record {i}", r) for i, r in enumerate(records)],
        label="api",
        convention=Convention(codes),
        user=request.user,
    )
    return IngestOut(
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=[{"where": r.where, "id": r.record_id, "reason": r.reason} for r in report.rejected],
    )


class CountsOut(Schema):
    total: int
    very_satisfied: int
    satisfied: int
    basic: int
    dissatisfied: int
    very_dissatisfied: int
    satisfaction_rate: float | None
    good_rate: float | None
    bad: int

    @staticmethod
    def of(c: LevelCounts) -> CountsOut:
        return CountsOut(
            total=c.total,
            very_satisfied=c.very_satisfied,
            satisfied=c.satisfied,
            basic=c.basic,
            dissatisfied=c.dissatisfied,
            very_dissatisfied=c.very_dissatisfied,
            satisfaction_rate=c.satisfaction_rate,
            good_rate=c.good_rate,
            bad=c.bad,
        )


class RowOut(Schema):
    id: int | None
    name: str
    counts: CountsOut


class FollowUpOut(Schema):
    bad_ratings: int
    real_name: int
    revisited: int
    revisit_rate: float | None
    rectification_rate: float | None
    rectification_satisfaction: float | None
    states: dict[str, int]


class FiguresOut(Schema):
    unit: str
    start: str
    end: str
    totals: CountsOut
    defaulted: int
    rows: list[RowOut]
    follow_up: FollowUpOut
    keywords: list[tuple[str, int]]
    pending_flags: int


class FiguresQuery(Schema):
    unit: int | None = None
    start: str | None = None
    end: str | None = None
    by: Literal["unit", "staff"] = "unit"
    include_defaulted: bool = True


@router.get("/figures", response=FiguresOut, summary="Rating figures of a unit's subtree for a period")
def figures(request: HttpRequest, query: Query[FiguresQuery]) -> FiguresOut:
    unit = selectors.visible_unit(request.user, query.unit)
    period = selectors.parse_period(query.start, query.end)
    f = selectors.rating_figures(
        user=request.user, unit=unit, period=period, by=query.by, include_defaulted=query.include_defaulted
    )
    m = f.follow_up
    return FiguresOut(
        unit=unit.code,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        totals=CountsOut.of(f.totals),
        defaulted=f.defaulted,
        rows=[RowOut(id=r.key, name=r.name, counts=CountsOut.of(r.counts)) for r in f.rows],
        follow_up=FollowUpOut(
            bad_ratings=m.bad_ratings,
            real_name=m.real_name,
            revisited=m.revisited,
            revisit_rate=m.revisit_rate,
            rectification_rate=m.rectification_rate,
            rectification_satisfaction=m.rectification_satisfaction,
            states=f.follow_up_states,
        ),
        keywords=f.keywords,
        pending_flags=f.pending_flags,
    )


class LinkIn(Schema):
    case_id: int
    channel: Literal["mobile", "sms", "pc"] = "mobile"


class LinkOut(Schema):
    url: str


@router.post("/links", response=LinkOut, summary="A signed one-time rating link for a case (to send by SMS)")
def create_link(request: HttpRequest, body: LinkIn) -> LinkOut:
    case = Case.objects.select_related("unit").filter(pk=body.case_id).first()
    if case is None or not can_access_unit(request.user, case.unit):
        raise Http404("case not found")
    return LinkOut(url=request.build_absolute_uri(rating_link(case, channel=Channel(body.channel))))
