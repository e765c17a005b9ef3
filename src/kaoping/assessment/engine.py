"""The assessment engine: a scheme and each unit's metric values in, each unit's result out. Pure Python.

``assess(scheme, inputs)`` scores every unit under one scheme version for one period and ranks them. It
reads nothing and writes nothing: the caller gathers the inputs (metric values with their record references,
manual entries, anchored levels, veto occurrences, approved exemptions) and stores the results.

**Inputs.** A ``UnitInput`` holds, per metric name, a ``MetricValue``: the value (``%`` metrics in percent,
0–100; counts as whole numbers), optionally its numerator and denominator, the record references behind it
(opaque strings, passed through to the result and used as deduction keys for counted occurrences), a level
code for anchored rules (a whole-number value is read as its level code when no level is given) and a basis
text. ``MetricValue.of`` converts the metrics layer's floats exactly and fractions to percent.

**Missing values are not zeros.** A metric with no value (absent, or ``value`` None: no ratings, no cases in
the period) makes its indicator *not assessable*: the line is flagged, earns nothing and deducts nothing.

- Weighted schemes: the indicator's weight leaves the base, and the points earned on the assessable weight
  are rescaled to the full score: ``earned × 100 / assessable weight``, rounded to 2 decimals half-up. So a
  unit with no ratings is judged on the rest, neither punished with 0 nor given full marks.
- Deduction schemes: the item deducts nothing (there is nothing to rescale in "100 minus deductions").
- Either way the result is marked incomplete and names the indicators left out. When the assessable weight
  falls below the scheme's ``min_assessable_share`` (default 60 %) of the scored weight, the unit is *not
  assessed*: its total is shown for information but it gets no grade and no rank.
- A missing bonus earns nothing; a missing veto metric vetoes nothing (both flagged).

**Totals.** Weighted: (rescaled) points + bonus points. Deduction: ``max(0, full − deductions)`` + bonus.
Bonus points sit outside the 100, so a total may exceed 100 by at most the bonus caps. All amounts are
2-decimal ``Decimal``s; the only rounding after the rules is the rescaling above.

**Veto.** Any active veto occurrence marks the unit vetoed: grade 不合格 whatever its total; the total is
still shown. A tolerance exemption of every occurrence lifts the veto (``rules.apply_exemptions``).

**Grades** (R1.7, per scheme): 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 70, else 不合格; bounds inclusive.

**Ranking.** Units are ranked within the scheme (and, for schemes with roles, within each role: a call taker
is not ranked against a monitor). Order:

1. units not vetoed before vetoed units;
2. higher total;
3. higher outcome-category points (what citizens got, R2.1's largest category);
4. fewer deductions (count of active deduction items).

Units equal on all four share a rank, and the next rank skips ("1, 2, 2, 4"): the unit's code never decides
a rank, it only orders tied units in the list. Units not assessed are not ranked (rank None). The
*percentile* is the share of the other ranked units a unit is ranked strictly ahead of, 0–100 (the best
unit 100 and the worst 0 when untied, a sole unit 100; units tied for a place are ahead of the same units),
2 decimals.

**R3.5 incentive** (deduction schemes with ``incentive``): the cut is ``base × deductions / full score``,
rounded to the fen, at most the base; a vetoed unit loses the whole base. Award eligibility is lost when the
score after deductions (bonus not counted: a bonus cannot buy back eligibility) is below
``award_min_score``, or when vetoed. The unit's own ``incentive_base`` overrides the scheme's.

**Output and errors.** Results come grouped by role (in the scheme's order), each group in rank order
(ties by unit code), then its unranked units by code. The same scheme and inputs give identical results,
whatever the order of the inputs. Inputs that cannot be assessed (duplicate unit, unknown role, an
exemption naming a deduction that does not exist, a manual value outside its allowed range, an unknown
anchored level, a non-whole count) raise ``AssessmentInputError`` listing every problem at once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kaoping.assessment.metric_names import KNOWN_METRICS
from kaoping.assessment.rules import (
    Anchored,
    Bands,
    Bonus,
    Deduction,
    ExemptedDeduction,
    Exemption,
    ExemptionError,
    Outcome,
    PerOccurrence,
    RuleKind,
    TargetLinear,
    UnknownLevelError,
    Veto,
    apply_exemptions,
    fmt,
    round_points,
)
from kaoping.assessment.schemes import (
    Category,
    Dimension,
    Grade,
    Indicator,
    Scheme,
    SchemeStyle,
    content_hash,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class MetricValue:
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    refs: tuple[str, ...] = ()
    level: str | None = None
    basis: str = ""

    @classmethod
    def of(
        cls,
        value: float | Decimal | None,
        *,
        numerator: float | Decimal | None = None,
        denominator: float | Decimal | None = None,
        refs: Sequence[str] = (),
        basis: str = "",
        percent: bool = False,
    ) -> MetricValue:
        """From plain numbers: a float becomes the decimal it prints as (``0.1`` → ``0.1``, not
        0.1000000000000000055…); ``percent=True`` turns a fraction (0.965) into percent (96.5)."""
        number = _decimal(value)
        if number is not None and percent:
            number *= HUNDRED
        return cls(
            value=number,
            numerator=_decimal(numerator),
            denominator=_decimal(denominator),
            refs=tuple(refs),
            basis=basis,
        )


def _decimal(value: float | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


@dataclass(frozen=True)
class UnitInput:
    unit: str
    metrics: Mapping[str, MetricValue] = field(default_factory=dict)
    exemptions: tuple[Exemption, ...] = ()
    role: str | None = None
    incentive_base: Decimal | None = None


@dataclass(frozen=True)
class IndicatorLine:
    code: str
    name: str
    category: Category
    dimension: Dimension
    metric: str
    rule: RuleKind
    max_points: Decimal
    assessable: bool
    points: Decimal | None  # None when not assessable
    value: Decimal | None
    level: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    target: Decimal | None
    deductions: tuple[Deduction, ...]
    exempted: tuple[ExemptedDeduction, ...]
    explanation: str
    refs: tuple[str, ...]
    basis: str
    vetoed: bool

    @property
    def deducted(self) -> Decimal:
        return sum((deduction.amount for deduction in self.deductions), ZERO)


@dataclass(frozen=True)
class UnitResult:
    unit: str
    role: str | None
    scheme_code: str
    scheme_version: int
    scheme_hash: str
    lines: tuple[IndicatorLine, ...]
    earned: Decimal  # points of the assessable scored (non-bonus) lines, before rescaling
    scored_weight: Decimal  # weight of the scored lines that apply to the unit
    assessable_weight: Decimal  # … of those that could be assessed
    deducted: Decimal  # active deductions on the scored lines
    bonus: Decimal
    total: Decimal
    grade: Grade | None  # None when not assessed
    vetoed: bool
    assessed: bool
    complete: bool
    not_assessable: tuple[str, ...]  # indicator codes without data
    outcome_points: Decimal
    deduction_count: int
    rank: int | None
    ranked_count: int
    percentile: Decimal | None
    incentive_base: Decimal | None
    incentive_cut: Decimal | None
    award_eligible: bool | None
    explanation: str

    def line(self, code: str) -> IndicatorLine:
        for line in self.lines:
            if line.code == code:
                return line
        raise KeyError(code)


class AssessmentInputError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- one indicator --------------------------------------------------------------------------------


def _unit_suffix(metric: str) -> str:
    info = KNOWN_METRICS.get(metric)
    return info.unit.suffix if info else ""


def _count(value: Decimal, where: str, problems: list[str]) -> int | None:
    if value < 0 or value != value.to_integral_value():
        problems.append(f"{where}：次数应为不小于 0 的整数，收到 {value}")
        return None
    return int(value)


def _level_of(metric: MetricValue) -> str | None:
    if metric.level is not None:
        return metric.level
    if metric.value is not None and metric.value == metric.value.to_integral_value():
        return str(int(metric.value))
    return None


def _apply(indicator: Indicator, metric: MetricValue, where: str, problems: list[str]) -> Outcome | None:
    rule, weight, label = indicator.rule, indicator.weight, indicator.name
    unit = _unit_suffix(indicator.metric)
    if isinstance(rule, Anchored):
        level = _level_of(metric)
        if level is None:
            problems.append(f"{where}：行为锚定指标需要填写等级")
            return None
        try:
            return rule.apply(level, weight, label=label)
        except UnknownLevelError as error:
            problems.append(f"{where}：{error}")
            return None
    assert metric.value is not None
    value = metric.value
    if indicator.manual_range is not None:
        low, high = indicator.manual_range
        if not low <= value <= high:
            problems.append(f"{where}：填报值 {fmt(value)} 超出允许范围 {fmt(low)}–{fmt(high)}")
            return None
    if isinstance(rule, TargetLinear | Bands | Bonus):
        return rule.apply(value, weight, label=label, unit=unit)
    count = _count(value, where, problems)
    if count is None:
        return None
    assert isinstance(rule, PerOccurrence | Veto)
    return rule.apply(count, weight, label=label, refs=metric.refs)


def _has_value(indicator: Indicator, metric: MetricValue | None) -> bool:
    if metric is None:
        return False
    if isinstance(indicator.rule, Anchored):
        return metric.level is not None or metric.value is not None
    return metric.value is not None


def _make_line(
    indicator: Indicator,
    metric: MetricValue | None,
    *,
    points: Decimal | None,
    outcome: Outcome | None,
    explanation: str,
) -> IndicatorLine:
    return IndicatorLine(
        code=indicator.code,
        name=indicator.name,
        category=indicator.category,
        dimension=indicator.dimension,
        metric=indicator.metric,
        rule=indicator.rule.kind,
        max_points=indicator.weight,
        assessable=outcome is not None,
        points=points,
        value=metric.value if metric else None,
        level=_level_of(metric) if metric and isinstance(indicator.rule, Anchored) else None,
        numerator=metric.numerator if metric else None,
        denominator=metric.denominator if metric else None,
        target=indicator.rule.target if isinstance(indicator.rule, TargetLinear) else None,
        deductions=outcome.deductions if outcome else (),
        exempted=outcome.exempted if outcome else (),
        explanation=explanation,
        refs=metric.refs if metric else (),
        basis=metric.basis if metric else "",
        vetoed=outcome.vetoed if outcome else False,
    )


def _line(
    indicator: Indicator,
    metric: MetricValue | None,
    exemptions: Sequence[Exemption],
    where: str,
    style: SchemeStyle,
    problems: list[str],
) -> IndicatorLine | None:
    if metric is None or not _has_value(indicator, metric):
        if exemptions:
            keys = "、".join(exemption.deduction_key for exemption in exemptions)
            problems.append(f"{where}：本期无数据，没有可免责的扣分项（{keys}）")
            return None
        if indicator.category is Category.BONUS:
            effect = "不加分"
        elif style is SchemeStyle.WEIGHTED:
            effect = f"其分值 {fmt(indicator.weight)} 分不计入可考核分值"
        else:
            effect = "不扣分"
        basis = f"（{metric.basis}）" if metric and metric.basis else ""
        explanation = f"{indicator.name}：本期无数据{basis}，不可考核，{effect}"
        return _make_line(indicator, metric, points=None, outcome=None, explanation=explanation)
    outcome = _apply(indicator, metric, where, problems)
    if outcome is None:
        return None
    try:
        outcome = apply_exemptions(outcome, exemptions)
    except ExemptionError as error:
        problems.extend(f"{where}：{problem}" for problem in error.problems)
        return None
    return _make_line(
        indicator, metric, points=outcome.points, outcome=outcome, explanation=outcome.explanation
    )


# --- one unit -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    """A unit's result before ranking."""

    unit: UnitInput
    lines: tuple[IndicatorLine, ...]
    earned: Decimal
    scored_weight: Decimal
    assessable_weight: Decimal
    deducted: Decimal
    bonus: Decimal
    total: Decimal
    after_deductions: Decimal
    vetoed: bool
    assessed: bool
    outcome_points: Decimal
    deduction_count: int


