"""Quarterly calibration of a scheme's standards from its published results (R0.3): the history the pure
``calibration`` module reads, the proposals, and the two writes they lead to — a draft scheme version
with the chosen standards raised, and a remediation item.

**Met.** A unit *met* an indicator in a run when its line is assessable and lost no points
(``points == max_points``: no deduction, or every deduction exempted). *Assessed* counts the units whose
line is assessable; units without data for the indicator are left out of both counts. Bonus indicators
have no standard to meet (their weight is a cap, not a target) and are left out altogether.

**Which runs.** Only *published* runs count, one per period: the latest published run of that period
(publishing a recomputation supersedes the earlier one, so there is normally just one).

**Periods.** R0.3 calibrates "after each quarter". A monthly scheme's months are grouped into their
quarter and the quarter's share is **unit-months met / unit-months assessed** (a window that met the
standard in two of three months counts two out of three; a quarter with a month not yet published counts
the months it has). A quarterly, half-yearly or yearly scheme is calibrated per period directly. A
period counts once it is over (today is after its last day); the one still running is shown on the page
but proposes nothing, so half a quarter never triggers a raise.

**Since the standard last changed.** Per indicator, only the trailing runs scored under the *current*
standard count: walking back from the latest run, the history stops at the first run whose scheme
version gave the indicator a different metric or rule. So once a raised version is published and used,
the raise is not proposed again from the periods before it; after a change in mid-quarter that quarter
counts only its months under the new standard.

**Settings.** ``KAOPING_CALIBRATION`` in the Django settings, a dict with any of ``raise_above``,
``raise_periods``, ``raise_by``, ``remediate_below``, ``remediate_periods`` (``CalibrationSettings``);
missing keys keep their defaults (90 %, 3 periods, 5 %, 60 %, 2 periods).

**Writes** are the centre director's, each with an evidence entry: ``calibration_draft`` makes a new
draft scheme version (nothing changes until the director publishes it), ``remediation_open`` and
``remediation_close`` keep the remediation items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from kaoping.assessment.assess import parse_period, scheme_version_current
from kaoping.assessment.calibration import (
    CalibrationSettings,
    PeriodShare,
    Proposal,
    ProposalKind,
    RuleChange,
    calibrate,
    cap_for,
    raise_rule,
)
from kaoping.assessment.metric_names import KNOWN_METRICS
from kaoping.assessment.models import (
    Assessment,
    AssessmentResult,
    AssessmentStatus,
    RemediationItem,
    SchemeVersion,
)
from kaoping.assessment.rules import Rule, RuleKind, fmt
from kaoping.assessment.schemes import Category, Indicator, PeriodType, Scheme, dump_yaml
from kaoping.assessment.services import _require_director, scheme_draft_create, scheme_draft_update
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User
from kaoping.evidence.services import evidence_record

_DECIMAL_KEYS = ("raise_above", "raise_by", "remediate_below")
_INT_KEYS = ("raise_periods", "remediate_periods")


def calibration_settings() -> CalibrationSettings:
    """``CalibrationSettings`` from ``settings.KAOPING_CALIBRATION`` (defaults for what it leaves out);
    a wrong value is a configuration error naming every problem."""
    given = getattr(settings, "KAOPING_CALIBRATION", None) or {}
    if not isinstance(given, Mapping):
        raise ImproperlyConfigured("KAOPING_CALIBRATION must be a dict")
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in given.items():
        if key in _DECIMAL_KEYS:
            try:
                values[key] = Decimal(str(value))
            except InvalidOperation:
                problems.append(f"{key}: {value!r} is not a number")
        elif key in _INT_KEYS:
            values[key] = value
        else:
            problems.append(f"unknown key {key!r} (known: {', '.join(_DECIMAL_KEYS + _INT_KEYS)})")
    if not problems:
        try:
            return CalibrationSettings(**values)
        except ValueError as error:
            problems.append(str(error))
    raise ImproperlyConfigured(f"KAOPING_CALIBRATION: {'; '.join(problems)}")


# -- history ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A calibration period: a quarter of a monthly scheme, otherwise the run's own period."""

    text: str
    end: dt.date

    @property
    def closed(self) -> bool:
        return clock.today() > self.end


def span_of(period: str) -> Span:
    """The calibration period a run's period belongs to: a month's quarter, else the period itself."""
    parsed = parse_period(period)
    if parsed.kind is PeriodType.MONTH:
        quarter = (parsed.start.month - 1) // 3 + 1
        return span_of(f"{parsed.start.year}-Q{quarter}")
    return Span(parsed.text, parsed.end)


