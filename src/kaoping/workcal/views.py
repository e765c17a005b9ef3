from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kaoping.core import clock
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.selectors import get_calendar, month_weeks, published_years


@login_required
def month_view(request: HttpRequest, year: int | None = None, month: int | None = None) -> HttpResponse:
    today = clock.today()
    year = year or today.year
    month = month or today.month
    if not 1 <= month <= 12:
        raise Http404("no such month")
    try:
        weeks = month_weeks(year, month, today=today)
    except CalendarError:
        raise Http404("outside the calendar's span") from None
    calendar = get_calendar()
    prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    cells = [c for w in weeks for c in w if c.in_month]
    return render(
        request,
        "workcal/month.html",
        {
            "year": year,
            "month": month,
            "weeks": weeks,
            "provisional": year not in calendar.published_years,
            "workday_count": sum(1 for c in cells if c.is_workday),
            "holidays": [c for c in cells if c.name and c.kind == "holiday"],
            "make_up_days": [c for c in cells if c.kind == "make_up_workday"],
            "prev": (prev_year, prev_month),
            "next": (next_year, next_month),
            "office_hours": str(calendar.office_hours),
            "years": published_years(),
            "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
        },
    )
