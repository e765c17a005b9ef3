"""Writes of the assessment app: manual indicators and the values entered for them with their evidence;
scheme versions (load the defaults, draft, publish); assessment runs and their publication; tolerance
exemptions; re-checks.

(The rollups are derived data, rebuilt by ``rollups.py`` like a case's derived fields: no evidence
entry of their own; the records they count carry theirs.)
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.conf import settings
from django.db import transaction

from kaoping.assessment.assess import (
    assess_subjects,
    line_dict,
    parse_period,
    results_digest,
    scheme_version_current,
)
from kaoping.assessment.models import (
    Assessment,
    AssessmentResult,
    AssessmentStatus,
    Exemption,
    ManualCode,
    ManualEntry,
    Recheck,
    RecheckStatus,
    SchemeStatus,
    SchemeVersion,
)
from kaoping.assessment.rollups import rollups_refresh
from kaoping.assessment.rules import Exemption as RuleExemption
from kaoping.assessment.schemes import (
    InvalidSchemeError,
    Scheme,
    content_hash,
    default_scheme_texts,
    dump_yaml,
    load_yaml,
    read_scheme,
)
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access, user_roles
from kaoping.evidence.services import Actor, evidence_record
from kaoping.org.models import Role, Staff, Unit
from kaoping.workcal.selectors import get_calendar

CENTS = Decimal("0.01")


def manual_code_define(
    *,
    actor: User,
    code: str,
    name: str,
    low: float | None = None,
    high: float | None = None,
    levels: list[str] | None = None,
    unit_label: str = "",
) -> ManualCode:
    """Add a manual indicator or change one (entries keep their values): numeric with a range
    [low, high], or a scale of level codes (best first)."""
    if not (actor.is_authenticated and getattr(actor, "is_superuser", False)):
        raise KaopingError(
            ErrorCode.FORBIDDEN, what="manual indicator", where=code, why="only an administrator defines them"
        )
    codes = [c.strip() for c in levels or [] if c.strip()]
    if codes:
        if low is not None or high is not None:
            raise KaopingError(
                ErrorCode.INVALID, what="manual indicator", where=code, why="give levels or a range, not both"
            )
        if len(set(codes)) != len(codes) or any("," in c for c in codes):
            raise KaopingError(
                ErrorCode.INVALID, what="manual indicator", where=code, why="level codes must be distinct"
            )
    elif low is None or high is None or not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise KaopingError(
            ErrorCode.INVALID, what="manual indicator", where=code, why=f"range {low}–{high} is not a range"
        )
    with transaction.atomic():
        found, _ = ManualCode.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "low": low,
                "high": high,
                "levels": ",".join(codes),
                "unit_label": unit_label,
            },
        )
        evidence_record(actor=actor, action="assessment.manual_code_define", instance=found)
    return found


def manual_entry_submit(
    *,
    actor: User,
    unit: Unit,
    code: str,
    period_start: dt.date,
    period_end: dt.date,
    evidence: str,
    value: float | None = None,
    level: str = "",
    evidence_file: str = "",
    staff: Staff | None = None,
) -> ManualEntry:
    """Enter a manual value (or level) for a unit and period with the evidence it rests on. A value
    outside the indicator's range, a level not on its scale, or no evidence is refused. A correction
    is a new entry: the latest counts (``metrics.compute``), the earlier ones stay in the log.
    With ``staff`` the value is that person's (schemes of people, ``metrics.compute_staff``); the unit
    must be theirs."""
    if staff is not None and staff.unit_id != unit.pk:
        why = f"does not serve at {unit.code}"
        raise KaopingError(ErrorCode.INVALID, what="manual value", where=staff.employee_no, why=why)
    require_unit_access(actor, unit, what="manual value")
    indicator = ManualCode.objects.filter(code=code).first()
    if indicator is None:
        raise KaopingError(ErrorCode.NOT_FOUND, what="manual value", where=code, why="no such indicator")
    if period_end < period_start:
        raise KaopingError(
            ErrorCode.INVALID,
            what="manual value",
            where="period_end",
            why=f"{period_end} is before {period_start}",
        )
    scale = indicator.level_codes
    if scale:
        if value is not None or level not in scale:
            raise KaopingError(
                ErrorCode.OUT_OF_RANGE,
                what="manual value",
                where=code,
                why=f"{indicator.name} takes one of the levels {'、'.join(scale)} (got {level or value!r})",
            )
    else:
        low, high, suffix = indicator.low, indicator.high, indicator.unit_label
        assert low is not None and high is not None  # a numeric indicator has its range
        if value is None or level or not math.isfinite(value) or not low <= value <= high:
            raise KaopingError(
                ErrorCode.OUT_OF_RANGE,
                what="manual value",
                where=code,
                why=f"{value if value is None else format(value, 'g')}{suffix} is outside the allowed range "
                f"{low:g}–{high:g}{suffix} of {indicator.name}",
            )
    text = evidence.strip()
    if not text:
        raise KaopingError(
            ErrorCode.INVALID, what="manual value", where="evidence", why="say what the value rests on"
        )
    with transaction.atomic():
        entry = ManualEntry.objects.create(
            unit=unit,
            code=indicator,
            period_start=period_start,
            period_end=period_end,
            value=None if value is None else float(value),
            level=level,
            evidence=text,
            evidence_file=evidence_file.strip()[:200],
            entered_by_id=actor.pk if actor.is_authenticated else None,
            entered_at=clock.now(),
            staff=staff,
        )
        evidence_record(actor=actor, action="assessment.manual_entry_submit", instance=entry)
    return entry


# -- scheme versions ------------------------------------------------------------------------------


def _require_director(actor: User, what: str, where: str) -> None:
    """Schemes, runs, publication, exemptions and re-check decisions are the centre director's."""
    if getattr(actor, "is_superuser", False) and actor.is_authenticated:
        return
    if Role.CENTRE_DIRECTOR not in user_roles(actor):
        raise KaopingError(
            ErrorCode.FORBIDDEN, what=what, where=where, why="only the centre director decides this"
        )


