"""Writes of target tables and assessment tasks: keyword-only arguments, one transaction and one evidence
entry each; a refusal changes nothing.

**Who.** A target table is drafted, edited and signed by a department head whose role covers the
department; it is approved or returned by a centre director whose role covers it (``workflow.ACTION_PARTY``).
The director who approves must not be the person who signed (R1.4 asks for two signatures, so one person
holding both roles cannot sign off their own table alone). A task is issued, closed and its analysis meeting
recorded by a director covering the issuing centre; a unit's data is submitted by any writing role covering
that unit (the department head for the department and its windows; the director may submit on a unit's
behalf). Superusers may do everything. Something outside the actor's scope is ``NOT_FOUND`` (its existence
is not disclosed, as elsewhere); something visible but not theirs to do is ``FORBIDDEN``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max

from kaoping.assessment.metric_names import KNOWN_METRIC_NAMES
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, can_access_unit, require_unit_access, scope_paths
from kaoping.evidence.services import evidence_record
from kaoping.org.models import Role, Unit, UnitKind
from kaoping.targets.models import (
    AnalysisMeeting,
    AssessmentTask,
    ImprovementMeasure,
    TargetRow,
    TargetTable,
    TaskUnit,
)
from kaoping.targets.workflow import (
    ACTION_PARTY,
    Action,
    CleanRow,
    Party,
    RowSpec,
    State,
    TaskState,
    TransitionError,
    clean_rows,
    transition,
)

PARTY_ROLES = {Party.HEAD: (Role.DEPARTMENT_HEAD,), Party.DIRECTOR: (Role.CENTRE_DIRECTOR,)}
PARTY_NAMES = {Party.HEAD: "department head", Party.DIRECTOR: "centre director"}
MIN_YEAR, MAX_YEAR = 2000, 2100
ISSUING_KINDS = (UnitKind.CENTRE, UnitKind.HOTLINE_CENTRE)


def _superuser(user: User) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def _actor_id(user: User) -> int | None:
    return user.pk if user.is_authenticated else None


def is_party(user: User, unit: Unit, party: Party) -> bool:
    """Whether the user acts as this party for the unit (a role of the party's at the unit or above)."""
    if _superuser(user):
        return True
    return any(unit.path.startswith(path) for path in scope_paths(user, roles=PARTY_ROLES[party]))


def _require_visible(actor: User, unit: Unit, what: str) -> None:
    if not can_access_unit(actor, unit):
        raise KaopingError(ErrorCode.NOT_FOUND, what=what, why="no such record in your scope")


def _require_party(actor: User, unit: Unit, party: Party, what: str) -> None:
    _require_visible(actor, unit, what)
    if not is_party(actor, unit, party):
        raise KaopingError(
            ErrorCode.FORBIDDEN,
            what=what,
            where=unit.code,
            why=f"only a {PARTY_NAMES[party]} over {unit.name} may do this",
        )


def _invalid(what: str, why: str, where: str | None = None) -> KaopingError:
    return KaopingError(ErrorCode.INVALID, what=what, where=where, why=why)


# --- target tables --------------------------------------------------------------------------------

TABLE = "target table"


def _rows(rows: Sequence[RowSpec]) -> list[CleanRow]:
    cleaned, problems = clean_rows(rows, KNOWN_METRIC_NAMES)
    if problems:
        raise _invalid(TABLE, "；".join(str(p) for p in problems))
    return cleaned


def _store_rows(table: TargetTable, rows: Sequence[CleanRow]) -> None:
    table.rows.all().delete()
    TargetRow.objects.bulk_create(
        TargetRow(
            table=table,
            position=position,
            target=row.target,
            indicator=row.indicator,
            standard=row.standard,
            weight=row.weight,
            metric=row.metric,
        )
        for position, row in enumerate(rows, start=1)
    )


def _new_version(
    *, actor: User, unit: Unit, year: int, rows: list[CleanRow], note: str, action: str
) -> TargetTable:
    now = clock.now()
    try:
        with transaction.atomic():
            versions = TargetTable.objects.select_for_update().filter(unit=unit, year=year)
            open_one = versions.exclude(state=State.APPROVED).first()
            if open_one is not None:
                raise _invalid(
                    TABLE,
                    f"version {open_one.version} of {year} is still open ({open_one.state}): edit it instead",
                    unit.code,
                )
            latest = versions.filter(state=State.APPROVED).order_by("-version").first()
            number = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
            table = TargetTable.objects.create(
                unit=unit,
                year=year,
                version=number,
                based_on=latest,
                state=State.DRAFT,
                note=note.strip(),
                drafted_by_id=_actor_id(actor),
                drafted_at=now,
                updated_at=now,
            )
            _store_rows(table, rows)
            evidence_record(actor=actor, action=f"targets.{action}", instance=table)
    except IntegrityError:
        # Two drafts started at once: the partial unique index lets one through.
        raise _invalid(TABLE, f"another version of {year} was opened at the same moment", unit.code) from None
    return table


def target_table_create(
    *, actor: User, unit: Unit, year: int, rows: Sequence[RowSpec], note: str = ""
) -> TargetTable:
    """A draft table for a department's year; the next version when one is already approved."""
    _require_party(actor, unit, Party.HEAD, TABLE)
    problems = []
    if unit.kind != UnitKind.DEPARTMENT:
        problems.append(f"{unit.name} is not a department")
    if isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    cleaned, row_problems = clean_rows(rows, KNOWN_METRIC_NAMES)
    problems.extend(str(p) for p in row_problems)
    if problems:
        raise _invalid(TABLE, "；".join(problems), unit.code)
    return _new_version(actor=actor, unit=unit, year=year, rows=cleaned, note=note, action="table_create")


def target_table_revise(*, actor: User, table: TargetTable, note: str = "") -> TargetTable:
    """A new draft version of an approved table, with its rows, to be changed and approved in its turn."""
    _require_party(actor, table.unit, Party.HEAD, TABLE)
    table = TargetTable.objects.select_related("unit").get(pk=table.pk)  # the caller's copy may be stale
    if table.state != State.APPROVED:
        raise _invalid(
            TABLE, "only an approved table is revised as a new version; edit this one", f"#{table.pk}"
        )
    latest = TargetTable.objects.filter(unit=table.unit, year=table.year, state=State.APPROVED).order_by(
        "-version"
    )
    if latest.first() != table:
        raise _invalid(TABLE, "a later version has been approved: revise that one", f"#{table.pk}")
    rows = [
        CleanRow(r.target, r.indicator, r.standard, r.weight, r.metric)
        for r in table.rows.order_by("position")
    ]
    return _new_version(
        actor=actor,
        unit=table.unit,
        year=table.year,
        rows=rows,
        note=note or table.note,
        action="table_revise",
    )


def _step(
    *,
    actor: User,
    table: TargetTable,
    action: Action,
    changes: dict[str, object],
    rows: list[CleanRow] | None = None,
    note: str = "",
) -> TargetTable:
    _require_party(actor, table.unit, ACTION_PARTY[action], TABLE)
    with transaction.atomic():
        locked = TargetTable.objects.select_for_update().select_related("unit").get(pk=table.pk)
        try:
            new_state = transition(State(locked.state), action)
        except TransitionError as exc:
            raise _invalid(TABLE, str(exc), f"#{locked.pk}") from None
        if action is Action.APPROVE and locked.signed_by_id is not None and locked.signed_by_id == actor.pk:
            raise KaopingError(
                ErrorCode.FORBIDDEN,
                what=TABLE,
                where=f"#{locked.pk}",
                why="the person who signed a table cannot also approve it",
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.state = new_state.value
        locked.updated_at = clock.now()
        locked.save()
        if rows is not None:
            _store_rows(locked, rows)
        evidence_record(actor=actor, action=f"targets.table_{action.value}", instance=locked, note=note[:200])
    return locked


def target_table_edit(
    *, actor: User, table: TargetTable, rows: Sequence[RowSpec], note: str | None = None
) -> TargetTable:
    """Replace a draft's (or a returned table's) rows; a returned table goes back to draft."""
    _require_party(actor, table.unit, Party.HEAD, TABLE)
    cleaned = _rows(rows)
    changes: dict[str, object] = {} if note is None else {"note": note.strip()}
    return _step(actor=actor, table=table, action=Action.EDIT, changes=changes, rows=cleaned)


def target_table_sign(*, actor: User, table: TargetTable) -> TargetTable:
    """The department head signs: the rows are fixed until the director returns the table."""
    return _step(
        actor=actor,
        table=table,
        action=Action.SIGN,
        changes={"signed_by_id": _actor_id(actor), "signed_at": clock.now()},
    )


def target_table_approve(*, actor: User, table: TargetTable) -> TargetTable:
    return _step(
        actor=actor,
        table=table,
        action=Action.APPROVE,
        changes={"approved_by_id": _actor_id(actor), "approved_at": clock.now()},
    )


def target_table_return(*, actor: User, table: TargetTable, reason: str) -> TargetTable:
    """Send a signed table back to the department with the reason (required)."""
    text = reason.strip()
    if not text:
        raise _invalid(TABLE, "say why the table is returned", "reason")
    return _step(
        actor=actor,
        table=table,
        action=Action.RETURN,
        changes={
            "returned_by_id": _actor_id(actor),
            "returned_at": clock.now(),
            "return_reason": text,
            "signed_by_id": None,  # the signature went with the version that was returned
            "signed_at": None,
        },
        note=text,
    )


# --- assessment tasks -----------------------------------------------------------------------------

TASK = "assessment task"


def known_schemes() -> dict[str, tuple[str, str, str]]:
    """Scheme code → (name, unit type, period type) of the schemes a task may name: the current
    published version of each scheme in the database (``kaoping setup`` stores the defaults)."""
    from kaoping.assessment.models import SchemeStatus, SchemeVersion

    found: dict[str, tuple[str, str, str]] = {}
    for version in SchemeVersion.objects.filter(status=SchemeStatus.PUBLISHED).order_by("code", "version"):
        found[version.code] = (version.name, version.unit_type, version.period_type)
    return found


def _fits(unit: Unit, unit_type: str) -> bool:
    """Whether a scheme for this unit type can assess the unit (``department:<kind>`` names the kind)."""
    kind, _, department_kind = unit_type.partition(":")
    if kind == "department":
        return unit.kind == UnitKind.DEPARTMENT and unit.department_kind == department_kind
    if kind == "window":
        return unit.kind == UnitKind.WINDOW
    if kind == "handling_unit":
        return unit.kind == UnitKind.HANDLING_UNIT
    return True  # staff schemes assess people: their units are whatever holds them


def task_problems(
    *,
    centre: Unit,
    scheme_code: str,
    period: str,
    units: Sequence[Unit],
    data_due_at: dt.datetime,
    results_due_at: dt.datetime,
    now: dt.datetime,
) -> list[str]:
    """Everything wrong with a task, all at once."""
    from kaoping.assessment.assess import parse_period

    problems: list[str] = []
    if centre.kind not in ISSUING_KINDS:
        problems.append(f"{centre.name} is not a service centre or hotline centre")
    scheme = known_schemes().get(scheme_code.strip())
    if scheme is None:
        problems.append(f"no scheme {scheme_code!r}; known: {', '.join(sorted(known_schemes()))}")
    try:
        kind = parse_period(period).kind.value
    except KaopingError as exc:
        problems.append(f"period {period!r}: {exc.why}")
    else:
        if scheme is not None and scheme[2] != kind:
            problems.append(f"scheme {scheme_code} is assessed per {scheme[2]}, but {period!r} is a {kind}")
    aware = True
    for label, value in (("data_due_at", data_due_at), ("results_due_at", results_due_at)):
        if value.tzinfo is None:
            aware = False
            problems.append(f"{label} has no time zone")
    if aware:
        if data_due_at <= now:
            problems.append(f"the data deadline {data_due_at:%Y-%m-%d %H:%M} has already passed")
        if results_due_at < data_due_at:
            problems.append("results cannot be due before the data they are computed from")
    if not units:
        problems.append("issue the task to at least one unit")
    seen: set[int] = set()
    for unit in units:
        if unit.pk in seen:
            problems.append(f"{unit.name} is listed twice")
        seen.add(unit.pk)
        if unit.pk == centre.pk or not unit.path.startswith(centre.path):
            problems.append(f"{unit.name} is not under {centre.name}")
        elif scheme is not None and not _fits(unit, scheme[1]):
            problems.append(f"scheme {scheme_code} does not assess {unit.name} ({unit.get_kind_display()})")
    return problems


def task_issue(
    *,
    actor: User,
    centre: Unit,
    scheme_code: str,
    period: str,
    units: Sequence[Unit],
    data_due_at: dt.datetime,
    results_due_at: dt.datetime,
    name: str = "",
    note: str = "",
) -> AssessmentTask:
    """The director issues a task: which scheme, which period, which units, by when."""
    _require_party(actor, centre, Party.DIRECTOR, TASK)
    now = clock.now()
    problems = task_problems(
        centre=centre,
        scheme_code=scheme_code,
        period=period,
        units=units,
        data_due_at=data_due_at,
        results_due_at=results_due_at,
        now=now,
    )
    if problems:
        raise _invalid(TASK, "; ".join(problems), f"{scheme_code} {period}".strip())
    code = scheme_code.strip()
    title = name.strip() or f"{period.strip()} {known_schemes()[code][0]}"
    with transaction.atomic():
        task = AssessmentTask.objects.create(
            centre=centre,
            name=title[:120],
            scheme_code=code,
            period=period.strip(),
            data_due_at=data_due_at,
            results_due_at=results_due_at,
            note=note.strip(),
            state=TaskState.ISSUED,
            issued_by_id=_actor_id(actor),
            issued_at=now,
        )
        TaskUnit.objects.bulk_create(TaskUnit(task=task, unit=unit) for unit in units)
        evidence_record(actor=actor, action="targets.task_issue", instance=task)
    return task


def task_submit(*, actor: User, task: AssessmentTask, unit: Unit, note: str = "") -> TaskUnit:
    """A unit says its manual data for the task is in (entered through the manual values); once, while the
    task is open; late when after the data deadline."""
    _require_visible(actor, unit, TASK)
    require_unit_access(actor, unit, write=True, what=TASK)
    with transaction.atomic():
        locked = AssessmentTask.objects.select_for_update().get(pk=task.pk)
        if locked.state != TaskState.ISSUED:
            raise _invalid(TASK, "the task is closed: nothing more can be submitted to it", f"#{locked.pk}")
        row = TaskUnit.objects.select_for_update().filter(task=locked, unit=unit).first()
        if row is None:
            raise _invalid(TASK, f"the task was not issued to {unit.name}", unit.code)
        if row.submitted_at is not None:
            raise _invalid(
                TASK,
                f"{unit.name} submitted at {row.submitted_at.astimezone(clock.local_zone()):%Y-%m-%d %H:%M}; "
                "correct a value by entering it again",
                unit.code,
            )
        now = clock.now()
        row.submitted_at = now
        row.submitted_by_id = _actor_id(actor)
        row.submission_note = note.strip()
        row.late = now > locked.data_due_at
        row.save()
        evidence_record(actor=actor, action="targets.task_submit", instance=row, note=note.strip()[:200])
    return row


def _require_director(actor: User, task: AssessmentTask, what: str) -> None:
    """A task is seen by those who see its centre or one of its units; only a director over the centre
    acts on it as a whole."""
    units = Unit.objects.filter(pk__in=task.units.values("unit_id"))
    if not can_access_unit(actor, task.centre) and not any(can_access_unit(actor, unit) for unit in units):
        raise KaopingError(ErrorCode.NOT_FOUND, what=what, why="no such record in your scope")
    if not is_party(actor, task.centre, Party.DIRECTOR):
        raise KaopingError(
            ErrorCode.FORBIDDEN,
            what=what,
            where=f"#{task.pk}",
            why=f"only a centre director over {task.centre.name} may do this",
        )


def task_close(*, actor: User, task: AssessmentTask) -> AssessmentTask:
    _require_director(actor, task, TASK)
    with transaction.atomic():
        locked = AssessmentTask.objects.select_for_update().get(pk=task.pk)
        if locked.state != TaskState.ISSUED:
            raise _invalid(TASK, "the task is already closed", f"#{locked.pk}")
        locked.state = TaskState.CLOSED
        locked.closed_by_id = _actor_id(actor)
        locked.closed_at = clock.now()
        locked.save()
        evidence_record(actor=actor, action="targets.task_close", instance=locked)
    return locked


@dataclass(frozen=True)
class MeasureSpec:
    unit: Unit
    measure: str
    owner: str = ""
    due_on: dt.date | None = None


MEETING = "analysis meeting"


def meeting_record(
    *,
    actor: User,
    task: AssessmentTask,
    held_on: dt.date,
    summary: str,
    measures: Sequence[MeasureSpec],
    attendees: str = "",
) -> AnalysisMeeting:
    """The analysis meeting on a closed task (R1.6): what was found and each unit's improvement measures."""
    _require_director(actor, task, MEETING)
    problems: list[str] = []
    if task.state != TaskState.CLOSED:
        problems.append("close the task before recording its analysis meeting")
    if held_on > clock.today():
        problems.append(f"the meeting date {held_on} is in the future")
    if not summary.strip():
        problems.append("a summary is required")
    if not measures:
        problems.append("record at least one improvement measure")
    task_units = set(task.units.values_list("unit_id", flat=True))
    for number, spec in enumerate(measures, start=1):
        if spec.unit.pk not in task_units:
            problems.append(f"measure {number}: the task was not issued to {spec.unit.name}")
        if not spec.measure.strip():
            problems.append(f"measure {number}: say what will be done")
        if len(spec.owner.strip()) > 60:
            problems.append(f"measure {number}: the owner's name is longer than 60 characters")
        if spec.due_on is not None and spec.due_on < held_on:
            problems.append(f"measure {number}: due {spec.due_on}, before the meeting")
    if problems:
        raise _invalid(MEETING, "; ".join(problems), f"#{task.pk}")
    with transaction.atomic():
        meeting = AnalysisMeeting.objects.create(
            task=task,
            held_on=held_on,
            attendees=attendees.strip(),
            summary=summary.strip(),
            recorded_by_id=_actor_id(actor),
            recorded_at=clock.now(),
        )
        ImprovementMeasure.objects.bulk_create(
            ImprovementMeasure(
                meeting=meeting,
                unit=spec.unit,
                measure=spec.measure.strip(),
                owner=spec.owner.strip(),
                due_on=spec.due_on,
            )
            for spec in measures
        )
        evidence_record(actor=actor, action="targets.meeting_record", instance=meeting)
    return meeting
