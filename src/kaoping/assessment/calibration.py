"""Quarterly calibration of indicator standards (R0.3). Pure Python, no Django: plain values in, frozen
dataclasses out, each with its explanation in Chinese.

**Input.** Per indicator code, its history under the *current* standard: a chronological sequence of
``(period text, units that met the standard, units assessed)``. Pass only the periods since the standard last
changed: periods scored against an older standard say nothing about the current one (and would propose the
same raise again after it took effect).

**Rules** (thresholds and run lengths are ``CalibrationSettings``):

- *Raise the standard*: the share of units that met it is **above** ``raise_above`` (90 %) in each of the
  latest ``raise_periods`` (3) periods. The standard is raised by ``raise_by`` percent of itself (5 % by
  default; R0.3 allows 5–10 %, and a setting outside that range is refused). Relative, not percentage
  points, so that one setting serves percentages, minutes and counts alike.
- *Remediation*: the share is **below** ``remediate_below`` (60 %) in each of the latest ``remediate_periods``
  periods. R0.3 says "persistently"; the default is **2** consecutive periods, because one bad quarter can
  be a one-off (a new indicator, a system outage) while two running is a pattern; set it to 1 to react to
  the latest period alone.
- Only the latest periods count, and they must run without a gap: a period with nobody assessed has no
  share and breaks the run (it is neither a success nor a failure). Fewer periods than a run needs proposes
  nothing.

**Raising a rule** (``raise_rule``): ``TargetLinear`` higher-better raises its target, lower-better lowers
it; ``Bands`` move every bound the same way. New values are rounded to 2 decimals on the stricter side (a
raise never rounds back below what was asked); percentage metrics are capped at 100 % (``cap``) and lowering
never goes below 0. When nothing can move (a target already at 100 %, a lower-better target already
at 0) or a cap would merge two bands into one, **no change is proposed**: the result has
``changed=False`` and says why, so a person decides (a stricter metric or rule, or leave it). Rules
without a standard (per occurrence, anchored levels, bonus, veto) are never raised.

**Effect.** A proposal changes nothing by itself: it takes effect only in a new, approved scheme version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from kaoping.assessment.metric_names import KNOWN_METRICS, MetricUnit
from kaoping.assessment.rules import Band, Bands, Direction, Rule, TargetLinear, fmt, qty, spaced

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
RAISE_RANGE = (Decimal(5), Decimal(10))  # R0.3: the standard is raised 5–10 %


@dataclass(frozen=True)
class PeriodShare:
    """One period of one indicator: how many units met its standard out of how many were assessed."""

    period: str
    met: int
    assessed: int

    @property
    def share(self) -> Decimal | None:
        """Percent of the assessed units that met the standard; None when nobody was assessed."""
        if self.assessed == 0:
            return None
        return Decimal(self.met) * HUNDRED / Decimal(self.assessed)


@dataclass(frozen=True)
class CalibrationSettings:
    raise_above: Decimal = Decimal(90)  # percent of units, strictly above
    raise_periods: int = 3
    raise_by: Decimal = Decimal(5)  # percent of the standard itself
    remediate_below: Decimal = Decimal(60)  # percent of units, strictly below
    remediate_periods: int = 2

    def __post_init__(self) -> None:
        problems = settings_problems(self)
        if problems:
            raise ValueError("；".join(problems))


def settings_problems(settings: CalibrationSettings) -> list[str]:
    """Everything wrong with a set of calibration settings, at once."""
    problems: list[str] = []
    for name in ("raise_above", "remediate_below"):
        value = getattr(settings, name)
        if not ZERO <= value <= HUNDRED:
            problems.append(f"{name} 须在 0–100 之间（现为 {value}）")
    if settings.remediate_below >= settings.raise_above:
        problems.append("整改阈值须低于提标阈值")
    low, high = RAISE_RANGE
    if not low <= settings.raise_by <= high:
        problems.append(f"提标幅度须在 {fmt(low)}%–{fmt(high)}% 之间（R0.3），现为 {settings.raise_by}%")
    for name in ("raise_periods", "remediate_periods"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{name} 须为不小于 1 的整数（现为 {value!r}）")
    return problems


class ProposalKind(StrEnum):
    RAISE_STANDARD = "raise_standard"
    REMEDIATION = "remediation"

    @property
    def label(self) -> str:
        return {"raise_standard": "提高标准", "remediation": "专项整改"}[self.value]


@dataclass(frozen=True)
class Proposal:
    indicator: str
    kind: ProposalKind
    periods: tuple[str, ...]  # the run of periods it rests on, oldest first
    shares: tuple[Decimal, ...]  # their shares of units that met the standard, percent
    explanation: str
    raise_by: Decimal | None = None  # percent of the standard, for a raise


def _shares_text(shares: Sequence[Decimal]) -> str:
    return "、".join(f"{fmt(share)}%" for share in shares)


def _check(indicator: str, history: Sequence[PeriodShare]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for item in history:
        where = f"{indicator} {item.period}"
        if item.period in seen:
            problems.append(f"{where}：考核期重复")
        seen.add(item.period)
        for name in ("met", "assessed"):
            value = getattr(item, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{where}：{name} 须为非负整数（现为 {value!r}）")
        if isinstance(item.met, int) and isinstance(item.assessed, int) and item.met > item.assessed:
            problems.append(f"{where}：达标单位数 {item.met} 多于参评单位数 {item.assessed}")
    return problems


def _latest_run(history: Sequence[PeriodShare], length: int) -> list[tuple[str, Decimal]] | None:
    """The latest ``length`` periods with their shares, or None when there are fewer or one has no share."""
    if len(history) < length:
        return None
    run = []
    for item in history[-length:]:
        share = item.share
        if share is None:
            return None
        run.append((item.period, share))
    return run


def calibrate_indicator(
    indicator: str,
    history: Sequence[PeriodShare | tuple[str, int, int]],
    settings: CalibrationSettings | None = None,
    *,
    label: str = "",
) -> Proposal | None:
    """The proposal for one indicator, if any (a raise and a remediation cannot both hold: the latest
    share cannot be both above the raise threshold and below the remediation one)."""
    settings = settings or CalibrationSettings()
    items = [item if isinstance(item, PeriodShare) else PeriodShare(*item) for item in history]
    problems = _check(indicator, items)
    if problems:
        raise ValueError("；".join(problems))
    name = label or indicator
    run = _latest_run(items, settings.raise_periods)
    if run is not None and all(share > settings.raise_above for _, share in run):
        periods = tuple(period for period, _ in run)
        shares = tuple(share for _, share in run)
        return Proposal(
            indicator=indicator,
            kind=ProposalKind.RAISE_STANDARD,
            periods=periods,
            shares=shares,
            raise_by=settings.raise_by,
            explanation=(
                f"{name}：最近 {len(run)} 个考核期（{'、'.join(periods)}）达标单位占比分别为 "
                f"{_shares_text(shares)}，均高于 {fmt(settings.raise_above)}%，"
                f"建议将标准提高 {fmt(settings.raise_by)}%（须经新版指标体系审批后生效）"
            ),
        )
    run = _latest_run(items, settings.remediate_periods)
    if run is not None and all(share < settings.remediate_below for _, share in run):
        periods = tuple(period for period, _ in run)
        shares = tuple(share for _, share in run)
        when = (
            f"最近 1 个考核期（{periods[0]}）达标单位占比为 {_shares_text(shares)}"
            if len(run) == 1
            else f"最近 {len(run)} 个考核期（{'、'.join(periods)}）达标单位占比分别为 {_shares_text(shares)}"
        )
        return Proposal(
            indicator=indicator,
            kind=ProposalKind.REMEDIATION,
            periods=periods,
            shares=shares,
            explanation=(
                f"{name}：{when}，低于 {fmt(settings.remediate_below)}%，"
                "建议启动专项整改，查找标准偏高或执行不到位的原因"
            ),
        )
    return None


def calibrate(
    history: Mapping[str, Sequence[PeriodShare | tuple[str, int, int]]],
    settings: CalibrationSettings | None = None,
    *,
    labels: Mapping[str, str] | None = None,
) -> list[Proposal]:
    """Every indicator's proposal, in indicator-code order; indicators with nothing to propose are left out.
    Problems in the input are reported together (``ValueError``)."""
    settings = settings or CalibrationSettings()
    labels = labels or {}
    problems: list[str] = []
    proposals: list[Proposal] = []
    for indicator in sorted(history):
        try:
            proposal = calibrate_indicator(
                indicator, history[indicator], settings, label=labels.get(indicator, "")
            )
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if proposal is not None:
            proposals.append(proposal)
    if problems:
        raise ValueError("；".join(problems))
    return proposals


# --- raising a rule -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    """A rule and the stricter one proposed for it; ``rule`` is the old rule when nothing changed."""

    rule: Rule
    changed: bool
    explanation: str
    before: tuple[Decimal, ...] = field(default=())  # the target, or the band bounds
    after: tuple[Decimal, ...] = field(default=())


def cap_for(metric: str) -> Decimal | None:
    """The ceiling of a metric's values: 100 for a percentage, none otherwise."""
    info = KNOWN_METRICS.get(metric)
    return HUNDRED if info is not None and info.unit is MetricUnit.PERCENT else None