def _scheme_fields(scheme: Scheme, text: str) -> dict[str, Any]:
    return {
        "name": scheme.name,
        "unit_type": scheme.unit_type.value,
        "period_type": scheme.period_type.value,
        "document": text,
        "content_hash": content_hash(scheme),
    }


def _read(text: str, where: str) -> Scheme:
    try:
        return read_scheme(text)
    except InvalidSchemeError as error:
        raise KaopingError(
            ErrorCode.INVALID, what="scheme", where=where, why="；".join(str(e) for e in error.errors)
        ) from error


def schemes_load_defaults(*, actor: Actor = None) -> list[SchemeVersion]:
    """Store the repository's default schemes (``assessment/schemes/*.yaml``) as published versions.
    A version already stored with the same content is left alone; the same version number with
    different content is refused: a published version never changes, a change needs a new number."""
    added = []
    with transaction.atomic():
        for name, text in sorted(default_scheme_texts().items()):
            scheme = _read(text, name)
            stored = SchemeVersion.objects.filter(code=scheme.code, version=scheme.version).first()
            if stored is not None:
                if stored.content_hash != content_hash(scheme):
                    raise KaopingError(
                        ErrorCode.INVALID,
                        what="scheme",
                        where=f"{name} (v{scheme.version})",
                        why="differs from the stored version of the same number: give it a new number",
                    )
                continue
            now = clock.now()
            version = SchemeVersion.objects.create(
                code=scheme.code,
                version=scheme.version,
                status=SchemeStatus.PUBLISHED,
                created_at=now,
                published_at=now,
                **_scheme_fields(scheme, text),
            )
            SchemeVersion.objects.filter(
                code=scheme.code, status=SchemeStatus.PUBLISHED, version__lt=scheme.version
            ).update(status=SchemeStatus.RETIRED)
            evidence_record(actor=actor, action="assessment.scheme_load_default", instance=version)
            added.append(version)
    return added


def scheme_draft_create(*, actor: User, base: SchemeVersion) -> SchemeVersion:
    """A new draft of a scheme: ``base``'s document under the next free version number."""
    _require_director(actor, "scheme", base.code)
    with transaction.atomic():
        latest = SchemeVersion.objects.filter(code=base.code).order_by("-version").first()
        number = (latest.version if latest else 0) + 1
        document = load_yaml(base.document)
        document["version"] = number
        text = dump_yaml(document)
        scheme = _read(text, f"{base.code} v{number}")
        draft = SchemeVersion.objects.create(
            code=base.code, version=number, created_at=clock.now(), **_scheme_fields(scheme, text)
        )
        evidence_record(actor=actor, action="assessment.scheme_draft_create", instance=draft)
    return draft


