"""Pages of target tables and assessment tasks: lists, details with the actions the user may take, the
drafting form of a table and the issuing form of a task. Refusals come back as messages (or, on a form, as
the list of every problem next to what was entered); nothing outside the user's scope exists (404)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.assessment.metric_names import KNOWN_METRICS
from kaoping.core import clock
from kaoping.core.errors import KaopingError
from kaoping.core.permissions import can_access_unit, scope_paths, unit_scope_q
from kaoping.org.models import Unit, UnitKind
from kaoping.targets import selectors, services
from kaoping.targets.models import AssessmentTask, TargetTable
from kaoping.targets.services import ISSUING_KINDS, MeasureSpec, is_party
from kaoping.targets.workflow import (
    Action,
    Party,
    RowSpec,
    State,
    TaskState,
    allowed_actions,
    clean_rows,
    editable,
)
from kaoping.workcal.limits import Limit, LimitUnit
from kaoping.workcal.selectors import get_calendar

BLANK_ROWS = 3
# Default deadlines offered when issuing a task, in working days from now (R1.6 gives none; editable).
DATA_DAYS, RESULTS_DAYS = 5, 10


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _table(request: HttpRequest, table_id: int) -> TargetTable:
    try:
        return selectors.table_get(user=request.user, table_id=table_id)
    except KaopingError:
        raise Http404("no such target table in your scope") from None


def _task(request: HttpRequest, task_id: int) -> AssessmentTask:
    try:
        return selectors.task_get(user=request.user, task_id=task_id)
    except KaopingError:
        raise Http404("no such task in your scope") from None


def _head_departments(request: HttpRequest) -> list[Unit]:
    """The departments the user may draft tables for."""
    user = request.user
    units = Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).filter(unit_scope_q(user))
    return [unit for unit in units.order_by("path") if is_party(user, unit, Party.HEAD)]


def _metric_choices() -> list[tuple[str, str]]:
    return [(name, f"{info.label}（{name}）") for name, info in KNOWN_METRICS.items()]


def _rows_from_post(post: QueryDict) -> list[RowSpec]:
    """Rows ``target_N``, ``indicator_N`` … in order of N; a row left wholly blank is not a row."""
    numbers = sorted(
        {int(key.split("_", 1)[1]) for key in post if key.startswith("indicator_") and key[10:].isdigit()}
    )
    rows = []
    for n in numbers:
        values = {
            f: post.get(f"{f}_{n}", "") for f in ("target", "indicator", "standard", "weight", "metric")
        }
        if any(v.strip() for v in values.values()):
            rows.append(RowSpec(**values))
    return rows


def _form_rows(rows: list[RowSpec]) -> list[dict[str, str]]:
    shown = [
        {
            "target": r.target,
            "indicator": r.indicator,
            "standard": r.standard,
            "weight": str(r.weight),
            "metric": r.metric,
        }
        for r in rows
    ]
    blank = {"target": "", "indicator": "", "standard": "", "weight": "", "metric": ""}
    return shown + [dict(blank) for _ in range(BLANK_ROWS)]


# --- target tables --------------------------------------------------------------------------------


@login_required
def table_list_view(request: HttpRequest) -> HttpResponse:
    tables = selectors.table_list(user=request.user)
    year = _int(request.GET.get("year"))
    if year:
        tables = tables.filter(year=year)
    return render(
        request,
        "targets/table_list.html",
        {
            "tables": tables[:300],
            "year": year,
            "departments": _head_departments(request),
            "this_year": clock.today().year,
        },
    )


def _table_form(
    request: HttpRequest,
    *,
    unit: Unit,
    year: int,
    rows: list[RowSpec],
    note: str,
    table: TargetTable | None,
    problems: list[str],
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "targets/table_form.html",
        {
            "unit": unit,
            "year": year,
            "rows": _form_rows(rows),
            "note": note,
            "table": table,
            "problems": problems,
            "metrics": _metric_choices(),
        },
        status=status,
    )


@login_required
def table_new_view(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    unit = Unit.objects.filter(pk=_int(source.get("unit")) or 0).first()
    if unit is None or not can_access_unit(request.user, unit):
        raise Http404("no such department in your scope")
    if not is_party(request.user, unit, Party.HEAD):
        raise PermissionDenied("only the department's head drafts its target table")
    year = _int(source.get("year")) or clock.today().year
    if request.method != "POST":
        current = selectors.current_table(user=request.user, unit=unit, year=year)
        rows = (
            [RowSpec(r.target, r.indicator, r.standard, r.weight, r.metric) for r in current.rows.all()]
            if current
            else []
        )
        return _table_form(request, unit=unit, year=year, rows=rows, note="", table=None, problems=[])
    rows = _rows_from_post(request.POST)
    note = request.POST.get("note", "")
    try:
        table = services.target_table_create(actor=request.user, unit=unit, year=year, rows=rows, note=note)
    except KaopingError as exc:
        problems = [str(p) for p in clean_rows(rows, KNOWN_METRICS)[1]] or [exc.message]
        return _table_form(
            request, unit=unit, year=year, rows=rows, note=note, table=None, problems=problems, status=400
        )
    messages.success(request, _("目标责任表草稿已保存。"))
    return redirect("targets:table_detail", table.pk)


@login_required
def table_edit_view(request: HttpRequest, table_id: int) -> HttpResponse:
    table = _table(request, table_id)
    if request.method != "POST":
        if not editable(State(table.state)) or not is_party(request.user, table.unit, Party.HEAD):
            messages.error(request, _("此目标责任表当前不能由您修改。"))
            return redirect("targets:table_detail", table.pk)
        rows = [RowSpec(r.target, r.indicator, r.standard, r.weight, r.metric) for r in table.rows.all()]
        return _table_form(
            request, unit=table.unit, year=table.year, rows=rows, note=table.note, table=table, problems=[]
        )
    rows = _rows_from_post(request.POST)
    note = request.POST.get("note", "")
    try:
        services.target_table_edit(actor=request.user, table=table, rows=rows, note=note)
    except KaopingError as exc:
        problems = [str(p) for p in clean_rows(rows, KNOWN_METRICS)[1]] or [exc.message]
        return _table_form(
            request,
            unit=table.unit,
            year=table.year,
            rows=rows,
            note=note,
            table=table,
            problems=problems,
            status=400,
        )
    messages.success(request, _("目标责任表已修改。"))
    return redirect("targets:table_detail", table.pk)


@login_required
def table_detail_view(request: HttpRequest, table_id: int) -> HttpResponse:
    table = _table(request, table_id)
    state = State(table.state)
    actions = [
        a.value for a in allowed_actions(state, Party.HEAD) if is_party(request.user, table.unit, Party.HEAD)
    ]
    actions += [
        a.value
        for a in allowed_actions(state, Party.DIRECTOR)
        if is_party(request.user, table.unit, Party.DIRECTOR)
    ]
    rows = list(table.rows.all())
    latest_approved = selectors.current_table(user=request.user, unit=table.unit, year=table.year)
    may_revise = (
        state is State.APPROVED
        and latest_approved is not None
        and latest_approved.pk == table.pk
        and is_party(request.user, table.unit, Party.HEAD)
        and not TargetTable.objects.filter(unit=table.unit, year=table.year)
        .exclude(state=State.APPROVED)
        .exists()
    )
    versions = TargetTable.objects.filter(unit=table.unit, year=table.year).order_by("version")
    return render(
        request,
        "targets/table_detail.html",
        {
            "table": table,
            "rows": rows,
            "total": sum((r.weight for r in rows), Decimal(0)),
            "actions": actions,
            "may_revise": may_revise,
            "versions": versions,
            "metric_labels": {name: info.label for name, info in KNOWN_METRICS.items()},
        },
    )


@login_required
@require_POST
def table_action_view(request: HttpRequest, table_id: int) -> HttpResponse:
    table = _table(request, table_id)
    action = request.POST.get("action", "")
    try:
        if action == Action.SIGN:
            services.target_table_sign(actor=request.user, table=table)
            messages.success(request, _("已签字，等待中心主任审批。"))
        elif action == Action.APPROVE:
            services.target_table_approve(actor=request.user, table=table)
            messages.success(request, _("目标责任表已审批通过。"))
        elif action == Action.RETURN:
            services.target_table_return(
                actor=request.user, table=table, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("目标责任表已退回科室修改。"))
        elif action == "revise":
            new = services.target_table_revise(actor=request.user, table=table)
            messages.success(request, _("已建立新版本草稿。"))
            return redirect("targets:table_edit", new.pk)
        else:
            messages.error(request, _("未知操作：%(action)s") % {"action": action})
    except KaopingError as exc:
        messages.error(request, exc.message)
    return redirect("targets:table_detail", table.pk)


# --- assessment tasks -----------------------------------------------------------------------------


def _issuing_centres(request: HttpRequest) -> list[Unit]:
    user = request.user
    centres = (
        Unit.objects.filter(kind__in=ISSUING_KINDS, active=True).filter(unit_scope_q(user)).order_by("path")
    )
    return [centre for centre in centres if is_party(user, centre, Party.DIRECTOR)]


@login_required
def task_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "targets/task_list.html",
        {"tasks": selectors.task_list(user=request.user)[:200], "may_issue": bool(_issuing_centres(request))},
    )


def _local_input(value: dt.datetime) -> str:
    return value.astimezone(clock.local_zone()).strftime("%Y-%m-%dT%H:%M")


@login_required
def task_new_view(request: HttpRequest) -> HttpResponse:
    centres = _issuing_centres(request)
    if not centres:
        raise Http404("you issue no tasks")
    prefixes = [c.path for c in centres]
    units = [
        u
        for u in Unit.objects.filter(
            kind__in=(UnitKind.DEPARTMENT, UnitKind.WINDOW, UnitKind.HANDLING_UNIT), active=True
        ).order_by("path")
        if any(u.path.startswith(p) for p in prefixes)
    ]
    context: dict[str, object] = {
        "centres": centres,
        "units": units,
        "schemes": sorted(services.known_schemes().items()),
        "problems": [],
    }
    if request.method != "POST":
        now = clock.now()
        calendar = get_calendar(unit=centres[0])
        context["form"] = {
            "centre": str(centres[0].pk),
            "data_due_at": _local_input(Limit(DATA_DAYS, LimitUnit.WORKING_DAYS).due(calendar, now).at),
            "results_due_at": _local_input(Limit(RESULTS_DAYS, LimitUnit.WORKING_DAYS).due(calendar, now).at),
            "units": [],
        }
        return render(request, "targets/task_form.html", context)
    post = request.POST
    context["form"] = {**post.dict(), "units": post.getlist("units")}
    centre = next((c for c in centres if c.pk == _int(post.get("centre"))), None)
    chosen = [u for u in units if str(u.pk) in post.getlist("units")]
    try:
        if centre is None:
            raise Http404("no such centre")
        due = {
            name: clock.parse_instant(post.get(name, ""), what=name, naive_is_local=True)
            for name in ("data_due_at", "results_due_at")
        }
        task = services.task_issue(
            actor=request.user,
            centre=centre,
            scheme_code=post.get("scheme_code", ""),
            period=post.get("period", ""),
            units=chosen,
            data_due_at=due["data_due_at"],
            results_due_at=due["results_due_at"],
            name=post.get("name", ""),
            note=post.get("note", ""),
        )
    except KaopingError as exc:
        context["problems"] = [exc.message]
        return render(request, "targets/task_form.html", context, status=400)
    messages.success(request, _("考核任务已下达。"))
    return redirect("targets:task_detail", task.pk)


@login_required
def task_detail_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    user = request.user
    statuses = selectors.task_units(user=user, task=task)
    is_open = task.state == TaskState.ISSUED
    writable = {path for path in scope_paths(user, write=True)}
    superuser = bool(getattr(user, "is_superuser", False))
    rows = [
        {
            "status": s,
            "may_submit": is_open
            and s.row.submitted_at is None
            and (superuser or any(s.row.unit.path.startswith(p) for p in writable)),
        }
        for s in statuses
    ]
    director = is_party(user, task.centre, Party.DIRECTOR) and can_access_unit(user, task.centre)
    return render(
        request,
        "targets/task_detail.html",
        {
            "task": task,
            "rows": rows,
            "open": is_open,
            "director": director,
            "meetings": selectors.task_meetings(user=user, task=task),
            "meeting_units": [s.row.unit for s in statuses],
            "today": clock.today().isoformat(),
        },
    )


@login_required
@require_POST
def task_submit_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    unit = Unit.objects.filter(pk=_int(request.POST.get("unit")) or 0).first()
    if unit is None or not can_access_unit(request.user, unit):
        raise Http404("no such unit in your scope")
    try:
        row = services.task_submit(
            actor=request.user, task=task, unit=unit, note=request.POST.get("note", "")
        )
    except KaopingError as exc:
        messages.error(request, exc.message)
    else:
        if row.late:
            messages.warning(request, _("已报送（已超过报送截止时间，记为逾期）。"))
        else:
            messages.success(request, _("已报送。"))
    return redirect("targets:task_detail", task.pk)


@login_required
@require_POST
def task_close_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    try:
        services.task_close(actor=request.user, task=task)
        messages.success(request, _("考核任务已关闭。"))
    except KaopingError as exc:
        messages.error(request, exc.message)
    return redirect("targets:task_detail", task.pk)


@login_required
@require_POST
def meeting_record_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    post = request.POST
    visible = {s.row.unit.pk: s.row.unit for s in selectors.task_units(user=request.user, task=task)}
    try:
        held_on = clock.parse_date(post.get("held_on", ""), what="held_on")
        measures = []
        for unit_id, unit in visible.items():
            text = post.get(f"measure_{unit_id}", "")
            if text.strip():
                due = post.get(f"due_{unit_id}", "")
                measures.append(
                    MeasureSpec(
                        unit=unit,
                        measure=text,
                        owner=post.get(f"owner_{unit_id}", ""),
                        due_on=clock.parse_date(due, what=f"due_{unit_id}") if due.strip() else None,
                    )
                )
        services.meeting_record(
            actor=request.user,
            task=task,
            held_on=held_on,
            summary=post.get("summary", ""),
            attendees=post.get("attendees", ""),
            measures=measures,
        )
        messages.success(request, _("分析会记录已保存。"))
    except KaopingError as exc:
        messages.error(request, exc.message)
    return redirect("targets:task_detail", task.pk)
