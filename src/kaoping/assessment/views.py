"""Pages of the assessment: runs, a run's results table, one unit's result where every lost point
links to the records behind it, and the scheme versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.assessment import selectors, services
from kaoping.assessment.assess import parse_period
from kaoping.assessment.metrics import METRICS, record_query
from kaoping.assessment.models import (
    AssessmentResult,
    AssessmentStatus,
    ManualCode,
    ManualEntry,
    Recheck,
    RecheckStatus,
    SchemeStatus,
    SchemeVersion,
)
from kaoping.assessment.schemes import Category, Grade
from kaoping.cases.deadlines import NodeResult
from kaoping.cases.labels import NODE_LABELS
from kaoping.cases.models import Case
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_phone, mask_text
from kaoping.core.permissions import User, can_access_unit, sees_personal_data, unit_scope_q, user_roles
from kaoping.followup.models import Rectification
from kaoping.hotline.models import CallRecord, QualityFinding, Ticket
from kaoping.org.models import Role, Unit
from kaoping.ratings.models import Rating

RECORDS_PER_PAGE = 50
MAX_SHOWN_DEDUCTIONS = 10


def is_director(user: User) -> bool:
    return bool(
        user.is_authenticated
        and (getattr(user, "is_superuser", False) or Role.CENTRE_DIRECTOR in user_roles(user))
    )


def _fail(request: HttpRequest, error: KaopingError) -> None:
    messages.error(request, str(error))


@login_required
def assessment_list_view(request: HttpRequest) -> HttpResponse:
    runs = selectors.assessments_visible(request.user)
    scheme = request.GET.get("scheme", "")
    if scheme:
        runs = runs.filter(scheme__code=scheme)
    schemes = SchemeVersion.objects.filter(status=SchemeStatus.PUBLISHED).order_by("code")
    previous_month = clock.now().date().replace(day=1) - dt.timedelta(days=1)
    return render(
        request,
        "assessment/list.html",
        {
            "runs": runs[:200],
            "schemes": schemes,
            "scheme": scheme,
            "director": is_director(request.user),
            "default_period": f"{previous_month:%Y-%m}",
        },
    )


@login_required
@require_POST
def assessment_run_view(request: HttpRequest) -> HttpResponse:
    try:
        run = services.assessment_run(
            actor=request.user,
            scheme_code=request.POST.get("scheme", ""),
            period=request.POST.get("period", ""),
            reason=request.POST.get("reason", ""),
        )
    except KaopingError as error:
        _fail(request, error)
        return redirect("assessment:list")
    messages.success(request, _("已计算考核 #%(pk)s。") % {"pk": run.pk})
    return redirect("assessment:detail", pk=run.pk)


def _grade_label(grade: str) -> str:
    # The pure module's Chinese labels are message ids: translated here, at the edge.
    return _(Grade(grade).label) if grade else _("未评定")


@login_required
def assessment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    results = list(selectors.results_visible(request.user, run))
    counts: dict[str, int] = {}
    for result in results:
        label = _grade_label(result.grade)
        counts[label] = counts.get(label, 0) + 1
    rows = [{"r": result, "grade_label": _grade_label(result.grade)} for result in results]
    return render(
        request,
        "assessment/detail.html",
        {
            "run": run,
            "rows": rows,
            "counts": sorted(counts.items()),
            "director": is_director(request.user),
            "published": run.status == AssessmentStatus.PUBLISHED,
        },
    )


@login_required
@require_POST
def assessment_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    try:
        services.assessment_publish(actor=request.user, assessment=run)
        messages.success(request, _("考核结果已公布。"))
    except KaopingError as error:
        _fail(request, error)
    return redirect("assessment:detail", pk=run.pk)


@login_required
def assessment_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    from kaoping.assessment.export import assessment_workbook

    run = selectors.assessment_get(request.user, pk)
    content = assessment_workbook(run, list(selectors.results_visible(request.user, run)))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="assessment-{run.pk}-{run.scheme.code}-{run.period}.xlsx"'
    )
    return response


def _line_rows(result: AssessmentResult) -> list[dict[str, Any]]:
    rows = []
    for line in result.lines:
        lost = line["points"] is not None and float(line["points"]) < float(line["max_points"])
        # A per-occurrence line may list hundreds of occurrences past its cap: show those that cost
        # points (at most a screenful) and count the rest; the records page lists them all.
        costly = [d for d in line["deductions"] if Decimal(d["amount"]) > 0 or d["vetoes"]]
        rows.append(
            {
                **line,
                "shown_deductions": costly[:MAX_SHOWN_DEDUCTIONS],
                "more_deductions": len(costly) - min(len(costly), MAX_SHOWN_DEDUCTIONS),
                "uncharged": line.get("uncharged", 0),
                "category_label": _(Category(line["category"]).label),
                "lost": lost or bool(line["deductions"]),
                "has_records": line["metric"] in METRICS or line["metric"].startswith("manual:"),
            }
        )
    return rows


@login_required
def result_detail_view(request: HttpRequest, pk: int, unit_code: str) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    result = selectors.result_get(request.user, run, unit_code)
    may_ask = (
        run.status == AssessmentStatus.PUBLISHED
        and can_access_unit(request.user, result.unit, write=True)
        and not result.rechecks.filter(status=RecheckStatus.REQUESTED).exists()
    )
    deadline = services.recheck_deadline(run) if run.status == AssessmentStatus.PUBLISHED else None
    return render(
        request,
        "assessment/result.html",
        {
            "run": run,
            "r": result,
            "grade_label": _grade_label(result.grade),
            "lines": _line_rows(result),
            "director": is_director(request.user),
            "may_ask": may_ask and deadline is not None and clock.now() <= deadline,
            "deadline": deadline,
            "rechecks": result.rechecks.select_related(
                "requested_by", "decided_by", "new_result__assessment"
            ),
        },
    )


def _how_late(nodes: list[NodeResult]) -> str:
    """E.g. "受理用时 167%（时限 30个工作分钟）": the working time a late node used against its limit."""
    return "；".join(
        _("%(node)s用时 %(share)s（时限 %(limit)s）")
        % {"node": _(NODE_LABELS.get(n.code, n.code)), "share": f"{n.used_share:.0%}", "limit": n.limit.label}
        for n in nodes
    )


def _late_reply(ticket: Ticket) -> str:
    """How late a ticket's reply is: replied after its deadline, or its deadline passed unanswered."""
    due = ticket.extended_due_at or ticket.due_at
    if due is None:
        return ""
    if ticket.replied_at is None:
        if due >= clock.now():
            return ""
        return _("未答复，时限 %(due)s") % {"due": localtime(due).strftime("%m-%d %H:%M")}
    if ticket.replied_at <= due:
        return ""
    return _("答复 %(replied)s，时限 %(due)s") % {
        "replied": localtime(ticket.replied_at).strftime("%m-%d %H:%M"),
        "due": localtime(due).strftime("%m-%d %H:%M"),
    }


