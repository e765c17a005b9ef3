"""The rules that turn a metric value into points. Pure Python, no Django: plain values in, plain values out.

Every rule is a frozen dataclass with an ``apply`` that returns an ``Outcome``: the points earned, the most
the indicator could earn (``max_points``, its weight), the deductions as named items (key, amount, reason,
record reference) and a one-line explanation in Chinese, for example
"满意率 96%，低于目标 98% 2 个百分点，每低 1% 扣 2 分，扣 4 分，得 16 分".

For every rule except ``Bonus``, ``points == max_points - sum(deduction amounts)``: each deduction's amount is
what it actually cost, so the list always adds up to what was taken off.

**Kinds** (R2.6, R3.5):

- ``TargetLinear``: a target, and each *step* short of it costs *points_per_step* (satisfaction: each 1 %
  below target −2; complaint-handling timeliness: each 5 % below −1). Direction higher-better or
  lower-better. The points never fall below 0 (the deduction is capped at the indicator's points: "扣完为止").
  **Partial steps** (``partial``): ``whole`` (the default) counts completed steps only, so 1.5 % below with a
  1 % step costs one step: the seeds say "每低于目标值 1%", i.e. for each full 1 %, and a unit is not charged
  for a step it has not completed. ``started`` counts a started step as a whole one (1.5 % → two steps), for
  targets such as "accuracy 100 %" where any shortfall must cost something. ``prorata`` charges the exact
  fraction (1.5 % → 1.5 steps).
- ``PerOccurrence``: deduction scoring (百分倒减制, R3.5): *k* points per occurrence from the item's full
  points, up to the item's cap (default: its full points), never below 0. Occurrences are charged in the
  order given, one deduction each; once the cap is reached, further occurrences are listed with amount 0.
  A deduction's key is the occurrence's record reference when every occurrence has a distinct one, else its
  number ``#1``, ``#2`` ….
- ``Bands``: ordered thresholds → points, best band first. Edges are inclusive: higher-better bands read
  "value ≥ min", lower-better bands "value ≤ max"; the first band the value satisfies gives the points; a
  value in no band gets ``otherwise`` (default 0).
- ``Anchored``: behaviourally anchored levels (BARS, R2.6): a level code → points, e.g. innovation
  20 / 10 / 0.
- ``Bonus``: points per unit of value above a threshold (default 0), capped at the indicator's points. Bonus
  points sit outside the 100 and are never deductions.
- ``Veto``: any occurrence fails the unit (一票否决): the indicator earns 0, its deductions are marked
  ``vetoes`` and the engine marks the unit vetoed with grade 不合格 whatever its total. With no occurrence the
  indicator earns its full points (R2.1 gives the veto category 5–10 % of the scheme).

**Rounding.** Values, targets and parameters are ``Decimal``; arithmetic is exact; points and deductions are
rounded to 2 decimals, half-up (``round_points``), once, where a rule produces them. Totals are sums of these
rounded amounts, so a recomputation with the same inputs gives the same digits.

**Tolerance exemptions (R2.11, R4.12).** An ``Exemption`` names one deduction (indicator code + deduction
key) with its approver and reason. ``apply_exemptions`` moves exactly that deduction to ``exempted`` and
restores exactly its amount: ``points_after == points_before + amount``. Because occurrences beyond an item's
cap are listed at amount 0, exempting one of those restores nothing, and exempting an earlier one restores
what it was charged (the later ones stay at 0): what each occurrence cost is on the record, and an exemption
gives back that, no more. For a veto, exempting an occurrence lifts it; the veto stands while another
occurrence remains. An exemption naming a deduction that does not exist is an error (``ExemptionError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")


def round_points(value: Decimal) -> Decimal:
    """Points and money: 2 decimals, half-up."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded + ZERO  # turns -0.00 into 0.00


def fmt(value: Decimal) -> str:
    """A number as people read it: at most 2 decimals (half-up), no trailing zeros: 96, 96.5, 1.25."""
    text = format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def qty(value: Decimal, unit: str) -> str:
    """A quantity with its unit suffix: ``96%``, ``2 小时``, ``3 次``, ``5``."""
    if unit == "%":
        return f"{fmt(value)}%"
    return f"{fmt(value)} {unit}" if unit else fmt(value)


