"""Assessing a period: the units a scheme applies to, their metric values from the registry, and the
pure engine's scores, and the results as plain data. Nothing is stored here: ``services.assessment_run``
stores what this computes.

Periods are written ``2026-10`` (a month), ``2026-Q3`` (a quarter), ``2026-H1`` (a half-year) or
``2026`` (a year); the scheme's period type must match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from kaoping.assessment import engine, metrics
from kaoping.assessment.models import ManualCode, SchemeStatus, SchemeVersion
from kaoping.assessment.rules import Exemption
from kaoping.assessment.schemes import PeriodType, Scheme, UnitType
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.org.models import RoleAssignment, Staff, Unit, UnitKind

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4])|-H([12]))?$")
FOUR_PLACES = Decimal("0.0001")
NO_SOURCE = "暂无数据来源（尚未接入或未设人工填报指标）"


@dataclass(frozen=True)
class Period:
    text: str
    kind: PeriodType
    start: dt.date
    end: dt.date  # inclusive


def parse_period(text: str) -> Period:
    match = _PERIOD.match(text.strip())
    if not match:
        raise KaopingError(
            ErrorCode.INVALID,
            what="period",
            where=text,
            why="write a month 2026-10, a quarter 2026-Q3, a half-year 2026-H1 or a year 2026",
        )
    year = int(match.group(1))
    month, quarter, half = match.group(2), match.group(3), match.group(4)
    if month:
        if not 1 <= int(month) <= 12:
            raise KaopingError(
                ErrorCode.INVALID, what="period", where=text, why=f"month {month} does not exist"
            )
        first, months, kind = int(month), 1, PeriodType.MONTH
    elif quarter:
        first, months, kind = 3 * int(quarter) - 2, 3, PeriodType.QUARTER
    elif half:
        first, months, kind = 6 * int(half) - 5, 6, PeriodType.HALF_YEAR
    else:
        first, months, kind = 1, 12, PeriodType.YEAR
    start = dt.date(year, first, 1)
    after = first + months
    end = (dt.date(year + 1, 1, 1) if after > 12 else dt.date(year, after, 1)) - dt.timedelta(days=1)
    return Period(text.strip(), kind, start, end)


def scheme_by_code(code: str) -> Scheme:
    """The current (latest published) version of a scheme, as stored in the database."""
    return scheme_version_current(code).scheme()


def scheme_version_current(code: str) -> SchemeVersion:
    found = (
        SchemeVersion.objects.filter(code=code, status=SchemeStatus.PUBLISHED).order_by("-version").first()
    )
    if found is None:
        known = sorted(
            set(SchemeVersion.objects.filter(status=SchemeStatus.PUBLISHED).values_list("code", flat=True))
        )
        raise KaopingError(
            ErrorCode.NOT_FOUND,
            what="scheme",
            where=code,
            why=f"no published version; published schemes: {', '.join(known) or 'none (run kaoping setup)'}",
        )
    return found


def units_for(unit_type: UnitType) -> list[Unit]:
    """The active units a scheme of this type assesses; for a scheme of hotline staff, the hotline
    centres whose people it assesses (``subjects_for`` names the people)."""
    units = Unit.objects.filter(active=True)
    if unit_type is UnitType.WINDOW:
        units = units.filter(kind=UnitKind.WINDOW)
    elif unit_type.value.startswith("department:"):
        units = units.filter(kind=UnitKind.DEPARTMENT, department_kind=unit_type.value.split(":", 1)[1])
    elif unit_type is UnitType.HANDLING_UNIT:
        units = units.filter(kind=UnitKind.HANDLING_UNIT)
    else:
        units = units.filter(kind=UnitKind.HOTLINE_CENTRE)
    return list(units.order_by("code"))


@dataclass(frozen=True)
class Subject:
    """Who one result is about: a unit, or a person (``staff``) of ``unit`` in one of the scheme's
    roles. The code is the unit's code or the person's employee number."""

    code: str
    name: str
    unit: Unit
    staff: Staff | None = None
    role: str | None = None


def subjects_for(scheme: Scheme) -> list[Subject]:
    """The units a scheme assesses or, for a scheme with roles over people (hotline staff, R3.3), the
    active staff of the active hotline centres who hold one of its roles at (or above) their unit
    through their login; someone holding two is assessed in the first the scheme lists."""
    units = units_for(scheme.unit_type)
    if scheme.unit_type is not UnitType.HOTLINE_STAFF:
        return [Subject(code=u.code, name=u.name, unit=u) for u in units]
    roles = scheme.role_codes
    people = Staff.objects.filter(active=True, unit__in=units, user__isnull=False).select_related("unit")
    held: dict[int, set[str]] = {}
    for user_id, code, path in RoleAssignment.objects.filter(
        user__in=[p.user_id for p in people], role__in=roles
    ).values_list("user_id", "role", "unit__path"):
        held.setdefault(user_id, set()).add(f"{code} {path}")
    subjects = []
    for person in people:
        assert person.user_id is not None
        mine = held.get(person.user_id, set())
        role: str | None = next(
            (r for r in roles if any(f"{r} {p}" in mine for p in _paths_above(person.unit.path))), None
        )
        if role is not None:
            subjects.append(
                Subject(code=person.employee_no, name=person.name, unit=person.unit, staff=person, role=role)
            )
    return sorted(subjects, key=lambda s: s.code)


def _paths_above(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _value(found: metrics.MetricValue) -> engine.MetricValue:
    """The registry's float into an exact decimal, to four places: float noise such as
    96.49999999999999 must not decide a threshold."""
    number = None if found.value is None else Decimal(repr(found.value)).quantize(FOUR_PLACES, ROUND_HALF_UP)
    return engine.MetricValue(
        value=number,
        numerator=None if found.numerator is None else Decimal(repr(found.numerator)),
        denominator=None if found.denominator is None else Decimal(repr(found.denominator)),
        level=found.level,
        basis=found.basis,
    )


def assess_period(
    *, scheme: Scheme, period: Period, exemptions: Mapping[str, Sequence[Exemption]] | None = None
) -> tuple[list[engine.UnitResult], dict[str, Unit]]:
    """Every unit the scheme applies to, scored for the period; and the units by code. ``exemptions``
    are the approved tolerance exemptions by unit code."""
    results, subjects = assess_subjects(scheme=scheme, period=period, exemptions=exemptions)
    return results, {code: subject.unit for code, subject in subjects.items()}


def assess_subjects(
    *, scheme: Scheme, period: Period, exemptions: Mapping[str, Sequence[Exemption]] | None = None
) -> tuple[list[engine.UnitResult], dict[str, Subject]]:
    """Every unit (or person, ``subjects_for``) the scheme applies to, scored for the period; and the
    subjects by code. ``exemptions`` are the approved tolerance exemptions by subject code."""
    if scheme.period_type is not period.kind:
        raise KaopingError(
            ErrorCode.INVALID,
            what="period",
            where=period.text,
            why=f"scheme {scheme.code} is for a {scheme.period_type.value}, not a {period.kind.value}",
        )
    subjects = subjects_for(scheme)
    names = sorted({indicator.metric for indicator in scheme.indicators})
    # Names the scheme may use but nothing records yet (the hotline's, until issue #6): no value, so
    # the engine marks the indicator not assessable and says so, rather than scoring a silent zero.
    defined = {f"{metrics.MANUAL_PREFIX}{code}" for code in ManualCode.objects.values_list("code", flat=True)}
    measured = [
        name
        for name in names
        if metrics.is_metric_name(name) and (not name.startswith(metrics.MANUAL_PREFIX) or name in defined)
    ]
    missing = {name: engine.MetricValue(basis=NO_SOURCE) for name in names if name not in measured}
    persons = scheme.unit_type is UnitType.HOTLINE_STAFF
    if persons:
        keys = [s.staff.pk for s in subjects if s.staff is not None]
        values = metrics.compute_staff(measured, staff_ids=keys, start=period.start, end=period.end)
    else:
        keys = [s.unit.pk for s in subjects]
        values = metrics.compute(
            measured,
            unit_ids=keys,
            start=period.start,
            end=period.end,
            include_defaulted=scheme.count_default_ratings,
        )
    inputs = [
        engine.UnitInput(
            unit=subject.code,
            metrics={**missing, **{name: _value(v) for name, v in values[key].items()}},
            exemptions=tuple((exemptions or {}).get(subject.code, ())),
            role=subject.role,
        )
        for subject, key in zip(subjects, keys, strict=True)
    ]
    try:
        results = engine.assess(scheme, inputs)
    except engine.AssessmentInputError as error:
        raise KaopingError(
            ErrorCode.INVALID,
            what="assessment",
            where=f"{scheme.code} {period.text}",
            why="；".join(error.problems),
        ) from error
    return results, {subject.code: subject for subject in subjects}


# -- results as plain data (stored, printed as JSON, exported) ----------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def line_dict(line: engine.IndicatorLine) -> dict[str, Any]:
    """An indicator line as JSON-ready data; amounts as decimal strings so nothing is rounded twice."""
    return {
        "indicator": line.code,
        "name": line.name,
        "category": line.category.value,
        "dimension": line.dimension.value,
        "metric": line.metric,
        "rule": line.rule.value,
        "max_points": str(line.max_points),
        "assessable": line.assessable,
        "points": _text(line.points),
        "value": _text(line.value),
        "level": line.level,
        "numerator": _text(line.numerator),
        "denominator": _text(line.denominator),
        "target": _text(line.target),
        "deducted": str(line.deducted),
        # Occurrences past an item's cap cost nothing: counted, not listed (a unit may have hundreds;
        # the records page lists them all).
        "deductions": [
            {
                "key": d.key,
                "amount": str(d.amount),
                "reason": d.reason,
                "record_ref": d.record_ref,
                "vetoes": d.vetoes,
            }
            for d in line.deductions
            if d.amount or d.vetoes
        ],
        "uncharged": sum(1 for d in line.deductions if not (d.amount or d.vetoes)),
        "exempted": [
            {
                "key": e.deduction.key,
                "amount": str(e.deduction.amount),
                "reason": e.deduction.reason,
                "restored": str(e.restored),
                "approver": e.exemption.approver,
                "exemption_reason": e.exemption.reason,
                "reference": e.exemption.reference,
            }
            for e in line.exempted
        ],
        "explanation": line.explanation,
        "refs": list(line.refs),
        "basis": line.basis,
        "vetoed": line.vetoed,
    }


def result_dict(result: engine.UnitResult, name: str) -> dict[str, Any]:
    return {
        "unit": result.unit,
        "name": name,
        "role": result.role,
        "scheme": result.scheme_code,
        "scheme_version": result.scheme_version,
        "scheme_hash": result.scheme_hash,
        "total": str(result.total),
        "grade": result.grade.value if result.grade else None,
        "rank": result.rank,
        "ranked": result.ranked_count,
        "percentile": _text(result.percentile),
        "vetoed": result.vetoed,
        "assessed": result.assessed,
        "complete": result.complete,
        "not_assessable": list(result.not_assessable),
        "deducted": str(result.deducted),
        "bonus": str(result.bonus),
        "incentive_cut": _text(result.incentive_cut),
        "award_eligible": result.award_eligible,
        "explanation": result.explanation,
        "lines": [line_dict(line) for line in result.lines],
    }


def results_digest(results: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over the results as canonical JSON (sorted keys, by unit code): the same numbers give
    the same digest, whichever order they were stored or read in."""
    ordered = sorted(results, key=lambda r: (str(r["unit"]), str(r.get("staff", ""))))
    return hashlib.sha256(orjson.dumps(ordered, option=orjson.OPT_SORT_KEYS)).hexdigest()