def scheme_draft_update(*, actor: User, draft: SchemeVersion, text: str) -> SchemeVersion:
    """Replace a draft's document. Every problem of the new document is listed at once; its code and
    version must stay those of the draft."""
    _require_director(actor, "scheme", draft.code)
    if draft.status != SchemeStatus.DRAFT:
        raise KaopingError(
            ErrorCode.INVALID,
            what="scheme",
            where=f"{draft.code} v{draft.version}",
            why="is published; published versions never change: make a new draft",
        )
    scheme = _read(text, f"{draft.code} v{draft.version}")
    if (scheme.code, scheme.version) != (draft.code, draft.version):
        raise KaopingError(
            ErrorCode.INVALID,
            what="scheme",
            where="code/version",
            why=f"the document says {scheme.code} v{scheme.version}, the draft is v{draft.version}",
        )
    with transaction.atomic():
        for field, value in _scheme_fields(scheme, text).items():
            setattr(draft, field, value)
        draft.save()
        evidence_record(actor=actor, action="assessment.scheme_draft_update", instance=draft)
    return draft


def scheme_publish(*, actor: User, draft: SchemeVersion) -> SchemeVersion:
    """Publish a draft: from now on it is the version runs use, and it is immutable. The previous
    published version is retired (its results keep naming it)."""
    _require_director(actor, "scheme", draft.code)
    if draft.status != SchemeStatus.DRAFT:
        raise KaopingError(
            ErrorCode.INVALID, what="scheme", where=f"{draft.code} v{draft.version}", why="is not a draft"
        )
    _read(draft.document, f"{draft.code} v{draft.version}")
    with transaction.atomic():
        for old in SchemeVersion.objects.filter(code=draft.code, status=SchemeStatus.PUBLISHED):
            old.status = SchemeStatus.RETIRED
            old.save(update_fields=["status"])
            evidence_record(actor=actor, action="assessment.scheme_retire", instance=old)
        draft.status = SchemeStatus.PUBLISHED
        draft.published_at = clock.now()
        draft.published_by_id = actor.pk
        draft.save()
        evidence_record(actor=actor, action="assessment.scheme_publish", instance=draft)
    return draft


# -- runs, publication, exemptions, re-checks --------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, ROUND_HALF_UP)


def _quantized(value: Decimal | None) -> Decimal | None:
    return None if value is None else _cents(value)


def _exemptions_for(code: str, period: str) -> dict[str, list[RuleExemption]]:
    found: dict[str, list[RuleExemption]] = {}
    rows = Exemption.objects.filter(scheme_code=code, period=period)
    for row in rows.select_related("unit", "staff", "approved_by").order_by("pk"):
        # Keyed like the engine's subjects: a person by employee number, a unit by its code.
        subject = row.staff.employee_no if row.staff is not None else row.unit.code
        found.setdefault(subject, []).append(
            RuleExemption(
                indicator=row.indicator,
                deduction_key=row.deduction_key,
                approver=row.approved_by.get_username(),
                reason=row.reason,
                reference=f"exemption:{row.pk}",
            )
        )
    return found


