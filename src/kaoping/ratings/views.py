"""Pages of ratings for officials: figures per window, unit and staff member; the flags to review;
printable QR posters for windows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.core.errors import KaopingError
from kaoping.core.permissions import can_access_unit, unit_scope_q
from kaoping.org.models import Unit, UnitKind
from kaoping.ratings import selectors, services
from kaoping.ratings.models import FlagStatus, RatingFlag


@login_required
def figures_view(request: HttpRequest) -> HttpResponse:
    get = request.GET
    units = Unit.objects.filter(unit_scope_q(request.user)).order_by("path").only("pk", "name", "depth")
    try:
        unit = selectors.visible_unit(request.user, get.get("unit"))
        period = selectors.parse_period(get.get("from"), get.get("to"))
        by = get.get("by", "unit")
        figures = selectors.rating_figures(
            user=request.user, unit=unit, period=period, by=by, include_defaulted=get.get("defaulted") != "0"
        )
    except KaopingError as exc:
        return render(request, "ratings/figures.html", {"error": exc.message, "units": units}, status=400)
    return render(
        request,
        "ratings/figures.html",
        {"f": figures, "units": units, "by": by, "include_defaulted": get.get("defaulted") != "0"},
    )


@login_required
def flag_list_view(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "pending")
    flags = RatingFlag.objects.filter(unit_scope_q(request.user, field="unit"))
    if show == "pending":
        flags = flags.filter(status=FlagStatus.PENDING)
    flags = flags.select_related("rating", "unit", "reviewed_by").order_by("-raised_at", "-pk")[:200]
    return render(request, "ratings/flags.html", {"flags": flags, "show": show})


@login_required
@require_POST
def flag_review_view(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = RatingFlag.objects.select_related("unit").filter(pk=flag_id).first()
    if flag is None or not can_access_unit(request.user, flag.unit):
        raise Http404("flag not found")
    try:
        services.flag_review(
            actor=request.user,
            flag=flag,
            confirmed=request.POST.get("decision") == "confirm",
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("核查结果已记录。"))
    except KaopingError as exc:
        messages.error(request, exc.message)
    return redirect("ratings:flags")


@login_required
def poster_view(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A printable A4 poster with the window's rating QR code (SVG, so it prints sharp)."""
    import segno

    unit = Unit.objects.filter(pk=unit_id, kind=UnitKind.WINDOW).first()
    if unit is None or not can_access_unit(request.user, unit):
        raise Http404("window not found")
    url = request.build_absolute_uri(f"/r/w/{unit.code}/")
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=10, dark="#1f2933")
    return render(request, "ratings/poster.html", {"unit": unit, "url": url, "svg": svg})
