from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kaoping.catalog.selectors import matter_list
from kaoping.core.errors import KaopingError
from kaoping.org import selectors
from kaoping.org.models import UnitKind


@login_required
def unit_list_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or None
    units = list(selectors.unit_list(user=request.user, kind=kind))
    top = min((u.depth for u in units), default=0)
    for unit in units:
        unit.indent = unit.depth - top  # type: ignore[attr-defined]
    return render(request, "org/unit_list.html", {"units": units, "kinds": UnitKind.choices, "kind": kind})


@login_required
def unit_detail_view(request: HttpRequest, unit_id: int) -> HttpResponse:
    try:
        unit = selectors.unit_get(user=request.user, unit_id=unit_id)
    except KaopingError:
        raise Http404("no such unit in your scope") from None
    # Staff names are the organisation's own data, shown to everyone in scope; citizens' personal
    # data (cases, ratings, tickets) is what gets masked.
    staff = selectors.staff_list(user=request.user, unit=unit)
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "ancestors": selectors.unit_ancestors(unit=unit),
            "children": selectors.unit_children(user=request.user, unit=unit),
            "staff": staff,
            "matters": matter_list(user=request.user).filter(owner__path__startswith=unit.path),
        },
    )