@dataclass(frozen=True)
class _Run:
    period: str
    start: dt.date
    span: Span
    version_id: int
    tallies: dict[str, tuple[int, int]]  # indicator → (met, assessed)


def met(line: Mapping[str, Any]) -> bool:
    """Whether a stored indicator line met its standard: assessable and no point lost."""
    if not line.get("assessable") or line.get("points") is None:
        return False
    return Decimal(str(line["points"])) >= Decimal(str(line["max_points"]))


def _published_runs(scheme_code: str, periods: Iterable[str] | None) -> list[_Run]:
    """The latest published run of each period, oldest period first, with its tallies."""
    wanted = None if periods is None else {p.strip() for p in periods}
    latest: dict[str, Assessment] = {}
    found = Assessment.objects.filter(scheme__code=scheme_code, status=AssessmentStatus.PUBLISHED)
    for run in found.order_by("period", "-published_at", "-pk"):
        latest.setdefault(run.period, run)
    runs: list[_Run] = []
    for period, run in latest.items():
        span = span_of(period)
        if wanted is not None and period not in wanted and span.text not in wanted:
            continue
        tallies: dict[str, list[int]] = {}
        lines_of = AssessmentResult.objects.filter(assessment=run).values_list("lines", flat=True)
        for lines in lines_of.iterator(chunk_size=500):
            for line in lines:
                if not line.get("assessable"):
                    continue
                tally = tallies.setdefault(line["indicator"], [0, 0])
                tally[0] += met(line)
                tally[1] += 1
        runs.append(
            _Run(
                period=period,
                start=run.period_start,
                span=span,
                version_id=run.scheme_id,
                tallies={code: (m, a) for code, (m, a) in tallies.items()},
            )
        )
    runs.sort(key=lambda r: (r.start, r.period))
    return runs


def _standards(scheme: Scheme) -> dict[str, tuple[str, Rule]]:
    return {i.code: (i.metric, i.rule) for i in scheme.indicators}


def calibrated(indicator: Indicator) -> bool:
    """Bonus indicators have no standard to meet; every other indicator is calibrated."""
    return indicator.category is not Category.BONUS and indicator.rule.kind is not RuleKind.BONUS


@dataclass(frozen=True)
class _Histories:
    version: SchemeVersion
    scheme: Scheme
    spans: list[Span]  # every calibration period seen, oldest first
    # indicator → span text → its share, from the runs under the current standard only
    shares: dict[str, dict[str, PeriodShare]]


def _histories(scheme_code: str, periods: Iterable[str] | None) -> _Histories:
    version = scheme_version_current(scheme_code)
    scheme = version.scheme()
    runs = _published_runs(scheme_code, periods)
    standards: dict[int, dict[str, tuple[str, Rule]]] = {version.pk: _standards(scheme)}
    for version_id in {r.version_id for r in runs} - set(standards):
        standards[version_id] = _standards(SchemeVersion.objects.get(pk=version_id).scheme())
    current = standards[version.pk]
    spans: dict[str, Span] = {}
    for run in runs:
        spans.setdefault(run.span.text, run.span)
    shares: dict[str, dict[str, PeriodShare]] = {}
    for indicator in scheme.indicators:
        if not calibrated(indicator):
            continue
        kept: list[_Run] = []
        for run in reversed(runs):
            if standards[run.version_id].get(indicator.code) != current[indicator.code]:
                break
            kept.append(run)
        sums: dict[str, list[int]] = {}
        for run in reversed(kept):
            m, a = run.tallies.get(indicator.code, (0, 0))
            total = sums.setdefault(run.span.text, [0, 0])
            total[0] += m
            total[1] += a
        shares[indicator.code] = {text: PeriodShare(text, m, a) for text, (m, a) in sums.items()}
    return _Histories(version, scheme, list(spans.values()), shares)


def indicator_history(
    scheme_code: str, periods: Iterable[str] | None = None, *, closed_only: bool = True
) -> dict[str, list[PeriodShare]]:
    """Per indicator of the scheme's current published version (bonus ones left out), its
    chronological ``(period, met, assessed)`` under the current standard: per quarter for a monthly
    scheme, per period otherwise (see the module docstring). ``periods`` keeps only the runs whose
    period, or whose quarter, is listed; ``closed_only`` leaves out the period still running."""
    found = _histories(scheme_code, periods)
    return {
        code: [
            by_span[span.text]
            for span in found.spans
            if span.text in by_span and (span.closed or not closed_only)
        ]
        for code, by_span in found.shares.items()
    }