def _stricter(value: Decimal, by: Decimal, direction: Direction, cap: Decimal | None) -> Decimal:
    """The value moved ``by`` percent towards the stricter side, rounded to 2 decimals on that side (so
    a raise never rounds back below what was asked), within [0, cap]."""
    if direction is Direction.HIGHER_BETTER:
        moved = (value * (HUNDRED + by) / HUNDRED).quantize(CENT, rounding=ROUND_CEILING)
        if cap is not None:
            moved = min(moved, max(cap, value))  # a value already beyond the cap is left where it is
        return moved.normalize() + ZERO
    moved = (value * (HUNDRED - by) / HUNDRED).quantize(CENT, rounding=ROUND_FLOOR)
    return max(moved, ZERO).normalize() + ZERO


def raise_rule(
    rule: Rule, *, by: Decimal = Decimal(5), cap: Decimal | None = None, unit: str = ""
) -> RuleChange:
    """The rule with its standard made ``by`` percent stricter (see the module docstring); ``cap`` is the
    metric's ceiling (``cap_for``), ``unit`` its suffix for the explanation (``%``, ``分钟`` …)."""
    low, high = RAISE_RANGE
    if not low <= by <= high:
        raise ValueError(f"提标幅度须在 {fmt(low)}%–{fmt(high)}% 之间（R0.3），现为 {by}%")
    if isinstance(rule, TargetLinear):
        return _raise_target(rule, by, cap, unit)
    if isinstance(rule, Bands):
        return _raise_bands(rule, by, cap, unit)
    return RuleChange(
        rule=rule, changed=False, explanation=f"{rule.kind.value} 类规则没有可提高的达标标准，不作调整"
    )


