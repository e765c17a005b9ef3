"""R0.3 quarterly calibration: when a standard is proposed for raising or an indicator for remediation, and
how a rule is made stricter (pure, no database)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.assessment.calibration import (
    CalibrationSettings,
    PeriodShare,
    ProposalKind,
    calibrate,
    calibrate_indicator,
    cap_for,
    raise_rule,
)
from kaoping.assessment.rules import (
    Anchored,
    AnchoredLevel,
    Band,
    Bands,
    Direction,
    PerOccurrence,
    TargetLinear,
    Veto,
)

D = Decimal


def test_three_quarters_above_90_percent_propose_a_raise_of_5_percent():
    proposal = calibrate_indicator(
        "satisfaction",
        [("2025-Q4", 80, 100), ("2026-Q1", 46, 50), ("2026-Q2", 48, 50), ("2026-Q3", 193, 200)],
        label="满意率",
    )
    assert proposal is not None and proposal.kind is ProposalKind.RAISE_STANDARD
    assert proposal.periods == ("2026-Q1", "2026-Q2", "2026-Q3")
    assert proposal.shares == (D(92), D(96), D("96.5"))
    assert proposal.raise_by == D(5)
    assert proposal.explanation == (
        "满意率：最近 3 个考核期（2026-Q1、2026-Q2、2026-Q3）达标单位占比分别为 92%、96%、96.5%，均高于 90%，"
        "建议将标准提高 5%（须经新版指标体系审批后生效）"
    )


def test_exactly_90_percent_is_not_above_and_a_gap_breaks_the_run():
    assert calibrate_indicator("x", [("Q1", 95, 100), ("Q2", 90, 100), ("Q3", 95, 100)]) is None
    assert calibrate_indicator("x", [("Q1", 95, 100), ("Q2", 0, 0), ("Q3", 95, 100)]) is None
    assert calibrate_indicator("x", [("Q1", 95, 100), ("Q2", 95, 100)]) is None  # only two periods


def test_two_quarters_below_60_percent_open_a_remediation_item():
    proposal = calibrate_indicator("wait", [("2026-Q1", 70, 100), ("2026-Q2", 11, 20), ("2026-Q3", 5, 10)])
    assert proposal is not None and proposal.kind is ProposalKind.REMEDIATION
    assert proposal.periods == ("2026-Q2", "2026-Q3") and proposal.shares == (D(55), D(50))
    assert "低于 60%，建议启动专项整改" in proposal.explanation
    # One bad quarter is not yet persistent by default; a setting reacts to the latest period alone.
    assert calibrate_indicator("wait", [("2026-Q2", 70, 100), ("2026-Q3", 5, 10)]) is None
    latest = CalibrationSettings(remediate_periods=1)
    single = calibrate_indicator("wait", [("2026-Q3", 5, 10)], latest)
    assert single is not None and "最近 1 个考核期（2026-Q3）达标单位占比为 50%" in single.explanation


def test_settings_are_configurable_and_refused_outside_r0_3():
    strict = CalibrationSettings(raise_above=D(95), raise_periods=2, raise_by=D(10))
    proposal = calibrate_indicator("x", [("Q1", 96, 100), ("Q2", 97, 100)], strict)
    assert proposal is not None and proposal.raise_by == D(10) and "提高 10%" in proposal.explanation
    with pytest.raises(ValueError) as info:
        CalibrationSettings(raise_by=D(12), raise_periods=0, remediate_below=D(95))
    for part in ("提标幅度须在 5%–10% 之间", "raise_periods 须为不小于 1 的整数", "整改阈值须低于提标阈值"):
        assert part in str(info.value)


def test_calibrate_lists_every_bad_input_and_orders_proposals():
    with pytest.raises(ValueError) as info:
        calibrate({"a": [("Q1", 5, 3)], "b": [("Q1", -1, 3), ("Q1", 1, 3)]})
    text = str(info.value)
    assert "a Q1：达标单位数 5 多于参评单位数 3" in text
    assert "b Q1：met 须为非负整数" in text and "b Q1：考核期重复" in text
    history: dict[str, list[PeriodShare | tuple[str, int, int]]] = {
        "z": [PeriodShare("Q1", 99, 100), PeriodShare("Q2", 99, 100), PeriodShare("Q3", 99, 100)],
        "m": [("Q2", 1, 10), ("Q3", 2, 10)],
        "k": [("Q3", 75, 100)],
    }
    assert [(p.indicator, p.kind) for p in calibrate(history)] == [
        ("m", ProposalKind.REMEDIATION),
        ("z", ProposalKind.RAISE_STANDARD),
    ]


# --- raising rules --------------------------------------------------------------------------------


def linear(target: str, direction: Direction = Direction.HIGHER_BETTER) -> TargetLinear:
    return TargetLinear(target=D(target), step=D(1), points_per_step=D(2), direction=direction)


def test_a_higher_better_target_is_raised_and_capped_at_100_percent():
    change = raise_rule(linear("90"), cap=D(100), unit="%")
    assert change.changed and change.rule == linear("94.5")
    assert change.explanation == "目标由 90% 提高到 94.5%"
    capped = raise_rule(linear("98"), cap=cap_for("satisfaction_rate"), unit="%")
    assert capped.rule == linear("100")
    assert capped.explanation == "目标由 98% 提高到 100%（按 5% 计应为 102.9%，以上限 100% 为限）"


def test_a_target_at_the_cap_is_left_alone_and_says_so():
    change = raise_rule(linear("100"), cap=D(100), unit="%")
    assert not change.changed and change.rule == linear("100")
    assert change.explanation.startswith("目标已为 100%，达到上限，无法再提高，本次不提出调整")


def test_a_lower_better_target_is_lowered_never_below_zero():
    change = raise_rule(linear("20", Direction.LOWER_BETTER), by=D(10), unit="分钟")
    assert change.changed and change.rule == linear("18", Direction.LOWER_BETTER)
    assert change.explanation == "目标由 20 分钟降低到 18 分钟"
    zero = raise_rule(linear("0", Direction.LOWER_BETTER))
    assert not zero.changed and "无法再降低" in zero.explanation


def test_bands_move_together_unless_the_cap_would_merge_two():
    bands = Bands(bands=(Band(D(95), D(10)), Band(D(90), D(6))), direction=Direction.HIGHER_BETTER)
    change = raise_rule(bands, cap=D(100), unit="%")
    assert change.changed and [b.bound for b in change.rule.bands] == [D("99.75"), D("94.5")]  # type: ignore[union-attr]
    assert [b.points for b in change.rule.bands] == [D(10), D(6)]  # type: ignore[union-attr]
    assert change.explanation == "各档标准由 ≥95%、≥90% 调整为 ≥99.75%、≥94.5%"
    tight = Bands(bands=(Band(D(98), D(10)), Band(D(97), D(6))))
    merged = raise_rule(tight, cap=D(100), unit="%")
    assert not merged.changed and merged.rule is tight and "两档重合" in merged.explanation
    lower = Bands(bands=(Band(D(10), D(10)), Band(D(20), D(5))), direction=Direction.LOWER_BETTER)
    assert [b.bound for b in raise_rule(lower).rule.bands] == [D("9.5"), D(19)]  # type: ignore[union-attr]


def test_rules_without_a_standard_are_not_raised():
    for rule in (
        PerOccurrence(points_per_occurrence=D(2)),
        Veto(),
        Anchored(levels=(AnchoredLevel("A", "好", D(20)),)),
    ):
        change = raise_rule(rule)
        assert not change.changed and change.rule is rule and "没有可提高的达标标准" in change.explanation
    with pytest.raises(ValueError, match="5%–10%"):
        raise_rule(linear("90"), by=D(4))


def test_the_module_imports_no_django():
    code = (
        "import sys, kaoping.assessment.calibration; print(any(m.startswith('django') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- properties -----------------------------------------------------------------------------------

periods = st.lists(
    st.integers(min_value=0, max_value=50).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    max_size=8,
)


@given(periods, st.integers(min_value=1, max_value=5))
def test_fewer_periods_than_the_run_never_propose_a_raise(shares, run):
    history = [(f"P{i}", met, assessed) for i, (met, assessed) in enumerate(shares)]
    settings = CalibrationSettings(raise_periods=run)
    proposal = calibrate_indicator("x", history, settings)
    if len(history) < run:
        assert proposal is None or proposal.kind is ProposalKind.REMEDIATION
    if proposal is not None and proposal.kind is ProposalKind.RAISE_STANDARD:
        assert len(proposal.periods) == run and all(s > 90 for s in proposal.shares)
        assert proposal.periods == tuple(p for p, _, _ in history[-run:])
    if proposal is not None and proposal.kind is ProposalKind.REMEDIATION:
        assert all(s < 60 for s in proposal.shares)


targets = st.decimals(min_value=0, max_value=100, places=2)
by = st.decimals(min_value=5, max_value=10, places=1)


@given(targets, by)
def test_a_raised_percent_target_never_exceeds_the_cap_and_never_falls(target, by):
    change = raise_rule(TargetLinear(target=target, step=D(1), points_per_step=D(1)), by=by, cap=D(100))
    new = change.rule.target  # type: ignore[union-attr]
    assert target <= new <= 100
    assert change.changed == (new != target)
    if target == 100:
        assert not change.changed


@given(st.lists(targets, min_size=1, max_size=4, unique=True), by)
def test_raised_bands_stay_ordered_and_under_the_cap(bounds, by):
    ordered = sorted(bounds, reverse=True)
    rule = Bands(bands=tuple(Band(b, D(len(ordered) - i)) for i, b in enumerate(ordered)))
    change = raise_rule(rule, by=by, cap=D(100))
    new = [band.bound for band in change.rule.bands]  # type: ignore[union-attr]
    assert all(b <= 100 for b in new)
    assert new == sorted(new, reverse=True) and len(set(new)) == len(new)
    assert all(after >= before for after, before in zip(new, ordered, strict=True))


@given(st.decimals(min_value=0, max_value=10_000, places=2), by)
def test_a_lowered_target_stays_at_or_above_zero_and_never_rises(target, by):
    change = raise_rule(TargetLinear(target, D(1), D(1), Direction.LOWER_BETTER), by=by)
    new = change.rule.target  # type: ignore[union-attr]
    assert 0 <= new <= target