# -- the calibration of a scheme ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    share: PeriodShare | None  # None: no run under the current standard in this period
    counted: bool  # a closed period under the current standard, read by the proposal

    @property
    def text(self) -> str:
        if self.share is None:
            return "—"
        value = self.share.share
        return "—" if value is None else f"{fmt(value.quantize(Decimal('0.1')))}%"


@dataclass(frozen=True)
class Row:
    indicator: Indicator
    cells: list[Cell]
    proposal: Proposal | None
    change: RuleChange | None  # for a raise: the stricter rule, or why none can be proposed

    @property
    def raisable(self) -> bool:
        return (
            self.proposal is not None
            and self.proposal.kind is ProposalKind.RAISE_STANDARD
            and self.change is not None
            and self.change.changed
        )

    @property
    def remediation(self) -> bool:
        return self.proposal is not None and self.proposal.kind is ProposalKind.REMEDIATION


@dataclass(frozen=True)
class Calibration:
    version: SchemeVersion
    scheme: Scheme
    settings: CalibrationSettings
    spans: list[Span]
    rows: list[Row]

    @property
    def quarterly_from_months(self) -> bool:
        return self.scheme.period_type is PeriodType.MONTH

    @property
    def proposals(self) -> list[Proposal]:
        return [row.proposal for row in self.rows if row.proposal is not None]

    def row(self, indicator: str) -> Row | None:
        return next((row for row in self.rows if row.indicator.code == indicator), None)


def stricter(indicator: Indicator, by: Decimal) -> RuleChange:
    """The indicator's rule raised ``by`` percent (``raise_rule``), with its metric's cap and unit."""
    info = KNOWN_METRICS.get(indicator.metric)
    unit = info.unit.suffix if info is not None else ""
    return raise_rule(indicator.rule, by=by, cap=cap_for(indicator.metric), unit=unit)


def calibration_for(
    scheme_code: str, *, options: CalibrationSettings | None = None, periods: Iterable[str] | None = None
) -> Calibration:
    """The shares of every calibrated indicator of the scheme per period, and the proposals."""
    options = options or calibration_settings()
    found = _histories(scheme_code, periods)
    indicators = {i.code: i for i in found.scheme.indicators if i.code in found.shares}
    history = {
        code: [by_span[s.text] for s in found.spans if s.closed and s.text in by_span]
        for code, by_span in found.shares.items()
    }
    proposals = {
        p.indicator: p for p in calibrate(history, options, labels={c: i.name for c, i in indicators.items()})
    }
    rows = []
    for code, indicator in indicators.items():
        by_span = found.shares[code]
        proposal = proposals.get(code)
        change = (
            stricter(indicator, options.raise_by)
            if proposal is not None and proposal.kind is ProposalKind.RAISE_STANDARD
            else None
        )
        cells = [Cell(by_span.get(s.text), s.closed and s.text in by_span) for s in found.spans]
        rows.append(Row(indicator, cells, proposal, change))
    return Calibration(found.version, found.scheme, options, found.spans, rows)


# -- writes -------------------------------------------------------------------------------------------


def calibration_draft(*, actor: User, scheme_code: str, indicators: list[str]) -> SchemeVersion:
    """A new draft version of the scheme with the chosen indicators' standards raised as calibration
    proposes. Each must have a raise proposal whose rule can move; every refusal is listed at once.
    Nothing takes effect until the director publishes the draft."""
    _require_director(actor, "calibration", scheme_code)
    chosen = list(dict.fromkeys(code.strip() for code in indicators if code.strip()))
    if not chosen:
        raise KaopingError(
            ErrorCode.INVALID, what="calibration", where=scheme_code, why="choose at least one indicator"
        )
    found = calibration_for(scheme_code)
    problems: list[str] = []
    changes: dict[str, RuleChange] = {}
    explanations: dict[str, str] = {}
    for code in chosen:
        row = found.row(code)
        if row is None:
            problems.append(f"{code}: not a calibrated indicator of {scheme_code}")
        elif row.proposal is None or row.proposal.kind is not ProposalKind.RAISE_STANDARD:
            problems.append(f"{code}: no raise of its standard is proposed")
        elif row.change is None or not row.change.changed:
            problems.append(f"{code}: {row.change.explanation if row.change else 'nothing to raise'}")
        else:
            changes[code] = row.change
            explanations[code] = row.proposal.explanation
    if problems:
        raise KaopingError(ErrorCode.INVALID, what="calibration", where=scheme_code, why="; ".join(problems))
    with transaction.atomic():
        draft = scheme_draft_create(actor=actor, base=found.version)
        scheme = draft.scheme()
        raised = tuple(
            replace(i, rule=changes[i.code].rule) if i.code in changes else i for i in scheme.indicators
        )
        scheme_draft_update(actor=actor, draft=draft, text=dump_yaml(replace(scheme, indicators=raised)))
        note = "；".join(f"{explanations[code]}；{change.explanation}" for code, change in changes.items())
        evidence_record(
            actor=actor,
            action="assessment.calibration_draft",
            instance=draft,
            note=f"R0.3 校准，基于 v{found.version.version}：{note}",
        )
    return draft