def spaced(text: str) -> str:
    """``text`` and a space if it ends in a digit, a Latin letter or ``%``: ``1% 扣``, but ``0.1 次扣``."""
    if text and ((text[-1].isascii() and text[-1].isalnum()) or text[-1] == "%"):
        return f"{text} "
    return text


def gap(value: Decimal, unit: str) -> str:
    """A difference: percentages differ by percentage points (个百分点)."""
    return f"{fmt(value)} 个百分点" if unit == "%" else qty(value, unit)


class RuleKind(StrEnum):
    TARGET_LINEAR = "target_linear"
    PER_OCCURRENCE = "per_occurrence"
    BANDS = "bands"
    ANCHORED = "anchored"
    BONUS = "bonus"
    VETO = "veto"


class Direction(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"


class PartialStep(StrEnum):
    WHOLE = "whole"
    STARTED = "started"
    PRORATA = "prorata"


@dataclass(frozen=True)
class Deduction:
    key: str
    amount: Decimal
    reason: str
    record_ref: str | None = None
    vetoes: bool = False


@dataclass(frozen=True)
class Exemption:
    """An approved tolerance exemption (容错免责) from one deduction."""

    indicator: str
    deduction_key: str
    approver: str
    reason: str
    reference: str | None = None  # the approval record, if any


@dataclass(frozen=True)
class ExemptedDeduction:
    deduction: Deduction
    exemption: Exemption
    restored: Decimal


@dataclass(frozen=True)
class Outcome:
    points: Decimal
    max_points: Decimal
    deductions: tuple[Deduction, ...] = ()
    explanation: str = ""
    exempted: tuple[ExemptedDeduction, ...] = ()

    @property
    def vetoed(self) -> bool:
        return any(deduction.vetoes for deduction in self.deductions)

    @property
    def deducted(self) -> Decimal:
        return sum((deduction.amount for deduction in self.deductions), ZERO)


class ExemptionError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


def _full(max_points: Decimal) -> Decimal:
    """An indicator's full points, checked and written to 2 decimals like every other amount."""
    if max_points < 0:
        raise ValueError("max_points must not be negative")
    return round_points(max_points)


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError("an occurrence count must be a whole number ≥ 0")


def _occurrence_keys(count: int, refs: Sequence[str]) -> list[tuple[str, str | None]]:
    """(key, record ref) per occurrence: the refs themselves when they name every occurrence once."""
    if len(refs) == count and len(set(refs)) == count:
        return [(ref, ref) for ref in refs]
    return [(f"#{number}", None) for number in range(1, count + 1)]


# --- target with linear deduction -----------------------------------------------------------------


@dataclass(frozen=True)
class TargetLinear:
    target: Decimal
    step: Decimal
    points_per_step: Decimal
    direction: Direction = Direction.HIGHER_BETTER
    partial: PartialStep = PartialStep.WHOLE
    kind: ClassVar[RuleKind] = RuleKind.TARGET_LINEAR

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise ValueError("step must be > 0")
        if self.points_per_step < 0:
            raise ValueError("points_per_step must be ≥ 0")

    def shortfall(self, value: Decimal) -> Decimal:
        """How far the value falls short of the target (0 when it meets it)."""
        if self.direction is Direction.HIGHER_BETTER:
            return max(self.target - value, ZERO)
        return max(value - self.target, ZERO)

    def steps(self, shortfall: Decimal) -> Decimal:
        ratio = shortfall / self.step
        if self.partial is PartialStep.WHOLE:
            return ratio.to_integral_value(rounding=ROUND_FLOOR)
        if self.partial is PartialStep.STARTED:
            return ratio.to_integral_value(rounding=ROUND_CEILING)
        return ratio

    def apply(self, value: Decimal, max_points: Decimal, *, label: str = "", unit: str = "") -> Outcome:
        max_points = _full(max_points)
        higher = self.direction is Direction.HIGHER_BETTER
        short = self.shortfall(value)
        head = f"{label} {qty(value, unit)}".strip()
        if short == 0:
            met = "达到目标" if higher else "未超过目标"
            return Outcome(
                points=max_points,
                max_points=max_points,
                explanation=f"{head}，{met} {qty(self.target, unit)}，得满分 {fmt(max_points)} 分",
            )
        steps = self.steps(short)
        raw = round_points(steps * self.points_per_step)
        amount = min(raw, max_points)
        step = qty(self.step, unit)
        if higher:
            position = f"低于目标 {qty(self.target, unit)} {gap(short, unit)}"
            rate = f"每低 {spaced(step)}扣 {fmt(self.points_per_step)} 分"
        else:
            position = f"目标不超过 {qty(self.target, unit)}，超出 {gap(short, unit)}"
            rate = f"每超 {spaced(step)}扣 {fmt(self.points_per_step)} 分"
        remainder = short % self.step != 0
        if remainder and self.partial is PartialStep.WHOLE:
            rate += f"（不足 {spaced(step)}的部分不扣）"
        elif remainder and self.partial is PartialStep.STARTED:
            rate += f"（不足 {spaced(step)}按 {spaced(step)}计）"
        elif remainder:
            rate += "（按比例折算）"
        if amount == 0:
            return Outcome(
                points=max_points,
                max_points=max_points,
                explanation=f"{head}，{position}，{rate}，不扣分，得满分 {fmt(max_points)} 分",
            )
        taken = (
            f"扣 {fmt(amount)} 分"
            if amount == raw
            else f"应扣 {fmt(raw)} 分，本项扣完为止，扣 {fmt(amount)} 分"
        )
        points = max_points - amount
        return Outcome(
            points=points,
            max_points=max_points,
            deductions=(
                Deduction(key="shortfall", amount=amount, reason=f"{position}，扣 {fmt(amount)} 分"),
            ),
            explanation=f"{head}，{position}，{rate}，{taken}，得 {fmt(points)} 分",
        )


# --- deduction per occurrence ---------------------------------------------------------------------


@dataclass(frozen=True)
class PerOccurrence:
    points_per_occurrence: Decimal
    cap: Decimal | None = None  # the most this item can lose; None: its full points
    kind: ClassVar[RuleKind] = RuleKind.PER_OCCURRENCE

    def __post_init__(self) -> None:
        if self.points_per_occurrence <= 0:
            raise ValueError("points_per_occurrence must be > 0")
        if self.cap is not None and self.cap <= 0:
            raise ValueError("cap must be > 0")

    def limit(self, max_points: Decimal) -> Decimal:
        return max_points if self.cap is None else min(self.cap, max_points)

    def apply(self, count: int, max_points: Decimal, *, label: str = "", refs: Sequence[str] = ()) -> Outcome:
        max_points = _full(max_points)
        _check_count(count)
        limit = self.limit(max_points)
        if count == 0:
            return Outcome(
                points=max_points,
                max_points=max_points,
                explanation=f"{label} 0 次，不扣分，得满分 {fmt(max_points)} 分".strip(),
            )
        each = round_points(self.points_per_occurrence)
        deductions: list[Deduction] = []
        charged = ZERO
        # Formatted once: a unit may have hundreds of occurrences past the cap.
        each_text, limit_text = fmt(each), fmt(limit)
        for number, (key, ref) in enumerate(_occurrence_keys(count, refs), start=1):
            amount = min(each, limit - charged)
            charged += amount
            if amount == each:
                reason = f"第 {number} 次，扣 {each_text} 分"
            elif amount > 0:
                reason = f"第 {number} 次，扣 {fmt(amount)} 分（达到本项扣分上限 {limit_text} 分）"
            else:
                reason = f"第 {number} 次，已达本项扣分上限 {limit_text} 分，不再扣分"
            deductions.append(Deduction(key=key, amount=amount, reason=reason, record_ref=ref))
        points = max_points - charged
        text = f"{label} {count} 次，每次扣 {fmt(each)} 分".strip()
        if charged < each * count:
            text += f"，本项最多扣 {fmt(limit)} 分"
        text += f"，扣 {fmt(charged)} 分，得 {fmt(points)} 分"
        return Outcome(points=points, max_points=max_points, deductions=tuple(deductions), explanation=text)


# --- bands ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    bound: Decimal  # inclusive: value ≥ bound (higher-better) or value ≤ bound (lower-better)
    points: Decimal


@dataclass(frozen=True)
class Bands:
    bands: tuple[Band, ...]  # best band first
    direction: Direction = Direction.HIGHER_BETTER
    otherwise: Decimal = ZERO
    kind: ClassVar[RuleKind] = RuleKind.BANDS

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("bands must not be empty")

    def _holds(self, value: Decimal, band: Band) -> bool:
        if self.direction is Direction.HIGHER_BETTER:
            return value >= band.bound
        return value <= band.bound

    def _edge(self, band: Band, unit: str) -> str:
        sign = "≥" if self.direction is Direction.HIGHER_BETTER else "≤"
        return f"{sign}{qty(band.bound, unit)}"

    def apply(self, value: Decimal, max_points: Decimal, *, label: str = "", unit: str = "") -> Outcome:
        max_points = _full(max_points)
        head = f"{label} {qty(value, unit)}".strip()
        band = next((band for band in self.bands if self._holds(value, band)), None)
        if band is None:
            points = min(round_points(self.otherwise), max_points)
            where = f"未达到最低一档（{self._edge(self.bands[-1], unit)}）"
        else:
            points = min(round_points(band.points), max_points)
            where = f"落在 {self._edge(band, unit)} 档"
        amount = max_points - points
        deductions = (
            (Deduction(key="band", amount=amount, reason=f"{where}，扣 {fmt(amount)} 分"),) if amount else ()
        )
        return Outcome(
            points=points,
            max_points=max_points,
            deductions=deductions,
            explanation=f"{head}，{where}，得 {fmt(points)} 分（满分 {fmt(max_points)} 分）",
        )


# --- behaviourally anchored levels ----------------------------------------------------------------


@dataclass(frozen=True)
class AnchoredLevel:
    level: str
    label: str
    points: Decimal


class UnknownLevelError(ValueError):
    pass


@dataclass(frozen=True)
class Anchored:
    levels: tuple[AnchoredLevel, ...]  # best level first
    kind: ClassVar[RuleKind] = RuleKind.ANCHORED

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("levels must not be empty")

    def level(self, code: str) -> AnchoredLevel:
        for level in self.levels:
            if level.level == code:
                return level
        known = "、".join(level.level for level in self.levels)
        raise UnknownLevelError(f"等级 {code!r} 不在本项的等级（{known}）之中")

    def apply(self, level: str, max_points: Decimal, *, label: str = "") -> Outcome:
        max_points = _full(max_points)
        chosen = self.level(level)
        points = min(round_points(chosen.points), max_points)
        amount = max_points - points
        where = f"等级 {chosen.level}（{chosen.label}）"
        deductions = (
            (Deduction(key="level", amount=amount, reason=f"评定为{where}，扣 {fmt(amount)} 分"),)
            if amount
            else ()
        )
        head = f"{label}：" if label else ""
        return Outcome(
            points=points,
            max_points=max_points,
            deductions=deductions,
            explanation=f"{head}评定为{where}，得 {fmt(points)} 分（满分 {fmt(max_points)} 分）",
        )


# --- bonus ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bonus:
    points_per_unit: Decimal
    threshold: Decimal = ZERO  # only the part of the value above this counts
    kind: ClassVar[RuleKind] = RuleKind.BONUS

    def __post_init__(self) -> None:
        if self.points_per_unit <= 0:
            raise ValueError("points_per_unit must be > 0")

    def apply(self, value: Decimal, max_points: Decimal, *, label: str = "", unit: str = "") -> Outcome:
        """``max_points`` is the cap on the bonus."""
        max_points = _full(max_points)
        above = max(value - self.threshold, ZERO)
        raw = round_points(above * self.points_per_unit)
        points = min(raw, max_points)
        head = f"{label} {qty(value, unit)}".strip()
        if self.threshold:
            head += f"，超过 {qty(self.threshold, unit)} {gap(above, unit)}"
        per = "每次" if unit in ("次", "件") else f"每 {qty(ONE, unit)}"
        text = f"{head}，{per}加 {fmt(self.points_per_unit)} 分"
        if points < raw:
            text += f"，加分以 {fmt(max_points)} 分为限"
        text += f"，加 {fmt(points)} 分"
        return Outcome(points=points, max_points=max_points, explanation=text)


# --- veto -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Veto:
    kind: ClassVar[RuleKind] = RuleKind.VETO

    def apply(self, count: int, max_points: Decimal, *, label: str = "", refs: Sequence[str] = ()) -> Outcome:
        max_points = _full(max_points)
        _check_count(count)
        if count == 0:
            return Outcome(
                points=max_points,
                max_points=max_points,
                explanation=f"{label} 0 次，得 {fmt(max_points)} 分".strip(),
            )
        deductions = _veto_deductions(
            [(key, ref, number) for number, (key, ref) in enumerate(_occurrence_keys(count, refs), start=1)],
            max_points,
        )
        return Outcome(
            points=ZERO,
            max_points=max_points,
            deductions=deductions,
            explanation=f"{label} {count} 次，一票否决：本项得 0 分，考核等次为不合格".strip(),
        )


def _veto_deductions(
    occurrences: Sequence[tuple[str, str | None, int]], max_points: Decimal
) -> tuple[Deduction, ...]:
    """The first remaining occurrence carries the indicator's points; every one of them vetoes."""
    return tuple(
        Deduction(
            key=key,
            amount=max_points if index == 0 else ZERO,
            reason=f"第 {number} 次，一票否决",
            record_ref=ref,
            vetoes=True,
        )
        for index, (key, ref, number) in enumerate(occurrences)
    )


Rule = TargetLinear | PerOccurrence | Bands | Anchored | Bonus | Veto


# --- exemptions -----------------------------------------------------------------------------------


def apply_exemptions(outcome: Outcome, exemptions: Sequence[Exemption]) -> Outcome:
    """Cancel the named deductions of one indicator's outcome; see the module docstring.

    Raises ``ExemptionError`` listing every exemption that names no deduction of this outcome (or names one
    twice).
    """
    if not exemptions:
        return outcome
    by_key = {deduction.key: deduction for deduction in outcome.deductions}
    problems: list[str] = []
    seen: set[str] = set()
    for exemption in exemptions:
        if exemption.deduction_key not in by_key:
            problems.append(f"{exemption.indicator}：没有名为 {exemption.deduction_key!r} 的扣分项，不能免责")
        elif exemption.deduction_key in seen:
            problems.append(f"{exemption.indicator}：扣分项 {exemption.deduction_key!r} 被重复免责")
        seen.add(exemption.deduction_key)
    if problems:
        raise ExemptionError(problems)
    chosen = {exemption.deduction_key: exemption for exemption in exemptions}
    remaining = [deduction for deduction in outcome.deductions if deduction.key not in chosen]
    if outcome.vetoed:
        numbers = {deduction.key: number for number, deduction in enumerate(outcome.deductions, start=1)}
        kept = _veto_deductions(
            [(deduction.key, deduction.record_ref, numbers[deduction.key]) for deduction in remaining],
            outcome.max_points,
        )
        points = ZERO if kept else outcome.max_points
    else:
        kept = tuple(remaining)
        points = outcome.max_points - sum((deduction.amount for deduction in kept), ZERO)
    restored_total = points - outcome.points
    added = [
        ExemptedDeduction(
            deduction=deduction,
            exemption=chosen[deduction.key],
            restored=ZERO if deduction.vetoes else deduction.amount,
        )
        for deduction in outcome.deductions
        if deduction.key in chosen
    ]
    if outcome.vetoed:
        # A veto's points come back only when no occurrence remains; credit them to the last one lifted.
        added[-1] = replace(added[-1], restored=restored_total)
    notes = "；".join(
        f"{spaced(item.deduction.key)}经{item.exemption.approver}批准容错免责（{item.exemption.reason}）"
        for item in added
    )
    if outcome.vetoed and not kept:
        tail = "，一票否决解除"
    elif outcome.vetoed:
        tail = "，仍有一票否决事项"
    else:
        tail = ""
    explanation = f"{outcome.explanation}；{notes}，恢复 {fmt(restored_total)} 分{tail}，得 {fmt(points)} 分"
    return Outcome(
        points=points,
        max_points=outcome.max_points,
        deductions=kept,
        explanation=explanation,
        exempted=outcome.exempted + tuple(added),
    )