def _record_rows(records: list[Any], personal: bool) -> list[dict[str, Any]]:
    rows = []
    late = selectors.late_nodes([r for r in records if isinstance(r, Case)])
    for record in records:
        if isinstance(record, Case):
            how_late = _how_late(late.get(record.pk, []))
            rows.append(
                {
                    "kind": _("办件"),
                    "id": record.external_id,
                    "url": f"/cases/{record.pk}/",
                    "when": record.received_at,
                    "text": f"{record.matter.name} · {record.unit.name}"
                    + (f" · {how_late}" if how_late else ""),
                }
            )
        elif isinstance(record, Rating):
            text = record.text if personal else mask_text(record.text)
            rows.append(
                {
                    "kind": _("评价"),
                    "id": record.external_id,
                    "url": f"/cases/{record.case_id}/" if record.case_id else "",
                    "when": record.rated_at,
                    "text": f"{record.get_level_display()} · {record.get_channel_display()}"
                    + (f" · {text}" if text else "")
                    + (
                        f" · {record.rater_phone if personal else mask_phone(record.rater_phone)}"
                        if record.rater_phone
                        else ""
                    ),
                }
            )
        elif isinstance(record, Ticket):
            content = record.content if personal else mask_text(record.content)
            rows.append(
                {
                    "kind": _("工单"),
                    "id": record.external_id,
                    "url": f"/hotline/tickets/{record.pk}/",
                    "when": record.received_at,
                    "text": " · ".join(
                        part
                        for part in (
                            record.get_category_display(),
                            record.get_state_display(),
                            _late_reply(record),
                            content[:80],
                        )
                        if part
                    ),
                }
            )
        elif isinstance(record, CallRecord):
            rows.append(
                {
                    "kind": _("话单"),
                    "id": record.external_id,
                    "url": "",
                    "when": record.started_at,
                    "text": _("放弃呼叫")
                    if record.abandoned
                    else _("等待 %(s)s 秒") % {"s": round(record.wait_seconds)},
                }
            )
        elif isinstance(record, QualityFinding):
            rows.append(
                {
                    "kind": _("质检发现"),
                    "id": str(record.pk),
                    "url": f"/hotline/tickets/{record.ticket_id}/" if record.ticket_id else "",
                    "when": record.found_at,
                    "text": f"{record.get_kind_display()} · {record.note}",
                }
            )
        elif isinstance(record, Rectification):
            rows.append(
                {
                    "kind": _("差评整改"),
                    "id": str(record.pk),
                    "url": f"/followup/{record.pk}/",
                    "when": record.opened_at,
                    "text": record.get_state_display(),
                }
            )
        else:
            rows.append(
                {
                    "kind": type(record)._meta.verbose_name,
                    "id": str(record.pk),
                    "url": "",
                    "when": getattr(record, "entered_at", None) or getattr(record, "period_end", None),
                    "text": str(getattr(record, "evidence", "") or record),
                }
            )
    return rows