def _history_text(shares: Iterable[PeriodShare]) -> tuple[str, str]:
    items = [s for s in shares if s.share is not None]
    return (
        "、".join(s.period for s in items),
        "、".join(f"{fmt(cast(Decimal, s.share).quantize(Decimal('0.1')))}%" for s in items),
    )


def remediation_open(*, actor: User, scheme_code: str, indicator: str, note: str = "") -> RemediationItem:
    """Open a remediation item (专项整改) for an indicator of the scheme. With a remediation proposal it
    records the proposal's periods, shares and explanation; without one the director must say why in
    ``note`` (the latest periods' shares are recorded). One open item per indicator."""
    _require_director(actor, "remediation", f"{scheme_code}/{indicator}")
    found = calibration_for(scheme_code)
    row = found.row(indicator)
    if row is None:
        raise KaopingError(
            ErrorCode.NOT_FOUND,
            what="remediation",
            where=f"{scheme_code}/{indicator}",
            why="not a calibrated indicator of the scheme's current version",
        )
    text = note.strip()
    if row.remediation:
        proposal = cast(Proposal, row.proposal)
        periods = "、".join(proposal.periods)
        shares = "、".join(f"{fmt(s.quantize(Decimal('0.1')))}%" for s in proposal.shares)
        explanation = proposal.explanation
    else:
        if not text:
            raise KaopingError(
                ErrorCode.INVALID,
                what="remediation",
                where=f"{scheme_code}/{indicator}",
                why="no remediation is proposed for it: say in the note why one is opened",
            )
        counted = [c.share for c in row.cells if c.counted and c.share is not None]
        periods, shares = _history_text(counted[-found.settings.remediate_periods :])
        explanation = ""
    if RemediationItem.objects.filter(
        scheme_code=scheme_code, indicator=indicator, status=RemediationItem.Status.OPEN
    ).exists():
        raise KaopingError(
            ErrorCode.INVALID,
            what="remediation",
            where=f"{scheme_code}/{indicator}",
            why="a remediation item for it is already open",
        )
    try:
        with transaction.atomic():
            item = RemediationItem.objects.create(
                scheme_code=scheme_code,
                indicator=indicator,
                indicator_name=row.indicator.name[:200],
                periods=periods[:200],
                shares=shares[:200],
                explanation=explanation,
                note=text,
                opened_by_id=cast(int, actor.pk),
                opened_at=clock.now(),
            )
            evidence_record(actor=actor, action="assessment.remediation_open", instance=item, note=text[:300])
    except IntegrityError:  # opened at the same moment by another request
        raise KaopingError(
            ErrorCode.INVALID,
            what="remediation",
            where=f"{scheme_code}/{indicator}",
            why="a remediation item for it is already open",
        ) from None
    return item


def remediation_close(*, actor: User, item: RemediationItem, outcome: str) -> RemediationItem:
    """Close an open remediation item with its outcome."""
    _require_director(actor, "remediation", f"{item.scheme_code}/{item.indicator}")
    if item.status != RemediationItem.Status.OPEN:
        raise KaopingError(
            ErrorCode.INVALID, what="remediation", where=f"#{item.pk}", why="is already closed"
        )
    text = outcome.strip()
    if not text:
        raise KaopingError(
            ErrorCode.INVALID, what="remediation", where="outcome", why="say what the remediation achieved"
        )
    with transaction.atomic():
        item.status = RemediationItem.Status.CLOSED
        item.outcome = text
        item.closed_by_id = cast(int, actor.pk)
        item.closed_at = clock.now()
        item.save(update_fields=["status", "outcome", "closed_by", "closed_at"])
        evidence_record(actor=actor, action="assessment.remediation_close", instance=item)
    return item


def remediation_items(scheme_code: str | None = None, *, open_only: bool = True) -> list[RemediationItem]:
    found = RemediationItem.objects.select_related("opened_by", "closed_by")
    if scheme_code:
        found = found.filter(scheme_code=scheme_code)
    if open_only:
        found = found.filter(status=RemediationItem.Status.OPEN)
    return list(found)