def _score_unit(scheme: Scheme, unit: UnitInput, problems: list[str]) -> _Scored | None:
    before = len(problems)
    indicators = [indicator for indicator in scheme.indicators if indicator.applies_to(unit.role)]
    codes = {indicator.code for indicator in indicators}
    by_indicator: dict[str, list[Exemption]] = defaultdict(list)
    for exemption in unit.exemptions:
        if exemption.indicator not in codes:
            problems.append(
                f"单位 {unit.unit}：免责指向的指标 {exemption.indicator} 不在本方案（或不适用于该岗位）"
            )
        else:
            by_indicator[exemption.indicator].append(exemption)
    lines: list[IndicatorLine] = []
    for indicator in indicators:
        where = f"单位 {unit.unit} 指标 {indicator.code}"
        line = _line(
            indicator,
            unit.metrics.get(indicator.metric),
            by_indicator.get(indicator.code, []),
            where,
            scheme.style,
            problems,
        )
        if line is not None:
            lines.append(line)
    if len(problems) > before:
        return None
    scored = [line for line in lines if line.category is not Category.BONUS]
    scored_weight = sum((line.max_points for line in scored), ZERO)
    assessable = [line for line in scored if line.assessable]
    assessable_weight = sum((line.max_points for line in assessable), ZERO)
    earned = sum((line.points or ZERO for line in assessable), ZERO)
    deducted = sum((line.deducted for line in assessable), ZERO)
    bonus = sum((line.points or ZERO for line in lines if line.category is Category.BONUS), ZERO)
    if scheme.style is SchemeStyle.WEIGHTED:
        if assessable_weight and assessable_weight != scored_weight:
            base = round_points(earned * scheme.full_score / assessable_weight)
        else:
            base = earned
        after_deductions = base
    else:
        after_deductions = max(scheme.full_score - deducted, ZERO)
        base = after_deductions
    if scored_weight:
        assessed = assessable_weight > 0 and assessable_weight * HUNDRED >= (
            scheme.min_assessable_share * scored_weight
        )
    else:
        assessed = any(line.assessable for line in scored)
    return _Scored(
        unit=unit,
        lines=tuple(lines),
        earned=earned,
        scored_weight=scored_weight,
        assessable_weight=assessable_weight,
        deducted=deducted,
        bonus=bonus,
        total=base + bonus,
        after_deductions=after_deductions,
        vetoed=any(line.vetoed for line in lines),
        assessed=assessed,
        outcome_points=sum(
            (line.points or ZERO for line in assessable if line.category is Category.OUTCOME), ZERO
        ),
        deduction_count=sum(
            1 for line in assessable for deduction in line.deductions if deduction.amount > 0
        ),
    )


