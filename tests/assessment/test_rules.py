"""The pure rules: the seeds' worked examples (R2.6, R3.5), partial steps, edges, rounding, exemptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.assessment.rules import (
    Anchored,
    AnchoredLevel,
    Band,
    Bands,
    Bonus,
    Direction,
    Exemption,
    ExemptionError,
    Outcome,
    PartialStep,
    PerOccurrence,
    TargetLinear,
    UnknownLevelError,
    Veto,
    apply_exemptions,
    fmt,
    round_points,
)

D = Decimal


def exemption(key: str, indicator: str = "item") -> Exemption:
    return Exemption(indicator=indicator, deduction_key=key, approver="中心主任", reason="创新服务合理试错")


# --- target with linear deduction (R2.6) ----------------------------------------------------------


def test_satisfaction_two_points_per_percent_below_target():
    """R2.6: "群众满意度"每低于目标值 1%，扣减绩效 2 分."""
    rule = TargetLinear(target=D(98), step=D(1), points_per_step=D(2))
    outcome = rule.apply(D("96.0"), D(20), label="满意率", unit="%")
    assert outcome.points == D(16)
    assert [(d.key, d.amount) for d in outcome.deductions] == [("shortfall", D(4))]
    assert outcome.explanation.startswith("满意率 96%，低于目标 98% 2 个百分点，每低 1% 扣 2 分，扣 4 分")
    assert outcome.explanation.endswith("得 16 分")


def test_complaint_handling_timeliness_one_point_per_five_percent_below():
    """R2.6: "投诉处理及时率"每低于目标值 5%，扣减绩效 1 分."""
    rule = TargetLinear(target=D(100), step=D(5), points_per_step=D(1))
    assert rule.apply(D(90), D(10)).points == D(8)
    assert rule.apply(D(85), D(10)).points == D(7)
    assert rule.apply(D(100), D(10)).points == D(10)


@pytest.mark.parametrize(
    ("partial", "deducted"),
    [(PartialStep.WHOLE, D(2)), (PartialStep.STARTED, D(4)), (PartialStep.PRORATA, D(3))],
)
def test_partial_step_one_and_a_half_percent_below(partial, deducted):
    """1.5 % below, "each 1 % costs 2": whole steps only (default) → 2; a started step → 4; pro rata → 3."""
    rule = TargetLinear(target=D(98), step=D(1), points_per_step=D(2), partial=partial)
    outcome = rule.apply(D("96.5"), D(20), label="满意率", unit="%")
    assert outcome.deducted == deducted
    assert outcome.points == D(20) - deducted


def test_default_partial_is_whole_steps_and_says_so():
    rule = TargetLinear(target=D(98), step=D(1), points_per_step=D(2))
    assert rule.partial is PartialStep.WHOLE
    outcome = rule.apply(D("96.5"), D(20), label="满意率", unit="%")
    assert "不足 1% 的部分不扣" in outcome.explanation


def test_less_than_one_whole_step_below_costs_nothing_but_is_explained():
    rule = TargetLinear(target=D(98), step=D(1), points_per_step=D(2))
    outcome = rule.apply(D("97.5"), D(20), label="满意率", unit="%")
    assert outcome.points == D(20)
    assert outcome.deductions == ()
    assert "不扣分" in outcome.explanation


def test_started_step_charges_any_shortfall():
    """Salary accuracy 100 % (R2.2): 99.9 % is one started step short."""
    rule = TargetLinear(target=D(100), step=D("0.5"), points_per_step=D(1), partial=PartialStep.STARTED)
    assert rule.apply(D("99.9"), D(5)).points == D(4)
    assert rule.apply(D("99.5"), D(5)).points == D(4)
    assert rule.apply(D("99.4"), D(5)).points == D(3)


def test_lower_better_it_fault_fix_within_two_hours():
    """R2.2: 系统故障修复时效 ≤ 2 小时; each half hour over costs 2."""
    rule = TargetLinear(target=D(2), step=D("0.5"), points_per_step=D(2), direction=Direction.LOWER_BETTER)
    assert rule.apply(D("1.5"), D(10)).points == D(10)
    outcome = rule.apply(D(3), D(10), label="系统故障修复时长", unit="小时")
    assert outcome.points == D(6)
    assert "目标不超过 2 小时，超出 1 小时，每超 0.5 小时扣 2 分" in outcome.explanation


def test_target_linear_never_below_zero():
    rule = TargetLinear(target=D(98), step=D(1), points_per_step=D(2))
    outcome = rule.apply(D(50), D(15), label="满意率", unit="%")
    assert outcome.points == D(0)
    assert outcome.deducted == D(15)
    assert "应扣 96 分，本项扣完为止，扣 15 分" in outcome.explanation


def test_target_linear_refuses_a_zero_step():
    with pytest.raises(ValueError):
        TargetLinear(target=D(98), step=D(0), points_per_step=D(2))


# --- deduction per occurrence (R3.5) --------------------------------------------------------------


def test_hundred_minus_per_item_deductions_with_a_cap():
    """R3.5 百分倒减制: 2 points per occurrence, the item can lose at most 6."""
    rule = PerOccurrence(points_per_occurrence=D(2), cap=D(6))
    assert rule.apply(0, D(10)).points == D(10)
    assert rule.apply(2, D(10)).points == D(6)
    capped = rule.apply(5, D(10), label="违反劳动纪律")
    assert capped.points == D(4)
    assert [d.amount for d in capped.deductions] == [D(2), D(2), D(2), D(0), D(0)]
    assert "本项最多扣 6 分" in capped.explanation
    assert "已达本项扣分上限" in capped.deductions[3].reason


def test_per_occurrence_without_cap_stops_at_the_items_points():
    rule = PerOccurrence(points_per_occurrence=D(3))
    outcome = rule.apply(4, D(10))
    assert outcome.points == D(0)
    assert [d.amount for d in outcome.deductions] == [D(3), D(3), D(3), D(1)]


def test_occurrences_are_keyed_by_their_records_when_they_name_each_once():
    rule = PerOccurrence(points_per_occurrence=D(1))
    keyed = rule.apply(2, D(5), refs=["complaint:7", "complaint:9"])
    assert [(d.key, d.record_ref) for d in keyed.deductions] == [
        ("complaint:7", "complaint:7"),
        ("complaint:9", "complaint:9"),
    ]
    numbered = rule.apply(2, D(5), refs=["complaint:7", "complaint:7"])
    assert [d.key for d in numbered.deductions] == ["#1", "#2"]
    assert rule.apply(3, D(5), refs=["a"]).deductions[2].key == "#3"


def test_per_occurrence_refuses_a_negative_count():
    with pytest.raises(ValueError):
        PerOccurrence(points_per_occurrence=D(1)).apply(-1, D(5))


# --- bands ----------------------------------------------------------------------------------------

NOTICE = Bands(bands=(Band(D(100), D(6)), Band(D(95), D(4)), Band(D(90), D(2))))


@pytest.mark.parametrize(
    ("value", "points"),
    [(D(100), D(6)), (D("99.99"), D(4)), (D(95), D(4)), (D("94.99"), D(2)), (D(90), D(2)), (D("89.9"), D(0))],
)
def test_bands_edges_are_inclusive(value, points):
    assert NOTICE.apply(value, D(6)).points == points


def test_lower_better_bands_and_otherwise():
    rule = Bands(
        bands=(Band(D("0.5"), D(5)), Band(D(1), D(3))), direction=Direction.LOWER_BETTER, otherwise=D(1)
    )
    assert rule.apply(D("0.5"), D(5)).points == D(5)
    assert rule.apply(D("0.51"), D(5)).points == D(3)
    outcome = rule.apply(D(4), D(5), label="差评率", unit="%")
    assert outcome.points == D(1)
    assert "未达到最低一档（≤1%）" in outcome.explanation
    assert outcome.deductions[0].amount == D(4)


# --- behaviourally anchored levels (R2.6) ---------------------------------------------------------

INNOVATION = Anchored(
    levels=(
        AnchoredLevel("5", "主动提出并实施服务优化方案，效果显著", D(20)),
        AnchoredLevel("3", "参与服务优化讨论，提出合理化建议", D(10)),
        AnchoredLevel("1", "未参与服务改进", D(0)),
    )
)


@pytest.mark.parametrize(("level", "points"), [("5", D(20)), ("3", D(10)), ("1", D(0))])
def test_innovation_twenty_ten_zero(level, points):
    """R2.6: 服务创新 20 / 10 / 0."""
    outcome = INNOVATION.apply(level, D(20), label="服务创新")
    assert outcome.points == points
    assert outcome.deducted == D(20) - points


def test_anchored_explains_the_behaviour():
    outcome = INNOVATION.apply("3", D(20), label="服务创新")
    assert (
        outcome.explanation
        == "服务创新：评定为等级 3（参与服务优化讨论，提出合理化建议），得 10 分（满分 20 分）"
    )


def test_unknown_level_is_refused():
    with pytest.raises(UnknownLevelError):
        INNOVATION.apply("4", D(20))


# --- bonus ----------------------------------------------------------------------------------------


def test_bonus_per_unit_with_a_cap():
    rule = Bonus(points_per_unit=D(1))
    assert rule.apply(D(2), D(3)).points == D(2)
    capped = rule.apply(D(5), D(3), label="群众表扬", unit="次")
    assert capped.points == D(3)
    assert capped.deductions == ()
    assert capped.explanation == "群众表扬 5 次，每次加 1 分，加分以 3 分为限，加 3 分"


def test_bonus_above_a_threshold():
    rule = Bonus(points_per_unit=D("0.5"), threshold=D(98))
    assert rule.apply(D(97), D(3)).points == D(0)
    assert rule.apply(D(99), D(3)).points == D("0.5")


# --- veto -----------------------------------------------------------------------------------------


def test_veto_any_occurrence_fails():
    clean = Veto().apply(0, D(5), label="重大服务事故")
    assert (clean.points, clean.vetoed) == (D(5), False)
    failed = Veto().apply(1, D(5), label="重大服务事故", refs=["incident:3"])
    assert (failed.points, failed.vetoed) == (D(0), True)
    assert failed.deductions[0].record_ref == "incident:3"
    assert "一票否决" in failed.explanation


# --- tolerance exemptions (R2.11) -----------------------------------------------------------------


def test_exemption_restores_exactly_one_deduction():
    outcome = PerOccurrence(points_per_occurrence=D(2)).apply(3, D(10), refs=["c:1", "c:2", "c:3"])
    assert outcome.points == D(4)
    exempted = apply_exemptions(outcome, [exemption("c:2")])
    assert exempted.points == D(6)
    assert [d.key for d in exempted.deductions] == ["c:1", "c:3"]
    assert len(exempted.exempted) == 1
    item = exempted.exempted[0]
    assert (item.deduction.key, item.restored, item.exemption.approver) == ("c:2", D(2), "中心主任")
    assert "c:2 经中心主任批准容错免责（创新服务合理试错），恢复 2 分" in exempted.explanation


def test_exemption_of_a_shortfall_restores_its_points():
    outcome = TargetLinear(target=D(98), step=D(1), points_per_step=D(2)).apply(D(95), D(15))
    assert apply_exemptions(outcome, [exemption("shortfall")]).points == D(15)


def test_exemption_past_the_cap_restores_what_it_cost():
    outcome = PerOccurrence(points_per_occurrence=D(2), cap=D(4)).apply(3, D(10))
    assert apply_exemptions(outcome, [exemption("#3")]).points == outcome.points
    assert apply_exemptions(outcome, [exemption("#1")]).points == outcome.points + D(2)


def test_exemption_of_a_missing_deduction_is_an_error():
    outcome = PerOccurrence(points_per_occurrence=D(2)).apply(1, D(10))
    with pytest.raises(ExemptionError) as error:
        apply_exemptions(outcome, [exemption("#2"), exemption("#1"), exemption("#1")])
    assert len(error.value.problems) == 2
    assert "#2" in error.value.problems[0]
    assert "重复" in error.value.problems[1]


def test_exempting_every_veto_occurrence_lifts_the_veto():
    outcome = Veto().apply(2, D(5), refs=["i:1", "i:2"])
    one = apply_exemptions(outcome, [exemption("i:1")])
    assert one.vetoed
    assert one.points == D(0)
    assert [d.amount for d in one.deductions] == [D(5)]
    both = apply_exemptions(one, [exemption("i:2")])
    assert not both.vetoed
    assert both.points == D(5)
    assert [item.restored for item in both.exempted] == [D(0), D(5)]
    assert "一票否决解除" in both.explanation


# --- rounding -------------------------------------------------------------------------------------


def test_round_points_is_half_up_to_two_decimals():
    assert round_points(D("0.125")) == D("0.13")
    assert round_points(D("0.005")) == D("0.01")
    assert round_points(D("2.675")) == D("2.68")
    assert str(round_points(D("-0.001"))) == "0.00"
    assert fmt(D("96.50")) == "96.5"
    assert fmt(D("100")) == "100"


def test_prorata_rounds_half_up():
    rule = TargetLinear(target=D(100), step=D(3), points_per_step=D(1), partial=PartialStep.PRORATA)
    # 1/3 step → 0.333… → 0.33; 0.5/3 → 0.1666… → 0.17
    assert rule.apply(D(99), D(10)).deducted == D("0.33")
    assert rule.apply(D("99.5"), D(10)).deducted == D("0.17")


# --- properties -----------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D(50), places=2)
values = st.decimals(min_value=D(0), max_value=D(200), places=3)
weights = st.decimals(min_value=D(0), max_value=D(40), places=1)


@st.composite
def target_rules(draw: st.DrawFn) -> TargetLinear:
    return TargetLinear(
        target=draw(values),
        step=draw(amounts),
        points_per_step=draw(amounts),
        direction=draw(st.sampled_from(Direction)),
        partial=draw(st.sampled_from(PartialStep)),
    )


def _consistent(outcome: Outcome, weight: Decimal) -> None:
    assert D(0) <= outcome.points <= weight
    assert outcome.points == outcome.max_points - outcome.deducted
    assert outcome.points == round_points(outcome.points)
    assert all(d.amount >= 0 for d in outcome.deductions)


@given(rule=target_rules(), value=values, weight=weights)
def test_target_linear_points_stay_within_the_weight(rule, value, weight):
    _consistent(rule.apply(value, weight), weight)


@given(rule=target_rules(), a=values, b=values, weight=weights)
def test_target_linear_is_monotonic(rule, a, b, weight):
    low, high = sorted((a, b))
    better, worse = (high, low) if rule.direction is Direction.HIGHER_BETTER else (low, high)
    assert rule.apply(better, weight).points >= rule.apply(worse, weight).points


@given(
    each=amounts,
    cap=st.none() | amounts,
    count=st.integers(min_value=0, max_value=40),
    weight=weights,
)
def test_per_occurrence_points_stay_within_the_weight(each, cap, count, weight):
    rule = PerOccurrence(points_per_occurrence=each, cap=cap)
    outcome = rule.apply(count, weight)
    _consistent(outcome, weight)
    assert outcome.deducted <= rule.limit(weight)
    assert len(outcome.deductions) == count


@st.composite
def band_rules(draw: st.DrawFn) -> tuple[Bands, Decimal]:
    weight = draw(st.decimals(min_value=D(1), max_value=D(40), places=1))
    bounds = sorted(draw(st.sets(values, min_size=1, max_size=5)), reverse=True)
    points = sorted(
        (draw(st.decimals(min_value=D(0), max_value=weight, places=1)) for _ in bounds), reverse=True
    )
    direction = draw(st.sampled_from(Direction))
    if direction is Direction.LOWER_BETTER:
        bounds.reverse()
    return Bands(
        bands=tuple(Band(b, p) for b, p in zip(bounds, points, strict=True)), direction=direction
    ), weight


@given(rule_weight=band_rules(), value=values)
def test_bands_points_stay_within_the_weight(rule_weight, value):
    rule, weight = rule_weight
    _consistent(rule.apply(value, weight), weight)


@given(count=st.integers(min_value=0, max_value=5), weight=weights)
def test_veto_points_are_all_or_nothing(count, weight):
    outcome = Veto().apply(count, weight)
    _consistent(outcome, weight)
    assert outcome.vetoed == (count > 0)
    assert outcome.points == (D(0) if count else round_points(weight))


@given(per_unit=amounts, value=values, cap=weights)
def test_bonus_stays_within_its_cap(per_unit, value, cap):
    outcome = Bonus(points_per_unit=per_unit).apply(value, cap)
    assert D(0) <= outcome.points <= cap
    assert outcome.deductions == ()


@given(
    each=amounts,
    cap=st.none() | amounts,
    count=st.integers(min_value=1, max_value=20),
    weight=weights,
    data=st.data(),
)
def test_an_exemption_restores_exactly_its_deductions_amount(each, cap, count, weight, data):
    outcome = PerOccurrence(points_per_occurrence=each, cap=cap).apply(count, weight)
    chosen = data.draw(st.sampled_from(outcome.deductions))
    after = apply_exemptions(outcome, [exemption(chosen.key)])
    assert after.points == outcome.points + chosen.amount
    assert [d.key for d in after.deductions] == [d.key for d in outcome.deductions if d.key != chosen.key]
    _consistent(after, weight)
