"""The maths of multi-rater reviews (R2.4, R2.6, R2.10): plain values in, plain values out, no Django.

**Groups and weights (R2.4).** Five rater groups weigh a unit's result: service users 40–60 %,
superiors 20–30 %, peers 10–20 %, self 5–10 %, third party 5–15 %; the weights add up to 100 %.
``weight_problems`` lists every problem at once, so a form can show them all.

**Scale.** Items are answered on five levels, 1 (worst) to 5 (best). A respondent's result is the mean
of their answers; a group's mean is the mean of its respondents' results (each respondent counts once).
A mean *m* becomes a score on 0–100 by ``(m − 1) / 4 × 100``: level 5 is 100, level 3 is 50, level 1 is
0. We chose this over ``m × 20`` because it uses the whole 0–100 range and keeps the behaviourally
anchored items of R2.6 exact: an item worth 20 points anchored at 20 / 10 / 0 maps to levels 5 / 3 / 1
as 100 % / 50 % / 0 % of its points (``level_points``), whereas ``m × 20`` would give the lowest
anchor 20 % of the points for nothing. With ``m × 20`` a unanimous "very poor" would still score 20.

**Anonymity.** A group's answers count, and are shown, only when at least a minimum number of people in
the group answered. ``weighted_score`` leaves out the groups below their minimum, renormalises the
weights of the others to add up to 1, and marks the result incomplete, naming the groups withheld.

**Outliers (R2.10).** A respondent is compared with the *other* members of their group (leave one out):
their deviation is ``|x − mean(others)|``. They are flagged for re-check when the deviation exceeds
``points`` (default 1.5 levels) **and** ``sd`` (default 2) standard deviations of the others. Leave-one-
out matters in small groups: with the respondent's own value inside the standard deviation, nobody in a
group of *n* lies more than (n − 1) / √n sample standard deviations from the mean (Samuelson's
inequality; 1.79 for n = 5), so a plain "more than 2 SD" rule could never fire in a group of 5. The
``points`` floor keeps a tight group (others all at 4.0) from flagging someone at 3.0; the SD condition
keeps a split group (half 1s, half 5s) from flagging anyone.
Groups smaller than ``min_group`` (default 3) are not checked: with two respondents there is no telling
which one is off.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

MIN_LEVEL = 1
MAX_LEVEL = 5
LEVELS = (5, 4, 3, 2, 1)  # the order a questionnaire shows them: best first
LEVEL_LABELS: dict[int, str] = {5: "很好", 4: "较好", 3: "一般", 2: "较差", 1: "很差"}
TOLERANCE = 1e-9


class RaterGroup(StrEnum):
    SERVICE_USERS = "service_users"
    SUPERIORS = "superiors"
    PEERS = "peers"
    SELF = "self"
    THIRD_PARTY = "third_party"

    @property
    def label(self) -> str:
        return GROUP_LABELS[self]


GROUP_LABELS: dict[RaterGroup, str] = {
    RaterGroup.SERVICE_USERS: "服务对象",
    RaterGroup.SUPERIORS: "上级领导",
    RaterGroup.PEERS: "同级部门",
    RaterGroup.SELF: "自评",
    RaterGroup.THIRD_PARTY: "第三方",
}
GROUP_VALUES = frozenset(group.value for group in RaterGroup)

# R2.4, in percent: (lowest, highest) weight of each group.
WEIGHT_RANGES: dict[RaterGroup, tuple[Decimal, Decimal]] = {
    RaterGroup.SERVICE_USERS: (Decimal(40), Decimal(60)),
    RaterGroup.SUPERIORS: (Decimal(20), Decimal(30)),
    RaterGroup.PEERS: (Decimal(10), Decimal(20)),
    RaterGroup.SELF: (Decimal(5), Decimal(10)),
    RaterGroup.THIRD_PARTY: (Decimal(5), Decimal(15)),
}
TOTAL_WEIGHT = Decimal(100)


# --- weights ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightProblem:
    """One thing wrong with a set of weights: a group out of its range, an unknown group, the total."""

    kind: Literal["range", "unknown", "total"]
    key: str
    weight: Decimal
    low: Decimal | None = None
    high: Decimal | None = None

    @property
    def group(self) -> RaterGroup | None:
        return RaterGroup(self.key) if self.kind == "range" else None

    def __str__(self) -> str:
        if self.kind == "total":
            return f"the weights add up to {_pct(self.weight)}, not {_pct(TOTAL_WEIGHT)}"
        if self.kind == "unknown":
            return f"{self.key!r} is not a rater group ({', '.join(g.value for g in RaterGroup)})"
        group = RaterGroup(self.key)
        assert self.low is not None and self.high is not None
        return (
            f"{group.value} ({group.label}) weight {_pct(self.weight)} is outside "
            f"{self.low.normalize():f}–{_pct(self.high)} (R2.4)"
        )


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def weight_problems(weights: Mapping[str, Decimal]) -> list[WeightProblem]:
    """Every problem with a set of weights in percent: each group outside its R2.4 range (a group that
    is missing has weight 0, which is outside every range), each unknown group, and a total other than
    100. An empty list means the weights are valid."""
    problems: list[WeightProblem] = []
    known = GROUP_VALUES
    for key, weight in weights.items():
        if key not in known:
            problems.append(WeightProblem("unknown", str(key), Decimal(weight)))
    for group, (low, high) in WEIGHT_RANGES.items():
        weight = Decimal(weights.get(group.value, Decimal(0)))
        if not low <= weight <= high:
            problems.append(WeightProblem("range", group.value, weight, low, high))
    total = sum((Decimal(w) for k, w in weights.items() if k in known), Decimal(0))
    if total != TOTAL_WEIGHT:
        problems.append(WeightProblem("total", "", total))
    return problems


# --- answers, groups, scores ------------------------------------------------------------------------


def response_mean(scores: Sequence[int]) -> float:
    """A respondent's result: the mean of their answers, each 1..5."""
    if not scores:
        raise ValueError("a response needs at least one answer")
    for score in scores:
        if isinstance(score, bool) or not isinstance(score, int) or not MIN_LEVEL <= score <= MAX_LEVEL:
            raise ValueError(f"score {score!r} is not a level from {MIN_LEVEL} to {MAX_LEVEL}")
    return statistics.fmean(scores)