def _rank_key(scored: _Scored) -> tuple[bool, Decimal, Decimal, int]:
    return (scored.vetoed, -scored.total, -scored.outcome_points, scored.deduction_count)


def _explain(
    scheme: Scheme,
    scored: _Scored,
    grade: Grade | None,
    cut: Decimal | None,
    base: Decimal | None,
    eligible: bool | None,
) -> str:
    parts: list[str] = []
    missing = [line.name for line in scored.lines if not line.assessable]
    if scheme.style is SchemeStyle.WEIGHTED:
        parts.append(f"各项得分合计 {fmt(scored.earned)} 分")
        if missing and scored.assessable_weight:
            parts.append(
                f"{len(missing)} 项本期无数据（{'、'.join(missing)}），按可考核分值 "
                f"{fmt(scored.assessable_weight)} 分折算为 {fmt(scored.after_deductions)} 分"
            )
    else:
        parts.append(
            f"满分 {fmt(scheme.full_score)} 分，扣 {fmt(scored.deducted)} 分，"
            f"得 {fmt(scored.after_deductions)} 分"
        )
        if missing:
            parts.append(f"{len(missing)} 项本期无数据（{'、'.join(missing)}），未扣分")
    if scored.bonus:
        parts.append(f"加分 {fmt(scored.bonus)} 分")
    parts.append(f"总分 {fmt(scored.total)} 分")
    if scored.vetoed:
        parts.append("存在一票否决事项，等次为不合格")
    elif grade is None:
        parts.append(f"可考核分值不足 {fmt(scheme.min_assessable_share)}%，不评定等次、不参与排名")
    else:
        parts.append(f"等次：{grade.label}")
    if cut is not None and base is not None:
        parts.append(f"激励金 {fmt(base)} 元按扣分比例扣减 {fmt(cut)} 元")
    award = scheme.incentive.award_min_score if scheme.incentive else None
    if eligible is False and award is not None:
        reason = "被一票否决" if scored.vetoed else f"扣分后得分低于 {fmt(award)} 分"
        parts.append(f"{reason}，取消年度评优评先资格")
    return "，".join(parts)