def assessment_run(
    *, actor: User | str | None, scheme_code: str, period: str, reason: str = ""
) -> Assessment:
    """Score every unit of the scheme's current version for the period and store the results as a
    new run, with one evidence entry whose digest covers every number. Earlier unpublished runs of the
    same scheme and period are superseded; a published one stays until this one is published."""
    if not isinstance(actor, str | None):  # a person; the CLI and the worker pass their name or None
        _require_director(actor, "assessment", scheme_code)
    version = scheme_version_current(scheme_code)
    scheme = version.scheme()
    parsed = parse_period(period)
    rollups_refresh()  # score the data as it stands, not as the worker last summed it
    results, subjects = assess_subjects(
        scheme=scheme, period=parsed, exemptions=_exemptions_for(scheme.code, parsed.text)
    )
    rows = [
        AssessmentResult(
            unit=subjects[r.unit].unit,
            staff=subjects[r.unit].staff,
            role=r.role or "",
            total=_cents(r.total),
            grade=r.grade.value if r.grade else "",
            rank=r.rank,
            ranked_count=r.ranked_count,
            percentile=_quantized(r.percentile),
            vetoed=r.vetoed,
            assessed=r.assessed,
            complete=r.complete,
            deducted=_cents(r.deducted),
            bonus=_cents(r.bonus),
            incentive_cut=_quantized(r.incentive_cut),
            award_eligible=r.award_eligible,
            explanation=r.explanation,
            lines=[line_dict(line) for line in r.lines],
        )
        for r in results
    ]
    for row in rows:
        row.unit_id = row.unit.pk
        row.staff_id = row.staff.pk if row.staff else None
    with transaction.atomic():
        _supersede(actor, scheme.code, parsed.text, AssessmentStatus.COMPUTED)
        run = Assessment.objects.create(
            scheme=version,
            period=parsed.text,
            period_start=parsed.start,
            period_end=parsed.end,
            computed_at=clock.now(),
            computed_by=_name(actor),
            reason=reason.strip()[:300],
            results_digest=results_digest([row.lines_document() for row in rows]),
            units=len(rows),
        )
        for row in rows:
            row.assessment = run
        AssessmentResult.objects.bulk_create(rows, batch_size=500)
        run.known_results_digest = run.results_digest
        evidence_record(actor=actor, action="assessment.run", instance=run, note=reason.strip()[:300])
    return run


def _supersede(actor: User | str | None, code: str, period: str, status: AssessmentStatus) -> None:
    for old in Assessment.objects.filter(scheme__code=code, period=period, status=status):
        old.status = AssessmentStatus.SUPERSEDED
        old.save(update_fields=["status"])
        old.known_results_digest = old.results_digest
        evidence_record(actor=actor, action="assessment.supersede", instance=old)


def _name(actor: User | str | None) -> str:
    if actor is None:
        return "system"
    return actor if isinstance(actor, str) else actor.get_username()


def assessment_publish(*, actor: User | str, assessment: Assessment) -> Assessment:
    """Publish a run: its results are the ones that count (and may be re-checked). The previously
    published run of the same scheme and period, if any, is superseded."""
    if not isinstance(actor, str):
        _require_director(actor, "assessment", str(assessment.pk))
    if assessment.status != AssessmentStatus.COMPUTED:
        raise KaopingError(
            ErrorCode.INVALID,
            what="assessment",
            where=f"#{assessment.pk}",
            why=f"is {assessment.get_status_display()}: only the latest computed run can be published",
        )
    with transaction.atomic():
        _supersede(actor, assessment.scheme.code, assessment.period, AssessmentStatus.PUBLISHED)
        assessment.status = AssessmentStatus.PUBLISHED
        assessment.published_at = clock.now()
        assessment.published_by = _name(actor)
        assessment.save(update_fields=["status", "published_at", "published_by"])
        assessment.known_results_digest = assessment.results_digest
        evidence_record(actor=actor, action="assessment.publish", instance=assessment)
    return assessment


def _line(result: AssessmentResult, indicator: str) -> dict[str, Any]:
    for line in result.lines:
        if line["indicator"] == indicator:
            return cast(dict[str, Any], line)
    raise KaopingError(ErrorCode.NOT_FOUND, what="indicator", where=indicator, why="is not in this result")


def exemption_approve(
    *, actor: User, result: AssessmentResult, indicator: str, deduction_key: str, reason: str
) -> Exemption:
    """Approve a tolerance exemption (容错免责, R2.11) of one deduction in a result: it cancels that
    deduction in every later run of the scheme and period (the stored run itself never changes)."""
    _require_director(actor, "exemption", f"{result.unit.code} {indicator}")
    require_unit_access(actor, result.unit, what="result")
    line = _line(result, indicator)
    if deduction_key not in {d["key"] for d in line["deductions"]}:
        raise KaopingError(
            ErrorCode.NOT_FOUND,
            what="exemption",
            where=f"{indicator}/{deduction_key}",
            why="this result has no such deduction",
        )
    text = reason.strip()
    if not text:
        raise KaopingError(
            ErrorCode.INVALID, what="exemption", where="reason", why="say why the deduction is forgiven"
        )
    run = result.assessment
    if Exemption.objects.filter(
        unit=result.unit,
        staff=result.staff,
        scheme_code=run.scheme.code,
        period=run.period,
        indicator=indicator,
        deduction_key=deduction_key,
    ).exists():
        raise KaopingError(
            ErrorCode.INVALID,
            what="exemption",
            where=f"{indicator}/{deduction_key}",
            why="is already exempted",
        )
    with transaction.atomic():
        exemption = Exemption.objects.create(
            unit=result.unit,
            staff=result.staff,
            scheme_code=run.scheme.code,
            period=run.period,
            indicator=indicator,
            deduction_key=deduction_key,
            reason=text,
            approved_by_id=cast(int, actor.pk),
            approved_at=clock.now(),
        )
        evidence_record(actor=actor, action="assessment.exemption_approve", instance=exemption)
    return exemption