def to_hundred(mean: float) -> float:
    """A mean on the five-point scale as a score on 0–100: (mean − 1) / 4 × 100 (see the module doc)."""
    return min(100.0, max(0.0, (mean - MIN_LEVEL) / (MAX_LEVEL - MIN_LEVEL) * 100.0))


def level_points(level: int, full_points: float) -> float:
    """Points of an anchored level on an item worth ``full_points`` (R2.6: innovation 20 / 10 / 0 are
    levels 5 / 3 / 1)."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"level {level} is not from {MIN_LEVEL} to {MAX_LEVEL}")
    return full_points * to_hundred(level) / 100.0


@dataclass(frozen=True)
class RaterResponse:
    group: RaterGroup
    scores: tuple[int, ...]

    @property
    def mean(self) -> float:
        return response_mean(self.scores)


@dataclass(frozen=True)
class GroupSummary:
    """How many answered in a group and the mean of their results (None when nobody did)."""

    count: int
    mean: float | None

    @staticmethod
    def of(means: Iterable[float]) -> GroupSummary:
        values = list(means)
        return GroupSummary(len(values), statistics.fmean(values) if values else None)


def group_means(responses: Iterable[RaterResponse]) -> dict[RaterGroup, GroupSummary]:
    """Per group: the count of responses and the mean of their means. Groups nobody answered in are
    absent."""
    by_group: dict[RaterGroup, list[float]] = {}
    for response in responses:
        by_group.setdefault(response.group, []).append(response.mean)
    return {group: GroupSummary.of(values) for group, values in by_group.items()}


@dataclass(frozen=True)
class UnitScore:
    """A unit's weighted score (0–100) from the groups that may be shown.

    ``used_weights`` are the shares (adding up to 1) the shown groups carried after renormalising;
    ``withheld`` the groups left out for having fewer respondents than their minimum. ``score`` is None
    when no group may be shown."""

    score: float | None
    withheld: tuple[RaterGroup, ...]
    used_weights: dict[RaterGroup, float] = field(default_factory=dict)

    @property
    def incomplete(self) -> bool:
        return bool(self.withheld)


def minimum_for(group: RaterGroup, min_respondents: int | Mapping[RaterGroup, int]) -> int:
    if isinstance(min_respondents, int):
        return min_respondents
    return min_respondents[group]


def weighted_score(
    summaries: Mapping[RaterGroup, GroupSummary],
    weights: Mapping[RaterGroup, Decimal],
    min_respondents: int | Mapping[RaterGroup, int],
) -> UnitScore:
    """Σ share(g) × score(g) over the groups with at least their minimum of respondents, where
    share(g) = weight(g) / Σ weight of those groups. Groups with weight 0 play no part."""
    shown: dict[RaterGroup, tuple[Decimal, float]] = {}
    withheld: list[RaterGroup] = []
    for group in RaterGroup:  # a fixed order, whatever order the mappings come in
        weight = weights.get(group, Decimal(0))
        if weight <= 0:
            continue
        summary = summaries.get(group, GroupSummary(0, None))
        if summary.mean is None or summary.count < max(1, minimum_for(group, min_respondents)):
            withheld.append(group)
        else:
            shown[group] = (weight, summary.mean)
    total = sum((weight for weight, _ in shown.values()), Decimal(0))
    if not shown or total <= 0:
        return UnitScore(None, tuple(withheld))
    shares = {group: float(weight / total) for group, (weight, _) in shown.items()}
    score = math.fsum(shares[group] * to_hundred(mean) for group, (_, mean) in shown.items())
    return UnitScore(min(100.0, max(0.0, score)), tuple(withheld), shares)


# --- outliers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierRule:
    """Flag a respondent whose deviation from the mean of the others in the group exceeds ``points``
    levels and ``sd`` standard deviations of the others; groups under ``min_group`` are not checked."""

    points: float = 1.5
    sd: float = 2.0
    min_group: int = 3

    def __post_init__(self) -> None:
        if self.points < 0 or self.sd < 0:
            raise ValueError("outlier thresholds cannot be negative")
        if self.min_group < 3:
            raise ValueError("outliers need groups of at least 3 (with 2 there is no telling who is off)")


@dataclass(frozen=True)
class Deviation:
    value: float
    others_mean: float | None
    others_sd: float | None
    deviation: float | None
    flagged: bool


def deviations(values: Sequence[float], rule: OutlierRule | None = None) -> list[Deviation]:
    """For each respondent's mean (in the given order): how far it lies from the others, and whether
    it is flagged for re-check."""
    rule = rule or OutlierRule()
    result: list[Deviation] = []
    n = len(values)
    total = math.fsum(values)
    for i, value in enumerate(values):
        if n < 2:
            result.append(Deviation(value, None, None, None, False))
            continue
        others = [v for j, v in enumerate(values) if j != i]
        others_mean = (total - value) / (n - 1)
        others_sd = statistics.stdev(others) if len(others) >= 2 else 0.0
        deviation = abs(value - others_mean)
        flagged = (
            n >= rule.min_group
            and deviation > rule.points + TOLERANCE
            and deviation > rule.sd * others_sd + TOLERANCE
        )
        result.append(Deviation(value, others_mean, others_sd, deviation, flagged))
    return result


def outlier_flags(values: Sequence[float], rule: OutlierRule | None = None) -> list[bool]:
    return [d.flagged for d in deviations(values, rule)]


# --- questionnaires ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    level: int
    label: str
    anchor: str


@dataclass(frozen=True)
class Item:
    """A five-point item; ``anchors`` describe the behaviour expected at some or all levels."""

    text: str
    anchors: Mapping[int, str] = field(default_factory=dict)

    def levels(self) -> list[Level]:
        return [Level(level, LEVEL_LABELS[level], self.anchors.get(level, "")) for level in LEVELS]


def item_problems(text: str, anchors: Mapping[int, str]) -> list[str]:
    problems = []
    if not text.strip():
        problems.append("an item needs a text")
    for level in anchors:
        if level not in LEVEL_LABELS:
            problems.append(f"anchor level {level!r} is not from {MIN_LEVEL} to {MAX_LEVEL}")
    return problems


def answer_problems(item_ids: Sequence[int], answers: Mapping[int, int]) -> list[str]:
    """Every problem with one respondent's answers to the given items: missing items, unknown items,
    levels outside 1..5."""
    problems = []
    wanted = set(item_ids)
    for position, item_id in enumerate(item_ids, start=1):
        if item_id not in answers:
            problems.append(f"item {position} is not answered")
            continue
        score = answers[item_id]
        if isinstance(score, bool) or not isinstance(score, int) or not MIN_LEVEL <= score <= MAX_LEVEL:
            problems.append(f"item {position}: {score!r} is not a level from {MIN_LEVEL} to {MAX_LEVEL}")
    for item_id in answers:
        if item_id not in wanted:
            problems.append(f"item id {item_id!r} is not in this questionnaire")
    return problems