# --- all units ------------------------------------------------------------------------------------


def assess(scheme: Scheme, inputs: Sequence[UnitInput]) -> list[UnitResult]:
    """Score and rank every unit under one scheme; see the module docstring."""
    problems: list[str] = []
    seen: set[str] = set()
    roles = scheme.role_codes
    for unit in inputs:
        if unit.unit in seen:
            problems.append(f"单位 {unit.unit} 重复出现")
        seen.add(unit.unit)
        if roles and unit.role not in roles:
            problems.append(
                f"单位 {unit.unit}：岗位 {unit.role!r} 不在本方案的岗位（{'、'.join(roles)}）之中"
            )
        elif not roles and unit.role is not None:
            problems.append(f"单位 {unit.unit}：本方案不区分岗位，不应指定岗位 {unit.role!r}")
    if problems:
        raise AssessmentInputError(problems)
    scored_units = [_score_unit(scheme, unit, problems) for unit in inputs]
    if problems:
        raise AssessmentInputError(problems)

    scheme_hash = content_hash(scheme)
    groups: dict[str | None, list[_Scored]] = defaultdict(list)
    for scored in scored_units:
        assert scored is not None
        groups[scored.unit.role].append(scored)
    order: list[str | None] = list(roles) if roles else [None]
    results: list[UnitResult] = []
    for role in order:
        members = sorted(groups.get(role, []), key=lambda scored: scored.unit.unit)
        ranked = sorted((s for s in members if s.assessed), key=lambda s: (_rank_key(s), s.unit.unit))
        keys = [_rank_key(s) for s in ranked]  # sorted, since ``ranked`` is
        count = len(ranked)
        positions: dict[str, tuple[int, Decimal]] = {}
        for scored, key in zip(ranked, keys, strict=True):
            rank = 1 + bisect_left(keys, key)
            behind = count - bisect_right(keys, key)
            percentile = HUNDRED if count == 1 else round_points(HUNDRED * behind / (count - 1))
            positions[scored.unit.unit] = (rank, percentile)
        unranked = [s for s in members if not s.assessed]
        for scored in [*ranked, *unranked]:
            results.append(_result(scheme, scheme_hash, scored, positions.get(scored.unit.unit), count))
    return results


