"""Indicator schemes (指标体系) as data: the document model, its validation, YAML and a content hash.

Pure Python, no Django. A scheme is a versioned document for one unit type and one period type; it holds
indicators, each with a dimension, a category, optional SERVQUAL and balanced-scorecard tags (R4.6), a
weight (points), the metric it reads and the rule that turns the metric into points (``rules.py``).

**Reading.** ``validate(document, known_metrics)`` takes a plain dict (as loaded from YAML or JSON) and lists
*every* error at once, each with a path (``indicators[3].rule.step``), an error code and a reason in Chinese.
``parse_scheme`` returns a ``Scheme`` or raises ``InvalidSchemeError`` carrying the same list, so a ``Scheme``
object is always valid. Numbers may be ints, decimals, floats or numeric strings (JSON storage); they are
held as ``Decimal``.

**Two styles.**

- ``weighted``: the indicators' weights add up to ``full_score`` (100); bonus indicators sit outside it (their
  weight is their cap). The categories' shares follow R2.1: outcome 40–50 %, process 30–40 %, development
  10–20 %, veto 5–10 %. **Windows (R4.1):** a window scheme needs process ≥ 40 %, which R2.1's 30–40 % would
  pin to exactly 40 %. R4.1 is the rule written for windows, so for ``unit_type: window`` it *replaces* R2.1's
  process range; R2.1's other three ranges still apply, which leaves process at most 100 − 40 − 10 − 5 = 45 %.
  So a window scheme has process between 40 % and 45 %.
- ``deduction`` (百分倒减制, R3.3–R3.5): a unit starts from ``full_score`` and each item takes off what its
  rule deducts; an item's weight is the most it can take off (its cap). The weights need not add up to
  anything and R2.1's ranges do not apply. Items may apply to some roles only (call takers, monitors:
  R3.3), declared in the scheme's ``roles``. ``incentive`` (deduction schemes only, R3.5) gives the
  incentive money per period, cut pro rata to the deductions, and the score below which award
  eligibility is lost.

**Consistency checks** beyond types: a veto-category indicator has a veto rule and vice versa, likewise for
bonus; counting rules (per occurrence, veto) read count metrics, anchored rules read level metrics; a rule's
direction agrees with the metric's (``metric_names``); bands and levels are ordered best first and the best
gives the indicator's full weight; grades descend; ``manual_range`` is for ``manual:`` metrics only.

**YAML.** ``load_yaml`` reads numbers with a decimal point as ``Decimal`` (no float rounding), ``dump_yaml``
writes a scheme in one canonical form (fixed key order, every default spelled out), so
``dump_yaml(parse_scheme(load_yaml(dump_yaml(s)))) == dump_yaml(s)``. The default schemes in ``schemes/`` are
stored in that canonical form.

**Content hash.** ``content_hash`` is the SHA-256 of the canonical JSON of the scheme *without* its version
number: two versions with the same content hash alike, and any change of content changes the hash. Results
record the scheme's code, version and hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from itertools import pairwise
from typing import Any, TypeVar

import yaml

from kaoping.assessment.metric_names import KNOWN_METRIC_NAMES, KNOWN_METRICS, MetricUnit, is_manual
from kaoping.assessment.rules import (
    Anchored,
    AnchoredLevel,
    Band,
    Bands,
    Bonus,
    Direction,
    PartialStep,
    PerOccurrence,
    Rule,
    RuleKind,
    TargetLinear,
    Veto,
    fmt,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class UnitType(StrEnum):
    WINDOW = "window"
    DEPARTMENT_INTERNAL = "department:internal_service"
    DEPARTMENT_EXTERNAL = "department:external_service"
    DEPARTMENT_SUPPORT = "department:professional_support"
    HOTLINE_STAFF = "hotline_staff"
    HANDLING_UNIT = "handling_unit"

    @property
    def label(self) -> str:
        return UNIT_TYPE_LABELS[self]


UNIT_TYPE_LABELS: dict[UnitType, str] = {
    UnitType.WINDOW: "窗口",
    UnitType.DEPARTMENT_INTERNAL: "对内服务型科室",
    UnitType.DEPARTMENT_EXTERNAL: "对外服务型科室",
    UnitType.DEPARTMENT_SUPPORT: "专业支持型科室",
    UnitType.HOTLINE_STAFF: "热线中心工作人员",
    UnitType.HANDLING_UNIT: "热线承办单位",
}


class PeriodType(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"

    @property
    def label(self) -> str:
        return PERIOD_TYPE_LABELS[self]


PERIOD_TYPE_LABELS: dict[PeriodType, str] = {
    PeriodType.MONTH: "月度",
    PeriodType.QUARTER: "季度",
    PeriodType.HALF_YEAR: "半年",
    PeriodType.YEAR: "年度",
}


class SchemeStyle(StrEnum):
    WEIGHTED = "weighted"
    DEDUCTION = "deduction"


class Category(StrEnum):
    OUTCOME = "outcome"
    PROCESS = "process"
    DEVELOPMENT = "development"
    VETO = "veto"
    BONUS = "bonus"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.OUTCOME: "结果性指标",
    Category.PROCESS: "过程性指标",
    Category.DEVELOPMENT: "发展性指标",
    Category.VETO: "一票否决指标",
    Category.BONUS: "加分项",
}


class Dimension(StrEnum):
    TIMELINESS = "timeliness"
    QUALITY = "quality"
    EFFICIENCY = "efficiency"
    COST = "cost"
    SATISFACTION = "satisfaction"
    CONDUCT = "conduct"
    COMPLIANCE = "compliance"
    INNOVATION = "innovation"
    CAPABILITY = "capability"
    SAFETY = "safety"
    WORKLOAD = "workload"

    @property
    def label(self) -> str:
        return DIMENSION_LABELS[self]


DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.TIMELINESS: "时效",
    Dimension.QUALITY: "质量",
    Dimension.EFFICIENCY: "效率",
    Dimension.COST: "成本",
    Dimension.SATISFACTION: "满意度",
    Dimension.CONDUCT: "服务规范",
    Dimension.COMPLIANCE: "合规",
    Dimension.INNOVATION: "创新",
    Dimension.CAPABILITY: "能力",
    Dimension.SAFETY: "安全",
    Dimension.WORKLOAD: "工作量",
}


class Servqual(StrEnum):
    TANGIBLES = "tangibles"
    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"


SERVQUAL_LABELS: dict[Servqual, str] = {
    Servqual.TANGIBLES: "有形性",
    Servqual.RELIABILITY: "可靠性",
    Servqual.RESPONSIVENESS: "响应性",
    Servqual.ASSURANCE: "保证性",
    Servqual.EMPATHY: "移情性",
}


class Bsc(StrEnum):
    CUSTOMER = "customer"
    INTERNAL_PROCESS = "internal_process"
    LEARNING_GROWTH = "learning_growth"
    FINANCIAL = "financial"


BSC_LABELS: dict[Bsc, str] = {
    Bsc.CUSTOMER: "客户",
    Bsc.INTERNAL_PROCESS: "内部流程",
    Bsc.LEARNING_GROWTH: "学习成长",
    Bsc.FINANCIAL: "财务",
}


class Grade(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS: dict[Grade, str] = {
    Grade.EXCELLENT: "优秀",
    Grade.GOOD: "良好",
    Grade.PASS: "合格",
    Grade.FAIL: "不合格",
}

# R2.1, in percent of the scheme's full score.
CATEGORY_RANGES: dict[Category, tuple[Decimal, Decimal]] = {
    Category.OUTCOME: (Decimal(40), Decimal(50)),
    Category.PROCESS: (Decimal(30), Decimal(40)),
    Category.DEVELOPMENT: (Decimal(10), Decimal(20)),
    Category.VETO: (Decimal(5), Decimal(10)),
}
# R4.1: process indicators take at least 40 % of a window scheme (replaces R2.1's process range there).
WINDOW_PROCESS_MIN = Decimal(40)

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
METRIC_RE = re.compile(r"^(manual:)?[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class GradeThresholds:
    """R1.7: 优秀 ≥ 90, 良好 80–89, 合格 70–79, 不合格 < 70. Each bound is inclusive (a total of exactly
    90.00 is excellent, 89.99 is good)."""

    excellent: Decimal = Decimal(90)
    good: Decimal = Decimal(80)
    passing: Decimal = Decimal(70)

    def grade(self, total: Decimal) -> Grade:
        if total >= self.excellent:
            return Grade.EXCELLENT
        if total >= self.good:
            return Grade.GOOD
        if total >= self.passing:
            return Grade.PASS
        return Grade.FAIL


@dataclass(frozen=True)
class Incentive:
    """R3.5: incentive money per period (元), cut pro rata to the deductions; award eligibility lost when
    the score after deductions falls below ``award_min_score``."""

    base: Decimal | None = None
    award_min_score: Decimal | None = None


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: Dimension
    category: Category
    weight: Decimal
    metric: str
    rule: Rule
    servqual: Servqual | None = None
    bsc: Bsc | None = None
    manual_range: tuple[Decimal, Decimal] | None = None
    roles: tuple[str, ...] = ()  # deduction schemes: the roles it applies to (empty: all)
    description: str = ""

    def applies_to(self, role: str | None) -> bool:
        return not self.roles or role in self.roles


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str
    version: int
    unit_type: UnitType
    period_type: PeriodType
    indicators: tuple[Indicator, ...]
    style: SchemeStyle = SchemeStyle.WEIGHTED
    full_score: Decimal = HUNDRED
    grades: GradeThresholds = field(default_factory=GradeThresholds)
    min_assessable_share: Decimal = Decimal(60)  # percent of the weight that must have data
    roles: tuple[tuple[str, str], ...] = ()  # (code, Chinese label)
    incentive: Incentive | None = None
    description: str = ""
    # Whether ratings an unrated case took by default (e.g. 7 days → 基本满意) count in its rating
    # indicators; some provinces' schemes leave them out.
    count_default_ratings: bool = True

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    @property
    def role_codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.roles)

    def category_weights(self) -> dict[Category, Decimal]:
        weights = dict.fromkeys(Category, ZERO)
        for indicator in self.indicators:
            weights[indicator.category] += indicator.weight
        return weights


class ErrorCode(StrEnum):
    MISSING = "missing"
    UNKNOWN_FIELD = "unknown_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    UNKNOWN_METRIC = "unknown_metric"
    DUPLICATE = "duplicate"
    WEIGHT_SUM = "weight_sum"
    CATEGORY_SHARE = "category_share"
    WINDOW_PROCESS_SHARE = "window_process_share"
    INCONSISTENT = "inconsistent"
    ORDER = "order"
    METRIC_MISMATCH = "metric_mismatch"
    NOT_IN_STYLE = "not_in_style"
    SYNTAX = "syntax"


@dataclass(frozen=True)
class SchemeError:
    path: str
    code: ErrorCode
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '（文档）'}：{self.reason}"


class InvalidSchemeError(ValueError):
    def __init__(self, errors: Sequence[SchemeError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


# --- reading a plain document ---------------------------------------------------------------------

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

_TOP_FIELDS = (
    "code",
    "name",
    "version",
    "unit_type",
    "period_type",
    "style",
    "full_score",
    "grades",
    "min_assessable_share",
    "roles",
    "incentive",
    "description",
    "count_default_ratings",
    "indicators",
)
_INDICATOR_FIELDS = (
    "code",
    "name",
    "dimension",
    "category",
    "servqual",
    "bsc",
    "roles",
    "weight",
    "metric",
    "manual_range",
    "rule",
    "description",
)
_RULE_FIELDS: dict[RuleKind, tuple[str, ...]] = {
    RuleKind.TARGET_LINEAR: ("kind", "target", "step", "points_per_step", "direction", "partial"),
    RuleKind.PER_OCCURRENCE: ("kind", "points_per_occurrence", "cap"),
    RuleKind.BANDS: ("kind", "direction", "bands", "otherwise"),
    RuleKind.ANCHORED: ("kind", "levels"),
    RuleKind.BONUS: ("kind", "points_per_unit", "threshold"),
    RuleKind.VETO: ("kind",),
}
_COUNT_UNITS = (MetricUnit.COUNT,)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _canon(value: Decimal) -> Decimal:
    """One form per number: no trailing zeros, no exponent (``98.0`` → ``98``, ``1E+2`` → ``100``)."""
    normal = value.normalize()
    if normal.as_tuple().exponent > 0:  # type: ignore[operator]
        normal = normal.quantize(Decimal(1))
    return normal + ZERO


class _Reader:
    """Reads a document field by field, noting every error and carrying on."""

    def __init__(self) -> None:
        self.errors: list[SchemeError] = []

    def error(self, path: str, code: ErrorCode, reason: str) -> None:
        self.errors.append(SchemeError(path=path, code=code, reason=reason))

    def mapping(self, data: object, path: str, allowed: Sequence[str]) -> Mapping[str, Any] | None:
        if not isinstance(data, Mapping):
            self.error(path, ErrorCode.WRONG_TYPE, "应为键值对（映射）")
            return None
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                self.error(_join(path, str(key)), ErrorCode.UNKNOWN_FIELD, "未知字段")
        return data

    def field(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        read: Callable[[object, str], T | None],
        *,
        required: bool = True,
    ) -> T | None:
        if key not in data or data[key] is None:
            if required:
                self.error(_join(path, key), ErrorCode.MISSING, "缺少必填字段")
            return None
        return read(data[key], _join(path, key))

    def text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.error(path, ErrorCode.WRONG_TYPE, "应为文本")
            return None
        if not value.strip():
            self.error(path, ErrorCode.INVALID_VALUE, "不能为空")
            return None
        return value

    def boolean(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(path, ErrorCode.WRONG_TYPE, "应为 true 或 false")
            return None
        return value

    def free_text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.error(path, ErrorCode.WRONG_TYPE, "应为文本")
            return None
        return value

    def code(self, value: object, path: str) -> str | None:
        text = self.text(value, path)
        if text is not None and not CODE_RE.match(text):
            self.error(path, ErrorCode.INVALID_VALUE, "编码只能由小写字母、数字和下划线组成，并以字母开头")
            return None
        return text

    def level_code(self, value: object, path: str) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text(value, path)

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, ErrorCode.WRONG_TYPE, "应为整数")
            return None
        return value

    def number(self, value: object, path: str) -> Decimal | None:
        number: Decimal | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value)) if math.isfinite(value) else None
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.error(path, ErrorCode.WRONG_TYPE, "应为数值")
            return None
        return _canon(number)

    def enum(self, cls: type[E], label: str) -> Callable[[object, str], E | None]:
        def read(value: object, path: str) -> E | None:
            if isinstance(value, str):
                for member in cls:
                    if member.value == value:
                        return member
            choices = "、".join(member.value for member in cls)
            self.error(path, ErrorCode.INVALID_VALUE, f"{label}应为以下之一：{choices}")
            return None

        return read

    def items(self, value: object, path: str) -> Iterator[tuple[int, object, str]]:
        if not isinstance(value, list | tuple):
            self.error(path, ErrorCode.WRONG_TYPE, "应为列表")
            return
        for index, item in enumerate(value):
            yield index, item, _join(path, index)


@dataclass
class _IndicatorDraft:
    """What could be read of one indicator; fields left None were in error."""

    path: str
    code: str | None = None
    category: Category | None = None
    weight: Decimal | None = None
    metric: str | None = None
    rule: Rule | None = None
    rule_ok: bool = False
    built: Indicator | None = None


def _check_bands(
    reader: _Reader,
    items: Sequence[tuple[int, Band]],
    direction: Direction,
    otherwise: Decimal | None,
    weight: Decimal | None,
    path: str,
) -> None:
    """Order and points of the readable bands (``items``: index in the document, band), best first."""
    bpath = _join(path, "bands")
    for (_, better), (index, worse) in pairwise(items):
        higher = direction is Direction.HIGHER_BETTER
        if not (worse.bound < better.bound if higher else worse.bound > better.bound):
            reader.error(_join(bpath, index), ErrorCode.ORDER, "各档应从好到差排列，门槛严格递进")
        if worse.points > better.points:
            reader.error(
                _join(_join(bpath, index), "points"), ErrorCode.ORDER, "较差一档的得分不应高于较好一档"
            )
    if items and otherwise is not None and otherwise > items[-1][1].points:
        reader.error(_join(path, "otherwise"), ErrorCode.ORDER, "档外得分不应高于最低一档")
    if weight is None:
        return
    for index, band in items:
        if not ZERO <= band.points <= weight:
            reader.error(
                _join(_join(bpath, index), "points"),
                ErrorCode.INVALID_VALUE,
                f"应在 0 至本项分值 {fmt(weight)} 之间",
            )
    if items and items[0][0] == 0 and items[0][1].points != weight:
        reader.error(
            _join(_join(bpath, 0), "points"), ErrorCode.INVALID_VALUE, f"最好一档应得满分 {fmt(weight)}"
        )


def _check_levels(
    reader: _Reader, items: Sequence[tuple[int, AnchoredLevel]], weight: Decimal | None, path: str
) -> None:
    """Codes and points of the readable anchored levels, best first."""
    lpath = _join(path, "levels")
    seen: set[str] = set()
    for (_, better), (index, worse) in pairwise(items):
        if worse.points > better.points:
            reader.error(_join(_join(lpath, index), "points"), ErrorCode.ORDER, "等级应从高到低排列")
    for index, level in items:
        if level.level in seen:
            reader.error(_join(_join(lpath, index), "level"), ErrorCode.DUPLICATE, f"等级 {level.level} 重复")
        seen.add(level.level)
        if weight is not None and not ZERO <= level.points <= weight:
            reader.error(
                _join(_join(lpath, index), "points"),
                ErrorCode.INVALID_VALUE,
                f"应在 0 至本项分值 {fmt(weight)} 之间",
            )
    if weight is not None and items and items[0][0] == 0 and items[0][1].points != weight:
        reader.error(
            _join(_join(lpath, 0), "points"), ErrorCode.INVALID_VALUE, f"最高等级应得满分 {fmt(weight)}"
        )


def _read_rule(reader: _Reader, data: object, path: str, weight: Decimal | None) -> Rule | None:
    if not isinstance(data, Mapping):
        reader.error(path, ErrorCode.WRONG_TYPE, "应为键值对（映射）")
        return None
    kind = reader.field(data, path, "kind", reader.enum(RuleKind, "规则类型"))
    if kind is None:
        return None
    data = reader.mapping(data, path, _RULE_FIELDS[kind])
    if data is None:
        return None
    before = len(reader.errors)
    number = reader.number
    if kind is RuleKind.TARGET_LINEAR:
        target = reader.field(data, path, "target", number)
        step = reader.field(data, path, "step", number)
        per_step = reader.field(data, path, "points_per_step", number)
        direction = reader.field(data, path, "direction", reader.enum(Direction, "方向"), required=False)
        partial = reader.field(
            data, path, "partial", reader.enum(PartialStep, "不足一步的处理"), required=False
        )
        if step is not None and step <= 0:
            reader.error(_join(path, "step"), ErrorCode.INVALID_VALUE, "步长必须大于 0")
        if per_step is not None and per_step <= 0:
            reader.error(_join(path, "points_per_step"), ErrorCode.INVALID_VALUE, "每步扣分必须大于 0")
        if len(reader.errors) > before or target is None or step is None or per_step is None:
            return None
        return TargetLinear(
            target=target,
            step=step,
            points_per_step=per_step,
            direction=direction or Direction.HIGHER_BETTER,
            partial=partial or PartialStep.WHOLE,
        )
    if kind is RuleKind.PER_OCCURRENCE:
        each = reader.field(data, path, "points_per_occurrence", number)
        cap = reader.field(data, path, "cap", number, required=False)
        if each is not None and each <= 0:
            reader.error(_join(path, "points_per_occurrence"), ErrorCode.INVALID_VALUE, "每次扣分必须大于 0")
        if cap is not None and cap <= 0:
            reader.error(_join(path, "cap"), ErrorCode.INVALID_VALUE, "扣分上限必须大于 0")
        if len(reader.errors) > before or each is None:
            return None
        return PerOccurrence(points_per_occurrence=each, cap=cap)
    if kind is RuleKind.BANDS:
        direction = reader.field(data, path, "direction", reader.enum(Direction, "方向"), required=False)
        direction = direction or Direction.HIGHER_BETTER
        otherwise = reader.field(data, path, "otherwise", number, required=False)
        bound_key = "min" if direction is Direction.HIGHER_BETTER else "max"
        bands: list[tuple[int, Band]] = []
        if "bands" not in data:
            reader.error(_join(path, "bands"), ErrorCode.MISSING, "缺少必填字段")
        else:
            listed = list(reader.items(data["bands"], _join(path, "bands")))
            if not listed and isinstance(data["bands"], list | tuple):
                reader.error(_join(path, "bands"), ErrorCode.INVALID_VALUE, "至少需要一档")
            for index, item, item_path in listed:
                band = reader.mapping(item, item_path, (bound_key, "points"))
                if band is None:
                    continue
                bound = reader.field(band, item_path, bound_key, number)
                points = reader.field(band, item_path, "points", number)
                if bound is not None and points is not None:
                    bands.append((index, Band(bound=bound, points=points)))
        if otherwise is not None and otherwise < 0:
            reader.error(_join(path, "otherwise"), ErrorCode.INVALID_VALUE, "不能为负数")
        _check_bands(reader, bands, direction, otherwise, weight, path)
        if len(reader.errors) > before or not bands:
            return None
        return Bands(bands=tuple(band for _, band in bands), direction=direction, otherwise=otherwise or ZERO)
    if kind is RuleKind.ANCHORED:
        levels: list[tuple[int, AnchoredLevel]] = []
        if "levels" not in data:
            reader.error(_join(path, "levels"), ErrorCode.MISSING, "缺少必填字段")
        else:
            listed = list(reader.items(data["levels"], _join(path, "levels")))
            if not listed and isinstance(data["levels"], list | tuple):
                reader.error(_join(path, "levels"), ErrorCode.INVALID_VALUE, "至少需要一个等级")
            for index, item, item_path in listed:
                level = reader.mapping(item, item_path, ("level", "label", "points"))
                if level is None:
                    continue
                code = reader.field(level, item_path, "level", reader.level_code)
                text = reader.field(level, item_path, "label", reader.text)
                points = reader.field(level, item_path, "points", number)
                if code is not None and text is not None and points is not None:
                    levels.append((index, AnchoredLevel(level=code, label=text, points=points)))
        _check_levels(reader, levels, weight, path)
        if len(reader.errors) > before or not levels:
            return None
        return Anchored(levels=tuple(level for _, level in levels))
    if kind is RuleKind.BONUS:
        per_unit = reader.field(data, path, "points_per_unit", number)
        threshold = reader.field(data, path, "threshold", number, required=False)
        if per_unit is not None and per_unit <= 0:
            reader.error(_join(path, "points_per_unit"), ErrorCode.INVALID_VALUE, "每单位加分必须大于 0")
        if len(reader.errors) > before or per_unit is None:
            return None
        return Bonus(points_per_unit=per_unit, threshold=threshold or ZERO)
    return Veto()


def _check_rule(
    reader: _Reader,
    rule: Rule,
    weight: Decimal,
    path: str,
    metric_unit: MetricUnit | None,
    higher: bool | None,
) -> None:
    """Checks of a rule's parameters against its indicator's weight and metric."""
    rpath = _join(path, "rule")
    direction: Direction | None = None
    if isinstance(rule, TargetLinear | Bands):
        direction = rule.direction
    if isinstance(rule, PerOccurrence) and rule.cap is not None and rule.cap > weight:
        reader.error(
            _join(rpath, "cap"),
            ErrorCode.INVALID_VALUE,
            f"扣分上限 {fmt(rule.cap)} 超过本项分值 {fmt(weight)}",
        )
    # Against the metric, when it is known.
    if metric_unit is None:
        return
    mpath = _join(path, "metric")
    if isinstance(rule, PerOccurrence | Veto) and metric_unit not in _COUNT_UNITS:
        reader.error(mpath, ErrorCode.METRIC_MISMATCH, "按次扣分和一票否决只能用于计数类指标")
    if isinstance(rule, Anchored) and metric_unit is not MetricUnit.LEVEL:
        reader.error(mpath, ErrorCode.METRIC_MISMATCH, "行为锚定等级只能用于等级类指标")
    if not isinstance(rule, Anchored) and metric_unit is MetricUnit.LEVEL:
        reader.error(mpath, ErrorCode.METRIC_MISMATCH, "等级类指标只能用行为锚定规则评分")
    if direction is not None and higher is not None and (direction is Direction.HIGHER_BETTER) != higher:
        expected = "higher_better" if higher else "lower_better"
        reader.error(_join(rpath, "direction"), ErrorCode.METRIC_MISMATCH, f"与指标口径不符，应为 {expected}")
    if isinstance(rule, Bonus) and higher is False:
        reader.error(mpath, ErrorCode.METRIC_MISMATCH, "加分项只能用于越高越好的指标")
    if isinstance(rule, PerOccurrence | Veto) and higher is True:
        reader.error(mpath, ErrorCode.METRIC_MISMATCH, "按次扣分只能用于越少越好的计数")


def _read_indicator(
    reader: _Reader,
    data: object,
    path: str,
    known_metrics: Collection[str] | None,
    style: SchemeStyle | None,
    role_codes: set[str] | None,
) -> _IndicatorDraft:
    draft = _IndicatorDraft(path=path)
    mapping = reader.mapping(data, path, _INDICATOR_FIELDS)
    if mapping is None:
        return draft
    before = len(reader.errors)
    draft.code = reader.field(mapping, path, "code", reader.code)
    name = reader.field(mapping, path, "name", reader.text)
    dimension = reader.field(mapping, path, "dimension", reader.enum(Dimension, "维度"))
    draft.category = reader.field(mapping, path, "category", reader.enum(Category, "类别"))
    servqual = reader.field(mapping, path, "servqual", reader.enum(Servqual, "SERVQUAL 维度"), required=False)
    bsc = reader.field(mapping, path, "bsc", reader.enum(Bsc, "平衡计分卡维度"), required=False)
    description = reader.field(mapping, path, "description", reader.free_text, required=False) or ""
    draft.weight = reader.field(mapping, path, "weight", reader.number)
    draft.metric = reader.field(mapping, path, "metric", reader.text)
    rule_errors = len(reader.errors)
    if mapping.get("rule") is None:
        reader.error(_join(path, "rule"), ErrorCode.MISSING, "缺少必填字段")
    else:
        weight_known = draft.weight if draft.weight is not None and draft.weight >= 0 else None
        draft.rule = _read_rule(reader, mapping["rule"], _join(path, "rule"), weight_known)
    draft.rule_ok = draft.rule is not None and len(reader.errors) == rule_errors

    weight, category, metric, rule = draft.weight, draft.category, draft.metric, draft.rule
    if weight is not None:
        zero_ok = style is SchemeStyle.DEDUCTION and category is Category.VETO
        if weight < 0 or (weight == 0 and not zero_ok):
            reader.error(_join(path, "weight"), ErrorCode.INVALID_VALUE, "分值必须大于 0")
    info = None
    if metric is not None:
        if not METRIC_RE.match(metric):
            reader.error(
                _join(path, "metric"), ErrorCode.INVALID_VALUE, "指标名只能由小写字母、数字和下划线组成"
            )
        elif known_metrics is not None and metric not in known_metrics:
            reader.error(_join(path, "metric"), ErrorCode.UNKNOWN_METRIC, f"未知的计量指标 {metric}")
        info = KNOWN_METRICS.get(metric)
    if rule is not None and category is not None:
        if (category is Category.VETO) != isinstance(rule, Veto):
            reader.error(
                _join(path, "rule"), ErrorCode.INCONSISTENT, "一票否决类指标必须且只能使用 veto 规则"
            )
        if (category is Category.BONUS) != isinstance(rule, Bonus):
            reader.error(_join(path, "rule"), ErrorCode.INCONSISTENT, "加分项必须且只能使用 bonus 规则")
    if rule is not None and weight is not None and weight >= 0:
        _check_rule(
            reader, rule, weight, path, info.unit if info else None, info.higher_is_better if info else None
        )

    manual_range: tuple[Decimal, Decimal] | None = None
    if "manual_range" in mapping and mapping["manual_range"] is not None:
        rpath = _join(path, "manual_range")
        raw = mapping["manual_range"]
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            reader.error(rpath, ErrorCode.WRONG_TYPE, "应为 [下限, 上限]")
        else:
            low, high = reader.number(raw[0], _join(rpath, 0)), reader.number(raw[1], _join(rpath, 1))
            if low is not None and high is not None:
                if low >= high:
                    reader.error(rpath, ErrorCode.ORDER, "下限应小于上限")
                manual_range = (low, high)
        if metric is not None and not is_manual(metric):
            reader.error(rpath, ErrorCode.INCONSISTENT, "只有人工填报指标（manual:）才能设置填报范围")

    roles: tuple[str, ...] = ()
    if "roles" in mapping and mapping["roles"] is not None:
        rpath = _join(path, "roles")
        listed = [
            reader.code(item, item_path) for _, item, item_path in reader.items(mapping["roles"], rpath)
        ]
        roles = tuple(role for role in listed if role is not None)
        if style is SchemeStyle.WEIGHTED:
            reader.error(rpath, ErrorCode.NOT_IN_STYLE, "只有扣分制（deduction）方案的考核项可以按岗位适用")
        elif role_codes is not None:
            for index, role in enumerate(listed):
                if role is not None and role not in role_codes:
                    reader.error(
                        _join(rpath, index), ErrorCode.INVALID_VALUE, f"岗位 {role} 未在方案的 roles 中声明"
                    )
        if len(set(roles)) != len(roles):
            reader.error(rpath, ErrorCode.DUPLICATE, "岗位重复")

    if len(reader.errors) == before and None not in (
        draft.code,
        name,
        dimension,
        category,
        weight,
        metric,
        rule,
    ):
        assert draft.code and name and dimension and category and weight is not None and metric and rule
        draft.built = Indicator(
            code=draft.code,
            name=name,
            dimension=dimension,
            category=category,
            weight=weight,
            metric=metric,
            rule=rule,
            servqual=servqual,
            bsc=bsc,
            manual_range=manual_range,
            roles=roles,
            description=description,
        )
    return draft


def _read_grades(reader: _Reader, data: object, path: str) -> GradeThresholds | None:
    mapping = reader.mapping(data, path, ("excellent", "good", "pass"))
    if mapping is None:
        return None
    values = {key: reader.field(mapping, path, key, reader.number) for key in ("excellent", "good", "pass")}
    excellent, good, passing = values["excellent"], values["good"], values["pass"]
    if excellent is None or good is None or passing is None:
        return None
    if not excellent > good > passing > 0:
        reader.error(path, ErrorCode.ORDER, "等次分数线应满足 优秀 > 良好 > 合格 > 0")
        return None
    return GradeThresholds(excellent=excellent, good=good, passing=passing)


def _read_incentive(reader: _Reader, data: object, path: str) -> Incentive | None:
    mapping = reader.mapping(data, path, ("base", "award_min_score"))
    if mapping is None:
        return None
    base = reader.field(mapping, path, "base", reader.number, required=False)
    award = reader.field(mapping, path, "award_min_score", reader.number, required=False)
    if base is not None and base < 0:
        reader.error(_join(path, "base"), ErrorCode.INVALID_VALUE, "激励金不能为负数")
    return Incentive(base=base, award_min_score=award)


def _read_roles(reader: _Reader, data: object, path: str) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(data, Mapping):
        reader.error(path, ErrorCode.WRONG_TYPE, "应为 岗位编码: 岗位名称 的映射")
        return None
    if not data:
        reader.error(path, ErrorCode.INVALID_VALUE, "声明岗位时至少要有一个")
    roles: list[tuple[str, str]] = []
    for key, label in data.items():
        code = reader.code(key, _join(path, str(key)))
        text = reader.text(label, _join(path, str(key)))
        if code is not None and text is not None:
            roles.append((code, text))
    return tuple(roles)


def _read(document: object, known_metrics: Collection[str] | None) -> tuple[Scheme | None, list[SchemeError]]:
    reader = _Reader()
    data = reader.mapping(document, "", _TOP_FIELDS)
    if data is None:
        return None, reader.errors
    code = reader.field(data, "", "code", reader.code)
    name = reader.field(data, "", "name", reader.text)
    version = reader.field(data, "", "version", reader.integer)
    if version is not None and version < 1:
        reader.error("version", ErrorCode.INVALID_VALUE, "版本号从 1 开始")
    unit_type = reader.field(data, "", "unit_type", reader.enum(UnitType, "单位类型"))
    period_type = reader.field(data, "", "period_type", reader.enum(PeriodType, "考核周期"))
    style = reader.field(data, "", "style", reader.enum(SchemeStyle, "计分方式"), required=False)
    style_ok = "style" not in data or data["style"] is None or style is not None
    style = style or SchemeStyle.WEIGHTED
    full_score = reader.field(data, "", "full_score", reader.number, required=False)
    if full_score is not None and full_score <= 0:
        reader.error("full_score", ErrorCode.INVALID_VALUE, "满分必须大于 0")
        full_score = None
    full_ok = "full_score" not in data or full_score is not None
    full = full_score if full_score is not None else HUNDRED
    grades = reader.field(
        data, "", "grades", lambda value, path: _read_grades(reader, value, path), required=False
    )
    if grades is not None and full_ok and grades.excellent > full:
        reader.error("grades.excellent", ErrorCode.INVALID_VALUE, f"优秀分数线不能高于满分 {fmt(full)}")
    share = reader.field(data, "", "min_assessable_share", reader.number, required=False)
    if share is not None and not ZERO < share <= HUNDRED:
        reader.error("min_assessable_share", ErrorCode.INVALID_VALUE, "应在 0 至 100（百分比）之间，且大于 0")
    description = reader.field(data, "", "description", reader.free_text, required=False) or ""
    count_defaults = reader.field(data, "", "count_default_ratings", reader.boolean, required=False)
    roles = reader.field(
        data, "", "roles", lambda value, path: _read_roles(reader, value, path), required=False
    )
    if roles and style is SchemeStyle.WEIGHTED and style_ok:
        reader.error("roles", ErrorCode.NOT_IN_STYLE, "只有扣分制（deduction）方案可以按岗位区分考核项")
    incentive = reader.field(
        data, "", "incentive", lambda value, path: _read_incentive(reader, value, path), required=False
    )
    if incentive is not None and style is SchemeStyle.WEIGHTED and style_ok:
        reader.error("incentive", ErrorCode.NOT_IN_STYLE, "激励金扣减（R3.5）只适用于扣分制（deduction）方案")
    award = incentive.award_min_score if incentive is not None else None
    if award is not None and full_ok and not ZERO <= award <= full:
        reader.error("incentive.award_min_score", ErrorCode.INVALID_VALUE, f"应在 0 至满分 {fmt(full)} 之间")

    role_codes = {role for role, _ in roles} if roles is not None else None
    drafts: list[_IndicatorDraft] = []
    if "indicators" not in data or data["indicators"] is None:
        reader.error("indicators", ErrorCode.MISSING, "缺少必填字段")
    else:
        for _, item, path in reader.items(data["indicators"], "indicators"):
            drafts.append(
                _read_indicator(reader, item, path, known_metrics, style if style_ok else None, role_codes)
            )
        if not drafts and isinstance(data["indicators"], list | tuple):
            reader.error("indicators", ErrorCode.INVALID_VALUE, "至少需要一项指标")

    codes = Counter(draft.code for draft in drafts if draft.code is not None)
    for draft in drafts:
        if draft.code is not None and codes[draft.code] > 1:
            reader.error(_join(draft.path, "code"), ErrorCode.DUPLICATE, f"指标编码 {draft.code} 重复")

    weights_known = all(draft.weight is not None and draft.category is not None for draft in drafts)
    if drafts and weights_known and style_ok and full_ok:
        _check_weights(reader, drafts, style, unit_type, full)

    if reader.errors:
        return None, reader.errors
    assert code and name and version and unit_type and period_type
    scheme = Scheme(
        code=code,
        name=name,
        version=version,
        unit_type=unit_type,
        period_type=period_type,
        indicators=tuple(draft.built for draft in drafts if draft.built is not None),
        style=style,
        full_score=full,
        grades=grades or GradeThresholds(),
        min_assessable_share=share if share is not None else Decimal(60),
        roles=roles or (),
        incentive=incentive,
        description=description,
        count_default_ratings=True if count_defaults is None else count_defaults,
    )
    return scheme, []


def _check_weights(
    reader: _Reader,
    drafts: Sequence[_IndicatorDraft],
    style: SchemeStyle,
    unit_type: UnitType | None,
    full: Decimal,
) -> None:
    by_category = dict.fromkeys(Category, ZERO)
    for draft in drafts:
        assert draft.category is not None and draft.weight is not None
        by_category[draft.category] += draft.weight
    scored = sum((weight for category, weight in by_category.items() if category is not Category.BONUS), ZERO)
    if style is SchemeStyle.DEDUCTION:
        for draft in drafts:
            assert draft.weight is not None
            if draft.weight > full:
                reader.error(
                    _join(draft.path, "weight"), ErrorCode.INVALID_VALUE, f"扣分上限不能超过满分 {fmt(full)}"
                )
        if scored == 0 and not any(draft.category is Category.VETO for draft in drafts):
            reader.error("indicators", ErrorCode.INVALID_VALUE, "扣分制方案至少需要一个扣分项")
        return
    if scored != full:
        reader.error(
            "indicators",
            ErrorCode.WEIGHT_SUM,
            f"各指标分值合计 {fmt(scored)} 分，应为满分 {fmt(full)} 分（加分项不计入）",
        )
        return  # shares of a total that is wrong would only repeat the same mistake
    for category, (low, high) in CATEGORY_RANGES.items():
        share = by_category[category] * HUNDRED / full
        label = f"{category.label}（{category.value}）"
        if category is Category.PROCESS and unit_type is UnitType.WINDOW:
            if share < WINDOW_PROCESS_MIN:
                reader.error(
                    "indicators",
                    ErrorCode.WINDOW_PROCESS_SHARE,
                    f"窗口方案的{label}占 {fmt(share)}%，应不低于 {fmt(WINDOW_PROCESS_MIN)}%（R4.1）",
                )
            continue
        if not low <= share <= high:
            reader.error(
                "indicators",
                ErrorCode.CATEGORY_SHARE,
                f"{label}占 {fmt(share)}%，应在 {fmt(low)}%–{fmt(high)}% 之间（R2.1）",
            )


def validate(
    document: Mapping[str, Any] | Scheme, known_metrics: Collection[str] = KNOWN_METRIC_NAMES
) -> list[SchemeError]:
    """Every error of a scheme document at once (empty when it is valid)."""
    if isinstance(document, Scheme):
        document = to_dict(document)
    return _read(document, known_metrics)[1]


def parse_scheme(document: Mapping[str, Any], known_metrics: Collection[str] = KNOWN_METRIC_NAMES) -> Scheme:
    """The scheme a valid document describes; ``InvalidSchemeError`` with every error otherwise."""
    scheme, errors = _read(document, known_metrics)
    if scheme is None:
        raise InvalidSchemeError(errors)
    return scheme


# --- writing --------------------------------------------------------------------------------------


def _rule_dict(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": rule.kind.value}
    if isinstance(rule, TargetLinear):
        data |= {
            "target": rule.target,
            "step": rule.step,
            "points_per_step": rule.points_per_step,
            "direction": rule.direction.value,
            "partial": rule.partial.value,
        }
    elif isinstance(rule, PerOccurrence):
        data["points_per_occurrence"] = rule.points_per_occurrence
        if rule.cap is not None:
            data["cap"] = rule.cap
    elif isinstance(rule, Bands):
        key = "min" if rule.direction is Direction.HIGHER_BETTER else "max"
        data |= {
            "direction": rule.direction.value,
            "bands": [{key: band.bound, "points": band.points} for band in rule.bands],
            "otherwise": rule.otherwise,
        }
    elif isinstance(rule, Anchored):
        data["levels"] = [
            {"level": level.level, "label": level.label, "points": level.points} for level in rule.levels
        ]
    elif isinstance(rule, Bonus):
        data |= {"points_per_unit": rule.points_per_unit, "threshold": rule.threshold}
    return data


def _indicator_dict(indicator: Indicator) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": indicator.code,
        "name": indicator.name,
        "dimension": indicator.dimension.value,
        "category": indicator.category.value,
    }
    if indicator.servqual is not None:
        data["servqual"] = indicator.servqual.value
    if indicator.bsc is not None:
        data["bsc"] = indicator.bsc.value
    if indicator.roles:
        data["roles"] = list(indicator.roles)
    data["weight"] = indicator.weight
    data["metric"] = indicator.metric
    if indicator.manual_range is not None:
        data["manual_range"] = list(indicator.manual_range)
    data["rule"] = _rule_dict(indicator.rule)
    if indicator.description:
        data["description"] = indicator.description
    return data


def to_dict(scheme: Scheme) -> dict[str, Any]:
    """The canonical plain document of a scheme (numbers as ``Decimal``, every default spelled out)."""
    data: dict[str, Any] = {
        "code": scheme.code,
        "name": scheme.name,
        "version": scheme.version,
        "unit_type": scheme.unit_type.value,
        "period_type": scheme.period_type.value,
        "style": scheme.style.value,
        "full_score": scheme.full_score,
        "grades": {
            "excellent": scheme.grades.excellent,
            "good": scheme.grades.good,
            "pass": scheme.grades.passing,
        },
        "min_assessable_share": scheme.min_assessable_share,
    }
    if scheme.roles:
        data["roles"] = dict(scheme.roles)
    if scheme.incentive is not None:
        incentive: dict[str, Any] = {}
        if scheme.incentive.base is not None:
            incentive["base"] = scheme.incentive.base
        if scheme.incentive.award_min_score is not None:
            incentive["award_min_score"] = scheme.incentive.award_min_score
        data["incentive"] = incentive
    if scheme.description:
        data["description"] = scheme.description
    if not scheme.count_default_ratings:  # written only when it differs, so the defaults stay as they are
        data["count_default_ratings"] = False
    data["indicators"] = [_indicator_dict(indicator) for indicator in scheme.indicators]
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(_canon(value), "f")
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def to_json_dict(scheme: Scheme) -> dict[str, Any]:
    """``to_dict`` with numbers as exact decimal strings, for JSON storage; ``parse_scheme`` reads it back."""
    result: dict[str, Any] = _jsonable(to_dict(scheme))
    return result


def content_hash(document: Scheme | Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a scheme's canonical JSON, leaving out the version number.

    A plain document is read first (any metric name accepted), so the hash does not depend on how the
    document was written: key order, ``98`` or ``98.0``, defaults left out or spelled out.
    """
    if isinstance(document, Scheme):
        scheme = document
    else:
        read, errors = _read(document, None)
        if read is None:
            raise InvalidSchemeError(errors)
        scheme = read
    data = to_json_dict(scheme)
    del data["version"]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- YAML -----------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader reading numbers with a decimal point as exact ``Decimal``s."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | float:
    assert isinstance(node, yaml.ScalarNode)
    text = str(node.value).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    value = _canon(value)
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


