from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.cases import selectors, services
from kaoping.cases.labels import NODE_LABELS, STATUS_FILTERS, STATUS_LABELS
from kaoping.catalog.models import Channel, Matter, MatterKind
from kaoping.core import clock
from kaoping.core.errors import KaopingError
from kaoping.core.permissions import unit_scope_q
from kaoping.org.models import Unit
from kaoping.ratings.public_views import rating_link
from kaoping.workcal.selectors import get_calendar

STATUS_CHOICES = [(code, STATUS_LABELS[code]) for code in STATUS_FILTERS]


def _int(value: str | None, name: str = "", errors: list[str] | None = None) -> int | None:
    if value and value.isdigit():
        return int(value)
    if value and errors is not None:
        errors.append(_("%(name)s：“%(value)s”不是有效的编号") % {"name": name, "value": value})
    return None


def _date(value: str | None, name: str = "", errors: list[str] | None = None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        if errors is not None:
            errors.append(
                _("%(name)s：“%(value)s”不是日期（应为 YYYY-MM-DD）") % {"name": name, "value": value}
            )
        return None


def _choice(value: str, name: str, allowed: list[str], errors: list[str]) -> str:
    if value and value not in allowed:
        errors.append(_("%(name)s：“%(value)s”不是可选值") % {"name": name, "value": value})
        return ""
    return value


@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    get = request.GET
    # A filter that cannot be read is said so, not dropped silently: the list would look filtered.
    errors: list[str] = []
    filters = selectors.CaseFilters(
        unit=_int(get.get("unit"), _("单位"), errors),
        matter=_int(get.get("matter"), _("事项"), errors),
        kind=_choice(get.get("kind", ""), _("办件类型"), list(MatterKind.values), errors),
        channel=_choice(get.get("channel", ""), _("渠道"), list(Channel.values), errors),
        status=_choice(get.get("status", ""), _("状态"), list(STATUS_FILTERS), errors),
        start=_date(get.get("start"), _("收件日期自"), errors),
        end=_date(get.get("end"), _("至"), errors),
    )
    try:
        after = selectors.parse_cursor(get.get("after", ""))
    except KaopingError:
        after = None
    cases = selectors.case_list(user=request.user, filters=filters, after=after)
    next_query = None
    if len(cases) == selectors.PAGE_SIZE:
        query = get.copy()
        query["after"] = selectors.make_cursor(cases[-1])
        next_query = query.urlencode()
    units = Unit.objects.filter(unit_scope_q(request.user)).order_by("path").only("pk", "name", "depth")
    matters = (
        Matter.objects.filter(unit_scope_q(request.user, field="owner")).order_by("code").only("pk", "name")
    )
    return render(
        request,
        "cases/list.html",
        {
            "cases": cases,
            "filters": filters,
            "next_query": next_query,
            "units": units,
            "matters": matters,
            "kinds": MatterKind.choices,
            "channels": Channel.choices,
            "statuses": STATUS_CHOICES,
            "node_labels": NODE_LABELS,
            "first_page": after is None,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = selectors.case_get(user=request.user, case_id=case_id)
    except KaopingError:
        raise Http404("no such case in your scope") from None
    timeline = selectors.case_timeline(case)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "timeline": timeline,
            "applicant": selectors.applicant_view(user=request.user, case=case),
            "events": selectors.case_events(case=case),
            "node_labels": NODE_LABELS,
            "warnings": case.warnings.order_by("raised_at"),
            "node_names": dict(case.matter.nodes.values_list("code", "name")),
            "ratings": case.ratings.order_by("rated_at").select_related("rectification"),
            # A fresh one-time link to hand or text to the applicant (each works once, for one channel).
            "rating_link": request.build_absolute_uri(rating_link(case)) if case.status == "closed" else "",
        },
    )


@login_required
def warning_feed_view(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    acknowledged = None if show == "all" else False
    return render(
        request,
        "cases/warnings.html",
        {
            "warnings": selectors.warning_list(user=request.user, acknowledged=acknowledged),
            "show": show,
            "node_labels": NODE_LABELS,
        },
    )


@login_required
@require_POST
def warning_acknowledge_view(request: HttpRequest, warning_id: int) -> HttpResponse:
    try:
        services.warning_acknowledge(actor=request.user, warning_id=warning_id)
    except KaopingError:
        raise Http404("no such warning in your scope") from None
    messages.success(request, _("预警已确认"))
    return redirect(request.POST.get("next") or "cases:warnings")


def _latest_workday(day: dt.date) -> dt.date:
    """Opening the page on a weekend or holiday shows the last working day, not an empty one."""
    calendar = get_calendar()
    for _step in range(30):
        if calendar.is_workday(day):
            return day
        day -= dt.timedelta(days=1)
    return day


@login_required
def unit_day_view(request: HttpRequest) -> HttpResponse:
    units = list(Unit.objects.filter(unit_scope_q(request.user)).order_by("path"))
    if not units:
        raise Http404("no units in your scope")
    chosen = next((u for u in units if u.pk == _int(request.GET.get("unit"))), units[0])
    day = _date(request.GET.get("date")) or _latest_workday(clock.today())
    counts = selectors.unit_day(user=request.user, unit=chosen, day=day, tz=clock.local_zone())
    overdue = selectors.case_list(
        user=request.user, filters=selectors.CaseFilters(unit=chosen.pk, status="overdue"), limit=10
    )
    return render(
        request,
        "cases/day.html",
        {
            "units": units,
            "unit": chosen,
            "day": day,
            "counts": counts,
            "overdue": overdue,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "node_labels": NODE_LABELS,
        },
    )