def _result(
    scheme: Scheme, scheme_hash: str, scored: _Scored, position: tuple[int, Decimal] | None, count: int
) -> UnitResult:
    if scored.vetoed:
        grade: Grade | None = Grade.FAIL
    elif scored.assessed:
        grade = scheme.grades.grade(scored.total)
    else:
        grade = None
    base: Decimal | None = None
    cut: Decimal | None = None
    eligible: bool | None = None
    incentive = scheme.incentive
    if scheme.style is SchemeStyle.DEDUCTION and incentive is not None:
        base = scored.unit.incentive_base if scored.unit.incentive_base is not None else incentive.base
        if base is not None:
            share = min(scored.deducted, scheme.full_score) / scheme.full_score
            cut = base if scored.vetoed else min(round_points(base * share), base)
        if incentive.award_min_score is not None:
            eligible = not scored.vetoed and scored.after_deductions >= incentive.award_min_score
    return UnitResult(
        unit=scored.unit.unit,
        role=scored.unit.role,
        scheme_code=scheme.code,
        scheme_version=scheme.version,
        scheme_hash=scheme_hash,
        lines=scored.lines,
        earned=scored.earned,
        scored_weight=scored.scored_weight,
        assessable_weight=scored.assessable_weight,
        deducted=scored.deducted,
        bonus=scored.bonus,
        total=scored.total,
        grade=grade,
        vetoed=scored.vetoed,
        assessed=scored.assessed,
        complete=all(line.assessable for line in scored.lines),
        not_assessable=tuple(line.code for line in scored.lines if not line.assessable),
        outcome_points=scored.outcome_points,
        deduction_count=scored.deduction_count,
        rank=position[0] if position else None,
        ranked_count=count,
        percentile=position[1] if position else None,
        incentive_base=base,
        incentive_cut=cut,
        award_eligible=eligible,
        explanation=_explain(scheme, scored, grade, cut, base, eligible),
    )