def _raise_target(rule: TargetLinear, by: Decimal, cap: Decimal | None, unit: str) -> RuleChange:
    new = _stricter(rule.target, by, rule.direction, cap)
    old = qty(rule.target, unit)
    if new == rule.target:
        if rule.direction is Direction.LOWER_BETTER:
            why = f"目标已为 {old}，无法再降低"
        elif cap is not None and rule.target >= cap:
            why = f"目标已为 {old}，达到上限，无法再提高"
        else:
            why = f"目标 {old} 按比例提高后不变"
        return RuleChange(
            rule=rule,
            changed=False,
            explanation=f"{why}，本次不提出调整；如需加压，请改用更严格的指标或计分规则",
            before=(rule.target,),
            after=(rule.target,),
        )
    verb = "提高" if rule.direction is Direction.HIGHER_BETTER else "降低"
    uncapped = _stricter(rule.target, by, rule.direction, None)
    capped = (
        f"（按 {fmt(by)}% 计应为 {qty(uncapped, unit)}，以上限 {qty(new, unit)} 为限）"
        if uncapped != new
        else ""
    )
    return RuleChange(
        rule=replace(rule, target=new),
        changed=True,
        explanation=f"目标由 {spaced(old)}{verb}到 {qty(new, unit)}{capped}",
        before=(rule.target,),
        after=(new,),
    )


def _raise_bands(rule: Bands, by: Decimal, cap: Decimal | None, unit: str) -> RuleChange:
    old = tuple(band.bound for band in rule.bands)
    new = tuple(
        _stricter(bound, by, rule.direction, cap) for band, bound in zip(rule.bands, old, strict=True)
    )
    edge = "≥" if rule.direction is Direction.HIGHER_BETTER else "≤"
    shown_old = "、".join(f"{edge}{qty(b, unit)}" for b in old)
    if new == old:
        return RuleChange(
            rule=rule,
            changed=False,
            explanation=f"各档标准（{shown_old}）已无法再收紧，本次不提出调整",
            before=old,
            after=old,
        )
    if len(set(new)) < len(new):
        return RuleChange(
            rule=rule,
            changed=False,
            explanation=(
                f"各档标准（{shown_old}）按 {fmt(by)}% 收紧后受上限所限会有两档重合，"
                "本次不自动提出调整，请人工确定新的分档"
            ),
            before=old,
            after=old,
        )
    bands = tuple(Band(bound=bound, points=band.points) for band, bound in zip(rule.bands, new, strict=True))
    shown_new = "、".join(f"{edge}{qty(b, unit)}" for b in new)
    return RuleChange(
        rule=replace(rule, bands=bands),
        changed=True,
        explanation=f"各档标准由 {shown_old} 调整为 {shown_new}",
        before=old,
        after=new,
    )
