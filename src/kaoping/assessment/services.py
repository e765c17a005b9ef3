"""Writes of the assessment app: manual indicators and the values entered for them with their evidence.

(The rollups are derived data, rebuilt by ``rollups.py`` like a case's derived fields: no evidence
entry of their own; the records they count carry theirs.)
"""

from __future__ import annotations

import datetime as dt
import math

from django.db import transaction

from kaoping.assessment.models import ManualCode, ManualEntry
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access
from kaoping.evidence.services import evidence_record
from kaoping.org.models import Unit


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
) -> ManualEntry:
    """Enter a manual value (or level) for a unit and period with the evidence it rests on. A value
    outside the indicator's range, a level not on its scale, or no evidence is refused. A correction
    is a new entry: the latest counts (``metrics.compute``), the earlier ones stay in the log."""
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
        )
        evidence_record(actor=actor, action="assessment.manual_entry_submit", instance=entry)
    return entry
