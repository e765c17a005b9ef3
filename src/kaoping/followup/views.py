"""Pages of the rectification workflow: the list of follow-ups and one follow-up with its next steps."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_phone, mask_text
from kaoping.core.permissions import can_access_unit, sees_personal_data, unit_scope_q
from kaoping.followup import services
from kaoping.followup.models import Rectification
from kaoping.followup.workflow import STATE_LABELS, VERDICT_LABELS, State, Triage, Verdict, allowed_actions


@login_required
def rectification_list_view(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    rows = Rectification.objects.filter(unit_scope_q(request.user, field="unit"))
    unit = request.GET.get("unit", "")
    if unit.isdigit():
        rows = rows.filter(unit__path__contains=f"/{unit}/")
    if state:
        if state not in State.__members__.values():
            messages.error(request, _("未知状态：%(state)s") % {"state": state})
        else:
            rows = rows.filter(state=state)
    rows = rows.select_related("unit", "rating").order_by("-opened_at", "-pk")[:200]
    return render(
        request,
        "followup/list.html",
        {"rows": rows, "state": state, "states": [(s.value, label) for s, label in STATE_LABELS.items()]},
    )


def _visible(request: HttpRequest, pk: int) -> Rectification:
    rect = (
        Rectification.objects.select_related("unit", "rating", "rating__case", "follow_up_rating")
        .filter(pk=pk)
        .first()
    )
    if rect is None or not can_access_unit(request.user, rect.unit):
        raise Http404("rectification not found")
    return rect


@login_required
def rectification_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _visible(request, pk)
    rating = rect.rating
    personal = sees_personal_data(request.user, rect.unit)
    phone = ""
    text = ""
    if rating is not None:
        phone = (
            rating.rater_phone if personal else mask_phone(rating.rater_phone) if rating.rater_phone else ""
        )
        text = rating.text if personal else mask_text(rating.text)
    return render(
        request,
        "followup/detail.html",
        {
            "r": rect,
            "rating": rating,
            "phone": phone,
            "text": text,
            "actions": [a.value for a in allowed_actions(State(rect.state))],
            "verdicts": list(VERDICT_LABELS.items()),
            "state_label": STATE_LABELS[State(rect.state)],
        },
    )


@login_required
@require_POST
def rectification_step_view(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _visible(request, pk)
    post = request.POST
    action = post.get("action", "")
    note = post.get("note", "")
    try:
        if action == "revisit":
            services.rectification_revisit(actor=request.user, rectification=rect, note=note)
        elif action in ("fix_now", "complex", "no_basis"):
            days = post.get("days", "")
            services.rectification_triage(
                actor=request.user,
                rectification=rect,
                triage=Triage(action),
                note=note,
                days=int(days) if days.isdigit() else None,
            )
        elif action == "rectify":
            services.rectification_rectify(actor=request.user, rectification=rect, note=note)
        elif action == "verdict" and post.get("verdict") in Verdict.__members__.values():
            services.rectification_verdict(
                actor=request.user, rectification=rect, verdict=Verdict(post["verdict"])
            )
        else:
            raise KaopingError(
                ErrorCode.INVALID, what="rectification", where="action", why=f"unknown step {action!r}"
            )
        messages.success(request, _("已记录。"))
    except KaopingError as exc:
        messages.error(request, exc.message)
    return redirect("followup:detail", pk=rect.pk)
