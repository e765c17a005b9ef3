"""The pure maths of multi-rater reviews: weights (R2.4), group means, weighted scores, outliers (R2.10)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kaoping.reviews.scoring import (
    WEIGHT_RANGES,
    GroupSummary,
    Item,
    OutlierRule,
    RaterGroup,
    RaterResponse,
    answer_problems,
    deviations,
    group_means,
    level_points,
    outlier_flags,
    response_mean,
    to_hundred,
    weight_problems,
    weighted_score,
)

SU, SUP, PEER, SELF, THIRD = (
    RaterGroup.SERVICE_USERS,
    RaterGroup.SUPERIORS,
    RaterGroup.PEERS,
    RaterGroup.SELF,
    RaterGroup.THIRD_PARTY,
)
R24 = {SU: Decimal(50), SUP: Decimal(25), PEER: Decimal(10), SELF: Decimal(5), THIRD: Decimal(10)}


def pct(weights: Mapping[RaterGroup, Decimal | int]) -> dict[str, Decimal]:
    return {group.value: Decimal(weight) for group, weight in weights.items()}


# --- weights -----------------------------------------------------------------------------------------


def test_the_seed_example_weights_are_valid():
    assert weight_problems(pct(R24)) == []


def test_every_weight_problem_is_listed_at_once():
    problems = weight_problems({"service_users": Decimal(70), "superiors": Decimal(10), "self": Decimal(12)})
    text = [str(p) for p in problems]
    assert text == [
        "service_users (服务对象) weight 70% is outside 40–60% (R2.4)",
        "superiors (上级领导) weight 10% is outside 20–30% (R2.4)",
        "peers (同级部门) weight 0% is outside 10–20% (R2.4)",
        "self (自评) weight 12% is outside 5–10% (R2.4)",
        "third_party (第三方) weight 0% is outside 5–15% (R2.4)",
        "the weights add up to 92%, not 100%",
    ]


def test_an_unknown_group_is_a_problem_and_does_not_count_in_the_total():
    weights = pct(R24) | {"citizens": Decimal(10)}
    assert [str(p) for p in weight_problems(weights)] == [
        "'citizens' is not a rater group (service_users, superiors, peers, self, third_party)"
    ]


def test_fractional_weights_are_fine_when_they_add_up():
    weights = pct(R24) | {"service_users": Decimal("47.5"), "third_party": Decimal("12.5")}
    assert weight_problems(weights) == []


weight_values = st.integers(min_value=0, max_value=100)


@given(st.fixed_dictionaries({group.value: weight_values for group in RaterGroup}))
def test_weights_are_valid_exactly_when_every_group_is_in_range_and_they_add_up(weights):
    problems = weight_problems({k: Decimal(v) for k, v in weights.items()})
    out_of_range = {
        g for g in RaterGroup if not WEIGHT_RANGES[g][0] <= weights[g.value] <= WEIGHT_RANGES[g][1]
    }
    assert {p.group for p in problems if p.group is not None} == out_of_range
    assert any(p.kind == "total" for p in problems) == (sum(weights.values()) != 100)
    assert (problems == []) == (not out_of_range and sum(weights.values()) == 100)


@given(
    st.integers(20, 30),
    st.integers(10, 20),
    st.integers(5, 10),
    st.integers(5, 15),
)
def test_weights_inside_every_range_that_add_up_have_no_problem(superiors, peers, self_, third):
    service_users = 100 - superiors - peers - self_ - third
    assume(40 <= service_users <= 60)
    weights = {SU: service_users, SUP: superiors, PEER: peers, SELF: self_, THIRD: third}
    assert weight_problems(pct(weights)) == []


# --- scale, means ------------------------------------------------------------------------------------


def test_the_scale_maps_levels_1_to_5_onto_0_to_100():
    assert [to_hundred(level) for level in (1, 2, 3, 4, 5)] == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_anchored_levels_give_the_seeds_innovation_points():
    # R2.6: innovation 20 / 10 / 0 are the anchored levels 5 / 3 / 1.
    assert [level_points(level, 20) for level in (5, 3, 1)] == [20.0, 10.0, 0.0]
    with pytest.raises(ValueError):
        level_points(6, 20)


def test_items_show_their_anchors_best_level_first():
    item = Item("创新工作", {5: "被上级推广（20分）", 3: "本单位落地（10分）", 1: "无创新（0分）"})
    assert [(lv.level, lv.label, lv.anchor) for lv in item.levels()] == [
        (5, "很好", "被上级推广（20分）"),
        (4, "较好", ""),
        (3, "一般", "本单位落地（10分）"),
        (2, "较差", ""),
        (1, "很差", "无创新（0分）"),
    ]


def test_a_response_mean_refuses_levels_outside_1_to_5():
    assert response_mean([5, 4, 3]) == 4.0
    for bad in ([6], [0, 3], [], [True]):
        with pytest.raises(ValueError):
            response_mean(bad)


def test_answer_problems_list_missing_unknown_and_out_of_range_answers():
    assert answer_problems([10, 11, 12], {10: 5, 11: 1, 12: 3}) == []
    assert answer_problems([10, 11, 12], {10: 6, 12: 0, 99: 3}) == [
        "item 1: 6 is not a level from 1 to 5",
        "item 2 is not answered",
        "item 3: 0 is not a level from 1 to 5",
        "item id 99 is not in this questionnaire",
    ]


def test_group_means_weigh_each_respondent_once():
    responses = [
        RaterResponse(SU, (5, 5, 5, 5)),
        RaterResponse(SU, (3, 3, 3, 3)),
        RaterResponse(SU, (4, 4, 1, 1)),
        RaterResponse(PEER, (2, 4, 3, 3)),
    ]
    means = group_means(responses)
    assert means[SU].count == 3 and means[SU].mean == pytest.approx((5 + 3 + 2.5) / 3)
    assert means[PEER] == GroupSummary(1, 3.0)
    assert SELF not in means


score_lists = st.lists(st.integers(1, 5), min_size=1, max_size=8)


@given(st.lists(st.tuples(st.sampled_from(list(RaterGroup)), score_lists), max_size=30), st.randoms())
def test_group_means_do_not_depend_on_the_order_of_responses(rows, rnd):
    responses = [RaterResponse(group, tuple(scores)) for group, scores in rows]
    shuffled = responses[:]
    rnd.shuffle(shuffled)
    assert group_means(shuffled) == group_means(responses)


# --- weighted score ----------------------------------------------------------------------------------


def test_worked_example_all_groups_shown():
    summaries = {
        SU: GroupSummary(10, 4.0),  # 75
        SUP: GroupSummary(3, 4.5),  # 87.5
        PEER: GroupSummary(6, 3.0),  # 50
        SELF: GroupSummary(1, 5.0),  # 100
        THIRD: GroupSummary(5, 3.5),  # 62.5
    }
    minimums = {SU: 5, SUP: 3, PEER: 5, SELF: 1, THIRD: 5}
    result = weighted_score(summaries, R24, minimums)
    # 0.5 × 75 + 0.25 × 87.5 + 0.1 × 50 + 0.05 × 100 + 0.1 × 62.5
    assert result.score == pytest.approx(75.625)
    assert not result.incomplete and result.withheld == ()


def test_worked_example_a_group_below_its_minimum_is_withheld_and_the_weights_renormalised():
    summaries = {
        SU: GroupSummary(10, 4.0),
        SUP: GroupSummary(3, 4.5),
        PEER: GroupSummary(6, 3.0),
        SELF: GroupSummary(1, 5.0),
        THIRD: GroupSummary(4, 1.0),  # four third-party raters: fewer than 5
    }
    result = weighted_score(summaries, R24, {SU: 5, SUP: 3, PEER: 5, SELF: 1, THIRD: 5})
    assert result.incomplete and result.withheld == (THIRD,)
    # (37.5 + 21.875 + 5 + 5) / 0.9: the third party's very low mean plays no part.
    assert result.score == pytest.approx(69.375 / 0.9)
    assert result.used_weights[SU] == pytest.approx(50 / 90)
    assert THIRD not in result.used_weights


def test_no_group_reaching_its_minimum_gives_no_score():
    result = weighted_score({SU: GroupSummary(4, 5.0)}, R24, 5)
    assert result.score is None and result.used_weights == {}
    assert result.withheld == (SU, SUP, PEER, SELF, THIRD)


summaries_strategy = st.dictionaries(
    st.sampled_from(list(RaterGroup)),
    st.builds(GroupSummary, st.integers(1, 40), st.floats(1.0, 5.0)),
)
weights_strategy = st.dictionaries(
    st.sampled_from(list(RaterGroup)),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
)
minimums_strategy = st.fixed_dictionaries({group: st.integers(1, 10) for group in RaterGroup})


@given(summaries_strategy, weights_strategy, minimums_strategy)
def test_the_weighted_score_stays_within_0_and_100_and_shares_add_up_to_1(summaries, weights, minimums):
    result = weighted_score(summaries, weights, minimums)
    if result.score is None:
        assert result.used_weights == {}
    else:
        assert 0.0 <= result.score <= 100.0
        assert sum(result.used_weights.values()) == pytest.approx(1.0)
        assert all(summaries[g].count >= minimums[g] for g in result.used_weights)
    shown_or_withheld = set(result.used_weights) | set(result.withheld)
    assert shown_or_withheld == {g for g, w in weights.items() if w > 0}


@given(summaries_strategy, minimums_strategy, st.floats(1.0, 5.0))
def test_a_withheld_groups_answers_do_not_move_the_score(summaries, minimums, other_mean):
    result = weighted_score(summaries, R24, minimums)
    for group in result.withheld:
        changed = dict(summaries)
        changed[group] = GroupSummary(max(0, minimums[group] - 1), other_mean)
        assert weighted_score(changed, R24, minimums).score == result.score


@given(summaries_strategy, minimums_strategy, st.sampled_from(list(RaterGroup)), st.floats(0.0, 4.0))
def test_a_better_group_mean_never_lowers_the_score(summaries, minimums, group, gain):
    before = weighted_score(summaries, R24, minimums)
    assume(group in before.used_weights)
    better = dict(summaries)
    better[group] = GroupSummary(summaries[group].count, min(5.0, summaries[group].mean + gain))
    after = weighted_score(better, R24, minimums)
    assert after.score is not None and before.score is not None
    assert after.score >= before.score - 1e-9


@given(st.integers(1, 5), st.integers(5, 50))
def test_unanimous_raters_score_their_level(level, count):
    summaries = {group: GroupSummary(count, float(level)) for group in RaterGroup}
    assert weighted_score(summaries, R24, 5).score == pytest.approx(to_hundred(level))


# --- outliers ----------------------------------------------------------------------------------------


def test_a_lone_dissenter_among_satisfied_raters_is_flagged():
    assert outlier_flags([4.0, 4.2, 3.8, 4.0, 1.0]) == [False, False, False, False, True]
    lone = deviations([4.0, 4.2, 3.8, 4.0, 1.0])[-1]
    assert lone.others_mean == pytest.approx(4.0) and lone.deviation == pytest.approx(3.0)


def test_a_plain_two_sd_rule_could_not_flag_anyone_in_a_group_of_five():
    # Samuelson: counting the rater in the standard deviation, no one in 5 lies beyond 4 / √5 = 1.79 SD.
    values = [4.0, 4.0, 4.0, 4.0, 1.0]
    z = abs(values[-1] - statistics.fmean(values)) / statistics.stdev(values)
    assert z == pytest.approx(4 / 5**0.5) and z < 2
    assert outlier_flags(values) == [False, False, False, False, True]  # leave-one-out does flag


def test_a_split_group_flags_no_one():
    assert outlier_flags([1.0, 5.0, 1.0, 5.0, 1.0, 5.0]) == [False] * 6
    assert outlier_flags([1.0, 5.0, 3.0, 1.0, 5.0]) == [False] * 5


def test_a_small_deviation_in_a_tight_group_is_not_flagged():
    # 3.0 among four 4.0s is 1 point off: far in SD terms, but under the 1.5-point floor.
    assert outlier_flags([4.0, 4.0, 4.0, 4.0, 3.0]) == [False] * 5
    assert outlier_flags([4.0, 4.0, 4.0, 4.0, 3.0], OutlierRule(points=0.5)) == [False] * 4 + [True]


def test_groups_too_small_to_tell_are_not_checked():
    assert outlier_flags([1.0, 5.0]) == [False, False]
    assert outlier_flags([5.0, 5.0, 1.0]) == [False, False, True]
    with pytest.raises(ValueError):
        OutlierRule(min_group=2)
    with pytest.raises(ValueError):
        OutlierRule(points=-1)


means = st.floats(1.0, 5.0)
rules = st.builds(OutlierRule, st.floats(0.0, 4.0), st.floats(0.0, 4.0), st.integers(3, 6))


@given(means, st.integers(1, 40), rules)
def test_a_unanimous_group_has_no_outliers(value, count, rule):
    assert outlier_flags([value] * count, rule) == [False] * count


@given(st.lists(means, max_size=25), rules, st.randoms())
def test_flags_follow_the_raters_whatever_their_order(values, rule, rnd):
    order = list(range(len(values)))
    rnd.shuffle(order)
    flags = outlier_flags(values, rule)
    assert outlier_flags([values[i] for i in order], rule) == [flags[i] for i in order]


@given(st.lists(means, min_size=3, max_size=25), rules)
def test_a_flagged_rater_is_beyond_both_thresholds(values, rule):
    for d in deviations(values, rule):
        if d.flagged:
            assert d.deviation is not None and d.others_sd is not None
            assert d.deviation > rule.points and d.deviation > rule.sd * d.others_sd


@given(st.lists(st.floats(3.5, 4.5), min_size=4, max_size=20), st.sampled_from([1.0, 1.2]))
def test_one_very_low_rater_among_content_ones_is_flagged(content, low):
    rnd = random.Random(len(content))
    values = [*content, low]
    rnd.shuffle(values)
    flags = outlier_flags(values)
    assert [v for v, f in zip(values, flags, strict=True) if f] == [low]
