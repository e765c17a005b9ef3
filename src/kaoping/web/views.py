from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from kaoping.core import clock
from kaoping.core.permissions import scope_paths
from kaoping.org.models import RoleAssignment
from kaoping.org.selectors import unit_list
from kaoping.workcal.selectors import get_calendar


@login_required
def home(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    calendar = get_calendar()
    roles = RoleAssignment.objects.filter(user__pk=request.user.pk or 0).select_related("unit")
    units = list(unit_list(user=request.user))
    paths = set(scope_paths(request.user))
    # The top of each subtree the user covers (their own units), not every descendant.
    own = [u for u in units if u.path in paths] or [u for u in units if u.depth == 0]
    return render(
        request,
        "web/home.html",
        {
            "today": today,
            "today_kind": calendar.day_kind(today),
            "today_workday": calendar.is_workday(today),
            "roles": roles,
            "own_units": own,
            "unit_count": len(units),
        },
    )


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
