"""The rectification workflow: legal paths, refused steps, and the measures (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.followup.workflow import (
    Action,
    FollowUpFacts,
    State,
    TransitionError,
    Triage,
    Verdict,
    check_rectify_days,
    initial_state,
    measures,
    transition,
)


def test_the_complex_path_of_a_real_name_bad_rating():
    state = initial_state(real_name=True)
    for action in (Action.REVISIT, Action.COMPLEX, Action.RECTIFY, Action.VERDICT):
        state = transition(state, action)
    assert state is State.CLOSED


def test_an_anonymous_rating_cannot_be_revisited():
    state = initial_state(real_name=False)
    assert state is State.TRIAGE_PENDING
    with pytest.raises(TransitionError, match="allowed now: 立行立改, 限期整改"):
        transition(state, Action.REVISIT)


@given(st.lists(st.sampled_from(list(Action)), max_size=12), st.booleans())
def test_no_sequence_of_actions_leaves_the_state_machine(actions, real_name):
    """Whatever is tried, refused steps change nothing, and the state only moves forward."""
    order = list(State)
    state = initial_state(real_name=real_name)
    for action in actions:
        try:
            new = transition(state, action)
        except TransitionError as exc:
            assert exc.state is state
            continue
        assert order.index(new) > order.index(state)
        state = new
    assert state in State
    if state is State.CLOSED:
        with pytest.raises(TransitionError, match="closed"):
            transition(state, Action.VERDICT)


def test_rectification_days_must_lie_in_the_configured_range():
    check_rectify_days(5, low=5, high=15)
    check_rectify_days(15, low=5, high=15)
    with pytest.raises(ValueError, match="outside 5–15"):
        check_rectify_days(16, low=5, high=15)


def facts(
    real_name: bool = True,
    revisited: bool = True,
    on_time: bool = True,
    triage: Triage | None = Triage.FIX_NOW,
    rectified: bool = True,
    verdict: Verdict | None = None,
) -> FollowUpFacts:
    return FollowUpFacts(real_name, revisited, on_time, triage, rectified, verdict)


def test_measures_count_only_real_name_ratings_for_the_revisit_rate():
    m = measures(
        [
            facts(verdict=Verdict.SATISFIED),
            facts(revisited=False, on_time=False, triage=None, rectified=False),
            facts(real_name=False, revisited=False, on_time=False, triage=Triage.NO_BASIS, rectified=False),
            facts(triage=Triage.COMPLEX, rectified=False),
            facts(triage=Triage.COMPLEX, verdict=Verdict.DISSATISFIED),
        ]
    )
    assert (m.bad_ratings, m.real_name, m.revisited) == (5, 4, 3)
    assert m.revisit_rate == 0.75
    assert m.rectification_rate == 2 / 3  # no-basis is not a rectification
    assert m.rectification_satisfaction == 0.5
    assert measures([]).revisit_rate is None