@login_required
def line_records_view(request: HttpRequest, pk: int, unit_code: str, indicator: str) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    result = selectors.result_get(request.user, run, unit_code)
    line = selectors.line_of(result, indicator)
    try:
        records = record_query(
            line["metric"],
            result.unit,
            run.period_start,
            run.period_end,
            include_defaulted=run.scheme.scheme().count_default_ratings,
            user=request.user,
            staff=result.staff,
        )
    except KaopingError as error:
        _fail(request, error)
        return redirect("assessment:result", pk=run.pk, unit_code=unit_code)
    if records.model is Case:
        records = records.select_related("matter", "unit")
    page = Paginator(records, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    personal = sees_personal_data(request.user, result.unit)
    return render(
        request,
        "assessment/records.html",
        {
            "run": run,
            "r": result,
            "line": line,
            "page": page,
            "rows": _record_rows(list(page.object_list), personal),
        },
    )


@login_required
@require_POST
def exemption_view(request: HttpRequest, pk: int, unit_code: str) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    result = selectors.result_get(request.user, run, unit_code)
    try:
        services.exemption_approve(
            actor=request.user,
            result=result,
            indicator=request.POST.get("indicator", ""),
            deduction_key=request.POST.get("deduction_key", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("已批准免责；重新计算后生效。"))
    except KaopingError as error:
        _fail(request, error)
    return redirect("assessment:result", pk=run.pk, unit_code=unit_code)


@login_required
@require_POST
def recheck_request_view(request: HttpRequest, pk: int, unit_code: str) -> HttpResponse:
    run = selectors.assessment_get(request.user, pk)
    result = selectors.result_get(request.user, run, unit_code)
    try:
        services.recheck_request(actor=request.user, result=result, reason=request.POST.get("reason", ""))
        messages.success(request, _("已提交复核申请。"))
    except KaopingError as error:
        _fail(request, error)
    return redirect("assessment:result", pk=run.pk, unit_code=unit_code)


@login_required
@require_POST
def recheck_decide_view(request: HttpRequest, recheck_id: int) -> HttpResponse:
    recheck = get_object_or_404(
        Recheck.objects.select_related("result__assessment", "result__unit"), pk=recheck_id
    )
    run = selectors.assessment_get(request.user, recheck.result.assessment_id)
    selectors.result_get(request.user, run, recheck.result.subject_code)
    try:
        decided = services.recheck_decide(
            actor=request.user,
            recheck=recheck,
            changed=request.POST.get("changed") == "1",
            outcome=request.POST.get("outcome", ""),
        )
    except KaopingError as error:
        _fail(request, error)
        return redirect("assessment:result", pk=run.pk, unit_code=recheck.result.subject_code)
    messages.success(request, _("复核已办结。"))
    if decided.new_result is not None:
        return redirect(
            "assessment:result", pk=decided.new_result.assessment_id, unit_code=recheck.result.subject_code
        )
    return redirect("assessment:result", pk=run.pk, unit_code=recheck.result.subject_code)


# -- scheme versions ---------------------------------------------------------------------------


@login_required
def scheme_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assessment/schemes.html",
        {"versions": selectors.scheme_versions(), "director": is_director(request.user)},
    )


@login_required
def scheme_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(SchemeVersion, pk=pk)
    text = version.document
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "draft":
                draft = services.scheme_draft_create(actor=request.user, base=version)
                messages.success(request, _("已建立新草稿版本 v%(v)s。") % {"v": draft.version})
                return redirect("assessment:scheme", pk=draft.pk)
            if action == "save":
                text = request.POST.get("document", "")
                services.scheme_draft_update(actor=request.user, draft=version, text=text)
                messages.success(request, _("草稿已保存并通过校验。"))
                return redirect("assessment:scheme", pk=version.pk)
            if action == "publish":
                services.scheme_publish(actor=request.user, draft=version)
                messages.success(request, _("方案已发布，此版本不再可改。"))
                return redirect("assessment:scheme", pk=version.pk)
        except KaopingError as error:
            _fail(request, error)
    scheme = version.scheme()
    return render(
        request,
        "assessment/scheme.html",
        {
            "v": version,
            "scheme": scheme,
            "text": text,
            "director": is_director(request.user),
            "weights": [(_(c.label), w) for c, w in scheme.category_weights().items() if w],
        },
    )


@login_required
def scheme_yaml_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(SchemeVersion, pk=pk)
    response = HttpResponse(version.document, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{version.code}-v{version.version}.yaml"'
    return response


# -- manual values ------------------------------------------------------------------------------------


@login_required
def manual_entry_view(request: HttpRequest) -> HttpResponse:
    """Enter a manual indicator's value for a unit and period with its evidence (departments submit
    their data for an assessment task here); the latest entries in the user's scope below."""
    units = Unit.objects.filter(unit_scope_q(request.user, write=True), active=True).order_by("path")
    codes = ManualCode.objects.order_by("code")
    form = {
        key: request.POST.get(key, "") for key in ("unit", "code", "period", "value", "level", "evidence")
    }
    if request.method == "POST":
        try:
            unit = units.filter(pk=int(form["unit"] or 0)).first()
            if unit is None:
                raise KaopingError(
                    ErrorCode.NOT_FOUND,
                    what="unit",
                    where=form["unit"],
                    why="not one you may enter values for",
                )
            period = parse_period(form["period"])
            value = None
            if form["value"].strip():
                try:
                    value = float(form["value"])
                except ValueError as error:
                    raise KaopingError(
                        ErrorCode.INVALID,
                        what="manual value",
                        where="value",
                        why=f"{form['value']!r} is not a number",
                    ) from error
            services.manual_entry_submit(
                actor=request.user,
                unit=unit,
                code=form["code"],
                period_start=period.start,
                period_end=period.end,
                value=value,
                level=form["level"].strip(),
                evidence=form["evidence"],
            )
            messages.success(request, _("已填报。"))
            return redirect("assessment:manual")
        except KaopingError as error:
            _fail(request, error)
    entries = (
        ManualEntry.objects.filter(unit_scope_q(request.user, field="unit"))
        .select_related("unit", "code", "entered_by")
        .order_by("-entered_at", "-pk")[:100]
    )
    return render(
        request,
        "assessment/manual.html",
        {"units": units, "codes": codes, "form": form, "entries": entries},
        status=400 if request.method == "POST" else 200,
    )