def recheck_deadline(assessment: Assessment) -> dt.datetime:
    """Re-checks may be asked for within N working days of publication (R0.16: 3)."""
    assert assessment.published_at is not None
    days = int(settings.KAOPING_RECHECK_WORKING_DAYS)
    return get_calendar().due_after_working_days(assessment.published_at, days).at


def recheck_request(*, actor: User, result: AssessmentResult, reason: str) -> Recheck:
    """A unit's head (or anyone who may write for the unit) asks for a re-check of a published result,
    within the working days allowed after publication."""
    require_unit_access(actor, result.unit, what="result")
    run = result.assessment
    if run.status != AssessmentStatus.PUBLISHED:
        raise KaopingError(
            ErrorCode.INVALID,
            what="re-check",
            where=f"#{run.pk}",
            why="only a published result can be re-checked",
        )
    deadline = recheck_deadline(run)
    if clock.now() > deadline:
        raise KaopingError(
            ErrorCode.INVALID,
            what="re-check",
            where=f"#{run.pk}",
            why=f"the time to ask for a re-check ended {deadline:%Y-%m-%d %H:%M}",
        )
    text = reason.strip()
    if not text:
        raise KaopingError(
            ErrorCode.INVALID, what="re-check", where="reason", why="say what should be re-checked"
        )
    if result.rechecks.filter(status=RecheckStatus.REQUESTED).exists():
        raise KaopingError(
            ErrorCode.INVALID,
            what="re-check",
            where=result.unit.code,
            why="one is already waiting for a decision",
        )
    with transaction.atomic():
        recheck = Recheck.objects.create(
            result=result, requested_by_id=cast(int, actor.pk), requested_at=clock.now(), reason=text
        )
        evidence_record(actor=actor, action="assessment.recheck_request", instance=recheck)
    return recheck


def recheck_decide(*, actor: User, recheck: Recheck, changed: bool, outcome: str) -> Recheck:
    """The director's decision. Upheld: recorded. Changed: the period is recomputed from the data as
    it now stands (a corrected manual value, an approved exemption …) and published in place of the
    old run; a recomputation that gives the unit the same result is refused, so "changed" is never an
    empty word."""
    result = recheck.result
    _require_director(actor, "re-check", result.unit.code)
    if recheck.status != RecheckStatus.REQUESTED:
        raise KaopingError(
            ErrorCode.INVALID, what="re-check", where=f"#{recheck.pk}", why="is already decided"
        )
    text = outcome.strip()
    if not text:
        raise KaopingError(
            ErrorCode.INVALID, what="re-check", where="outcome", why="write the decision's reasons"
        )
    with transaction.atomic():
        if changed:
            run = result.assessment
            new_run = assessment_run(
                actor=actor,
                scheme_code=run.scheme.code,
                period=run.period,
                reason=f"复核 #{recheck.pk}：{text}",
            )
            new_result = new_run.results.get(unit=result.unit, staff=result.staff_id)
            if new_result.lines_document() | {"rank": None} == result.lines_document() | {"rank": None}:
                raise KaopingError(
                    ErrorCode.INVALID,
                    what="re-check",
                    where=result.unit.code,
                    why="recomputing gives the same result: correct the data or approve an exemption "
                    "first, or uphold the result",
                )
            assessment_publish(actor=actor, assessment=new_run)
            recheck.new_result = new_result
        recheck.status = RecheckStatus.CHANGED if changed else RecheckStatus.UPHELD
        recheck.decided_by_id = actor.pk
        recheck.decided_at = clock.now()
        recheck.outcome = text
        recheck.save()
        evidence_record(actor=actor, action="assessment.recheck_decide", instance=recheck)
    return recheck
