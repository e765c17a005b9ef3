"""The ticket workflow (pure): legal paths, refusals naming state and action, and the counters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kaoping.hotline.matching import Rule, similarity, suggest_unit
from kaoping.hotline.workflow import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Machine,
    Outcome,
    Satisfaction,
    State,
    TransitionError,
    check,
)

STEPS = [(a, o) for a in Action if a is not Action.ACCEPT for o in Outcome]


def run(*steps: Action | tuple[Action, Outcome]) -> Machine:
    machine = Machine()
    for step in steps:
        action, outcome = step if isinstance(step, tuple) else (step, Outcome.NONE)
        machine = machine.apply(action, outcome)
    return machine


def test_the_happy_path_closes_on_a_satisfied_revisit():
    m = run(
        Action.DISPATCH,
        Action.SIGN,
        Action.HANDLE,
        Action.REPLY,
        Action.UNIT_REVISIT,
        (Action.CENTRE_REVISIT, Satisfaction.SATISFIED.outcome),
    )
    assert m.state is State.CLOSED and check(m) == []


def test_basic_satisfaction_reopens_and_a_return_goes_through_review():
    m = run(
        Action.DISPATCH,
        Action.RETURN_REQUEST,
        (Action.RETURN_REVIEW, Outcome.APPROVED),
        Action.REDISPATCH,
        Action.SIGN,
        Action.HANDLE,
        Action.REPLY,
        Action.UNIT_REVISIT,
        (Action.CENTRE_REVISIT, Satisfaction.BASIC.outcome),
    )
    assert (m.state, m.returns, m.reopens, m.dispatches) == (State.REOPENED, 1, 1, 2)
    m = m.apply(Action.HANDLE)
    assert m.state is State.HANDLED


def test_a_rejected_return_leaves_the_ticket_with_the_unit():
    m = run(Action.DISPATCH, Action.RETURN_REQUEST, (Action.RETURN_REVIEW, Outcome.REJECTED))
    assert (m.state, m.returns, m.return_requests) == (State.SIGNED, 0, 1)


def test_a_refusal_names_the_state_and_the_action():
    with pytest.raises(TransitionError, match=r"cannot sign \(签收\) a ticket in state accepted \(已受理\)"):
        Machine().apply(Action.SIGN)
    with pytest.raises(TransitionError, match=r"allowed now: 申请退单, 督办, 签收$"):  # no extension pending
        run(Action.DISPATCH).apply(Action.HANDLE)
    with pytest.raises(TransitionError, match="the ticket is finished"):
        run(Action.MERGE).apply(Action.DISPATCH)
    with pytest.raises(TransitionError, match="no extension request is waiting"):
        run(Action.DISPATCH, Action.SIGN).apply(Action.EXTENSION_DECIDE, Outcome.APPROVED)


def test_a_pending_extension_is_withdrawn_at_closure():
    m = run(Action.DISPATCH, Action.SIGN, Action.EXTENSION_REQUEST, Action.HANDLE, Action.REPLY)
    assert m.extension_pending
    m = run(
        Action.DISPATCH,
        Action.SIGN,
        Action.EXTENSION_REQUEST,
        Action.HANDLE,
        Action.REPLY,
        Action.UNIT_REVISIT,
        Action.CLOSE,
    )
    assert (m.state, m.extension_pending, m.extensions, m.extension_requests) == (State.CLOSED, False, 0, 1)


def test_every_state_is_reachable_and_terminal_states_allow_nothing():
    reached = {State.ACCEPTED}
    frontier = [Machine()]
    while frontier:
        machine = frontier.pop()
        for action, outcome in STEPS:
            try:
                nxt = machine.apply(action, outcome)
            except TransitionError:
                continue
            if nxt.state not in reached:
                reached.add(nxt.state)
                frontier.append(nxt)
    assert reached == set(State)
    assert not [key for key in TRANSITIONS if key[0] in TERMINAL]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(STEPS), max_size=40), st.lists(st.integers(0, 4), max_size=40))
def test_no_sequence_of_actions_reaches_an_illegal_state(steps, levels):
    machine = Machine()
    for index, (action, outcome) in enumerate(steps):
        level = levels[index] if index < len(levels) and levels[index] else None
        try:
            nxt = machine.apply(action, outcome, level=level if action is Action.URGE else None)
        except TransitionError as exc:
            assert (exc.state, exc.action) == (machine.state, action)
            continue
        assert check(nxt) == [], (machine, action, outcome)
        machine = nxt


class TicketModel(RuleBasedStateMachine):
    """The machine against a model that counts by hand: returns are approved return reviews, reopens
    are centre revisits without 满意, urges are urges, extensions are approved decisions."""

    def __init__(self) -> None:
        super().__init__()
        self.machine = Machine()
        self.returns = self.reopens = self.urges = self.extensions = 0
        self.history: list[State] = [State.ACCEPTED]

    @rule(step=st.sampled_from(STEPS))
    def act(self, step: tuple[Action, Outcome]) -> None:
        action, outcome = step
        before = self.machine
        try:
            self.machine = before.apply(action, outcome)
        except TransitionError:
            assert (before.state, action, outcome) not in TRANSITIONS or action in (
                Action.EXTENSION_REQUEST,
                Action.EXTENSION_DECIDE,
            )
            return
        self.history.append(self.machine.state)
        if action is Action.RETURN_REVIEW and outcome is Outcome.APPROVED:
            self.returns += 1
        if action is Action.CENTRE_REVISIT and outcome is Outcome.UNSATISFIED:
            self.reopens += 1
        if action is Action.URGE:
            self.urges += 1
        if action is Action.EXTENSION_DECIDE and outcome is Outcome.APPROVED:
            self.extensions += 1

    @rule(satisfaction=st.sampled_from(list(Satisfaction)))
    def revisit(self, satisfaction: Satisfaction) -> None:
        self.act((Action.CENTRE_REVISIT, satisfaction.outcome))

    @invariant()
    def counted(self) -> None:
        m = self.machine
        assert (m.returns, m.reopens, m.urges, m.extensions) == (
            self.returns,
            self.reopens,
            self.urges,
            self.extensions,
        )
        assert self.history.count(State.REOPENED) == m.reopens
        assert self.history.count(State.RETURNED) == m.returns
        assert check(m) == []


TestTicketModel = TicketModel.TestCase
TestTicketModel.settings = settings(max_examples=200, stateful_step_count=40)


def test_the_dispatch_catalogue_prefers_more_keywords_then_a_named_category():
    rules = [
        Rule(1, 10, "", ("物业",)),
        Rule(2, 20, "complaint", ("物业",)),
        Rule(3, 30, "", ("物业", "漏水")),
        Rule(4, 40, "", ()),
    ]
    assert suggest_unit(rules, category="complaint", content="物业不管漏水").unit_id == 30  # type: ignore[union-attr]
    assert suggest_unit(rules, category="complaint", content="物业乱收费").unit_id == 20  # type: ignore[union-attr]
    assert suggest_unit(rules, category="request", content="物业乱收费").unit_id == 10  # type: ignore[union-attr]
    assert suggest_unit(rules, category="request", content="路灯").unit_id == 40  # type: ignore[union-attr]
    assert suggest_unit(rules[:3], category="request", content="路灯") is None


def test_similarity_of_texts():
    assert similarity("小区楼顶漏水", "小区楼顶漏水") == 1.0
    assert similarity("小区楼顶漏水没人管", "小区楼顶漏水，物业没人管") > 0.5
    assert similarity("小区楼顶漏水", "社保缴费标准") == 0.0
    assert similarity("", "x") == 0.0
