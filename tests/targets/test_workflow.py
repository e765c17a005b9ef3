"""The target table's state machine and the validation of its rows (pure, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.assessment.metric_names import KNOWN_METRIC_NAMES
from kaoping.targets.workflow import (
    ACTION_PARTY,
    Action,
    Party,
    RowSpec,
    State,
    TransitionError,
    allowed_actions,
    clean_rows,
    editable,
    row_problems,
    transition,
)


def test_the_path_draft_signed_returned_edited_signed_approved():
    state = State.DRAFT
    for action in (Action.EDIT, Action.SIGN, Action.RETURN, Action.EDIT, Action.SIGN, Action.APPROVE):
        state = transition(state, action)
    assert state is State.APPROVED


def test_a_returned_table_may_be_signed_again_as_it_stands():
    assert transition(State.RETURNED, Action.SIGN) is State.SIGNED


def test_an_approved_table_is_immutable_and_says_how_to_change_it():
    for action in Action:
        with pytest.raises(TransitionError, match="new version"):
            transition(State.APPROVED, action)


def test_a_signed_table_cannot_be_edited():
    with pytest.raises(TransitionError, match="return it"):
        transition(State.SIGNED, Action.EDIT)
    assert not editable(State.SIGNED) and editable(State.DRAFT) and editable(State.RETURNED)


def test_the_head_and_the_director_each_have_their_own_actions():
    assert allowed_actions(State.SIGNED, Party.HEAD) == []
    assert allowed_actions(State.SIGNED, Party.DIRECTOR) == [Action.APPROVE, Action.RETURN]
    assert allowed_actions(State.DRAFT, Party.DIRECTOR) == []
    assert {ACTION_PARTY[a] for a in (Action.EDIT, Action.SIGN)} == {Party.HEAD}


@given(st.lists(st.sampled_from(list(Action)), max_size=20))
def test_no_sequence_of_actions_reaches_an_illegal_state(actions):
    """Refused steps change nothing; approval comes only from a signed table; approved stays approved;
    whenever a table is signed, the last step was a signature."""
    state = State.DRAFT
    for action in actions:
        before = state
        try:
            state = transition(state, action)
        except TransitionError as exc:
            assert exc.state is before
            continue
        assert state in State
        if state is State.APPROVED:
            assert before is State.SIGNED and action is Action.APPROVE
        if state is State.SIGNED:
            assert action is Action.SIGN and before in (State.DRAFT, State.RETURNED)
        if state is State.RETURNED:
            assert before is State.SIGNED
        assert before is not State.APPROVED  # nothing leaves approved


# --- rows -----------------------------------------------------------------------------------------


def row(indicator: str = "满意率", weight: object = "50", **fields: str) -> RowSpec:
    values = {"target": "提升群众满意度", "standard": "≥98%", "metric": ""} | fields
    return RowSpec(indicator=indicator, weight=weight, **values)  # type: ignore[arg-type]


def test_good_rows_are_cleaned():
    rows, problems = clean_rows(
        [row(" 满意率 ", "60.5", metric="satisfaction_rate"), row("办结率", "39.5")], KNOWN_METRIC_NAMES
    )
    assert problems == []
    assert rows[0].indicator == "满意率" and rows[0].weight == Decimal("60.5")
    assert rows[0].metric == "satisfaction_rate" and rows[1].metric == ""


def test_every_problem_is_listed_at_once():
    problems = row_problems(
        [
            row("满意率", "40", target="", standard=" "),
            row("满 意率".replace(" ", ""), "0"),  # a duplicate indicator and a zero weight
            row("办结率", "abc", metric="no_such_metric"),
            row("", "-5"),
        ],
        KNOWN_METRIC_NAMES,
    )
    text = [str(p) for p in problems]
    assert "第 1 行：目标不能为空" in text
    assert "第 1 行：标准不能为空" in text
    assert "第 2 行：权重须大于 0（现为 0）" in text
    assert "第 2 行：指标“满意率”与第 1 行重复" in text
    assert "第 3 行：权重 'abc' 不是数字" in text
    assert "第 3 行：未知的指标项 'no_such_metric'" in text
    assert "第 4 行：指标不能为空" in text
    assert "第 4 行：权重须大于 0（现为 -5）" in text
    # The sum is not reported over an unreadable weight (it would say nothing new).
    assert not any("合计" in t for t in text)


def test_weights_must_add_up_to_100():
    problems = row_problems([row("满意率", "60"), row("办结率", "30")], KNOWN_METRIC_NAMES)
    assert [str(p) for p in problems] == ["目标责任表：各行权重合计须为 100，现为 90"]


def test_duplicates_ignore_case_and_spacing_and_empty_tables_are_refused():
    problems = row_problems([row("IT 故障修复", "50"), row("it  故障修复", "50")], KNOWN_METRIC_NAMES)
    assert [p.field for p in problems] == ["indicator"]
    assert [str(p) for p in row_problems([], KNOWN_METRIC_NAMES)] == ["目标责任表：至少需要一行目标"]


def test_weights_have_at_most_two_decimals_and_text_its_width():
    problems = row_problems(
        [row("满意率", "99.995"), row("办结率", "0.005", standard="x" * 201)], KNOWN_METRIC_NAMES
    )
    fields = sorted((p.row, p.field) for p in problems)
    assert fields == [(1, "weight"), (2, "standard"), (2, "weight")]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["满意率", "办结率", "", "  "]),
            st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=4)),
        ),
        max_size=6,
    )
)
def test_validation_never_raises_and_clean_means_valid(pairs):
    rows = [row(indicator, weight) for indicator, weight in pairs]
    cleaned, problems = clean_rows(rows, KNOWN_METRIC_NAMES)
    assert len(cleaned) == len(rows)
    if not problems:
        assert sum(r.weight for r in cleaned) == 100
        assert all(r.weight > 0 and r.indicator for r in cleaned)
        assert len({r.indicator for r in cleaned}) == len(cleaned)
