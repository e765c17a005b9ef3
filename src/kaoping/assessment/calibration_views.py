"""The calibration page (R0.3): per indicator the share of units that met it per quarter (or period),
the proposals with their explanations, a draft scheme version with the chosen raises, and the
remediation items. The centre director's page: others get 403."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.assessment.calibrate import (
    calibration_draft,
    calibration_for,
    remediation_close,
    remediation_items,
    remediation_open,
)
from kaoping.assessment.models import RemediationItem, SchemeStatus, SchemeVersion
from kaoping.core.errors import KaopingError
from kaoping.core.permissions import User, user_roles
from kaoping.org.models import Role


def _require_director(user: User) -> None:
    if not (
        user.is_authenticated
        and (getattr(user, "is_superuser", False) or Role.CENTRE_DIRECTOR in user_roles(user))
    ):
        raise PermissionDenied("calibration is the centre director's")


def _back(scheme: str) -> HttpResponse:
    return redirect(f"{reverse('assessment:calibration')}?{urlencode({'scheme': scheme})}")


@login_required
def calibration_view(request: HttpRequest) -> HttpResponse:
    _require_director(request.user)
    schemes = list(SchemeVersion.objects.filter(status=SchemeStatus.PUBLISHED).order_by("code"))
    code = request.GET.get("scheme", "") or (schemes[0].code if schemes else "")
    calibration = None
    error = ""
    if code:
        try:
            calibration = calibration_for(code)
        except KaopingError as failure:
            error = str(failure)
    open_items = remediation_items(code or None)
    opened = {item.indicator for item in open_items}
    return render(
        request,
        "assessment/calibration.html",
        {
            "schemes": schemes,
            "scheme": code,
            "calibration": calibration,
            "error": error,
            "open_items": open_items,
            "opened": opened,
        },
    )


@login_required
@require_POST
def calibration_draft_view(request: HttpRequest) -> HttpResponse:
    _require_director(request.user)
    code = request.POST.get("scheme", "")
    try:
        draft = calibration_draft(
            actor=request.user, scheme_code=code, indicators=request.POST.getlist("indicator")
        )
    except KaopingError as failure:
        messages.error(request, str(failure))
        return _back(code)
    messages.success(
        request,
        _("已按校准建议建立草稿版本 v%(v)s；发布后方才生效。") % {"v": draft.version},
    )
    return redirect("assessment:scheme", pk=draft.pk)


@login_required
@require_POST
def remediation_open_view(request: HttpRequest) -> HttpResponse:
    _require_director(request.user)
    code = request.POST.get("scheme", "")
    try:
        remediation_open(
            actor=request.user,
            scheme_code=code,
            indicator=request.POST.get("indicator", ""),
            note=request.POST.get("note", ""),
        )
    except KaopingError as failure:
        messages.error(request, str(failure))
    else:
        messages.success(request, _("已启动专项整改。"))
    return _back(code)


@login_required
@require_POST
def remediation_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_director(request.user)
    item = get_object_or_404(RemediationItem, pk=pk)
    try:
        remediation_close(actor=request.user, item=item, outcome=request.POST.get("outcome", ""))
    except KaopingError as failure:
        messages.error(request, str(failure))
    else:
        messages.success(request, _("专项整改已关闭。"))
    return _back(item.scheme_code)