_Dumper.add_representer(Decimal, _represent_decimal)


def load_yaml(text: str) -> dict[str, Any]:
    """The plain document in a YAML text; ``InvalidSchemeError`` when it is not YAML or not a mapping."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise InvalidSchemeError([SchemeError("", ErrorCode.SYNTAX, f"YAML 格式错误：{error}")]) from error
    if not isinstance(data, dict):
        raise InvalidSchemeError([SchemeError("", ErrorCode.WRONG_TYPE, "方案文档应为键值对（映射）")])
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def dump_yaml(document: Scheme | Mapping[str, Any]) -> str:
    """YAML text of a scheme in canonical form (or of a plain document, keys in their order)."""
    data = to_dict(document) if isinstance(document, Scheme) else _plain(document)
    text: str = yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )
    return text


def read_scheme(text: str, known_metrics: Collection[str] = KNOWN_METRIC_NAMES) -> Scheme:
    """Parse a YAML text into a valid scheme, or raise ``InvalidSchemeError`` listing every error."""
    return parse_scheme(load_yaml(text), known_metrics)


# --- the defaults ---------------------------------------------------------------------------------

DEFAULT_FILES = (
    "window.yaml",
    "department_internal.yaml",
    "department_external.yaml",
    "department_support.yaml",
    "hotline_staff.yaml",
    "hotline_unit.yaml",
)


def default_scheme_texts() -> dict[str, str]:
    """File name → YAML text of the default schemes shipped in ``kaoping/assessment/schemes/``."""
    folder = resources.files("kaoping.assessment").joinpath("schemes")
    return {name: folder.joinpath(name).read_text(encoding="utf-8") for name in DEFAULT_FILES}


def default_schemes(known_metrics: Collection[str] = KNOWN_METRIC_NAMES) -> dict[str, Scheme]:
    """Scheme code → the default scheme."""
    schemes = [read_scheme(text, known_metrics) for text in default_scheme_texts().values()]
    return {scheme.code: scheme for scheme in schemes}
