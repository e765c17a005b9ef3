"""The hotline ticket (工单) workflow as an explicit state machine (R3.1, R3.4). Pure Python, no Django.

The centre accepts, dispatches, urges and revisits; the handling unit (承办单位) signs, handles, replies
and revisits first. The path of a ticket:

    accepted ──merge──▶ merged                                   (并单: a duplicate, terminal)
    accepted ──close──▶ closed                                   (answered on the call: 直接办结)
    accepted ──dispatch──▶ dispatched ──sign──▶ signed ──handle──▶ handled ──reply──▶ replied
    replied ──unit_revisit──▶ unit_revisited
    unit_revisited ──centre_revisit(满意)──▶ closed
    unit_revisited ──centre_revisit(基本满意 / 不满意)──▶ reopened ──handle──▶ handled …   (重办)
    unit_revisited ──close──▶ closed                             (closed after review without 满意)
    dispatched | signed ──return_request──▶ return_requested     (退单: the unit objects)
    return_requested ──return_review(approved)──▶ returned ──redispatch──▶ dispatched   (改派)
    return_requested ──return_review(rejected)──▶ signed          (the unit keeps it)

Two actions leave the state as it is and only move counters: ``urge`` (督办, on a ticket a unit holds,
with an escalation level that never goes down) and the extension pair (延期): ``extension_request``
while the unit works on it (signed or reopened, one request pending at a time) and
``extension_decide`` by the centre (approved or rejected). Reaching a terminal state withdraws a
pending extension request.

Every other (state, action, outcome) is refused with an error naming the state and the action.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class State(StrEnum):
    ACCEPTED = "accepted"
    MERGED = "merged"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    RETURN_REQUESTED = "return_requested"
    RETURNED = "returned"
    HANDLED = "handled"
    REPLIED = "replied"
    UNIT_REVISITED = "unit_revisited"
    REOPENED = "reopened"
    CLOSED = "closed"


class Action(StrEnum):
    ACCEPT = "accept"  # creates the ticket; never a transition
    MERGE = "merge"
    DISPATCH = "dispatch"
    SIGN = "sign"
    RETURN_REQUEST = "return_request"
    RETURN_REVIEW = "return_review"
    REDISPATCH = "redispatch"
    HANDLE = "handle"
    REPLY = "reply"
    UNIT_REVISIT = "unit_revisit"
    CENTRE_REVISIT = "centre_revisit"
    URGE = "urge"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_DECIDE = "extension_decide"
    CLOSE = "close"


class Outcome(StrEnum):
    """The decision an action carries, where it has one."""

    NONE = ""
    APPROVED = "approved"
    REJECTED = "rejected"
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


class Satisfaction(StrEnum):
    """The caller's judgement at a revisit."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    DISSATISFIED = "dissatisfied"

    @property
    def outcome(self) -> Outcome:
        """Only 满意 closes a ticket (R3.4); 基本满意 and 不满意 send it back."""
        return Outcome.SATISFIED if self is Satisfaction.SATISFIED else Outcome.UNSATISFIED


class Party(StrEnum):
    CENTRE = "centre"
    UNIT = "unit"


STATE_LABELS = {
    State.ACCEPTED: "已受理",
    State.MERGED: "已并单",
    State.DISPATCHED: "已转派",
    State.SIGNED: "已签收",
    State.RETURN_REQUESTED: "退单审核中",
    State.RETURNED: "已退回待改派",
    State.HANDLED: "已办理",
    State.REPLIED: "已答复",
    State.UNIT_REVISITED: "承办单位已回访",
    State.REOPENED: "重办",
    State.CLOSED: "已办结",
}
ACTION_LABELS = {
    Action.ACCEPT: "受理",
    Action.MERGE: "并单",
    Action.DISPATCH: "转派",
    Action.SIGN: "签收",
    Action.RETURN_REQUEST: "申请退单",
    Action.RETURN_REVIEW: "退单审核",
    Action.REDISPATCH: "改派",
    Action.HANDLE: "办理",
    Action.REPLY: "答复",
    Action.UNIT_REVISIT: "承办单位回访",
    Action.CENTRE_REVISIT: "中心回访",
    Action.URGE: "督办",
    Action.EXTENSION_REQUEST: "申请延期",
    Action.EXTENSION_DECIDE: "延期审批",
    Action.CLOSE: "办结",
}
SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASIC: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}
URGE_LEVEL_LABELS = {1: "一般督办", 2: "重点督办", 3: "挂牌督办"}
MAX_URGE_LEVEL = max(URGE_LEVEL_LABELS)

# Who acts: the centre (call takers, monitors, hall managers) or the handling unit's staff.
PARTY: dict[Action, Party] = {
    Action.ACCEPT: Party.CENTRE,
    Action.MERGE: Party.CENTRE,
    Action.DISPATCH: Party.CENTRE,
    Action.SIGN: Party.UNIT,
    Action.RETURN_REQUEST: Party.UNIT,
    Action.RETURN_REVIEW: Party.CENTRE,
    Action.REDISPATCH: Party.CENTRE,
    Action.HANDLE: Party.UNIT,
    Action.REPLY: Party.UNIT,
    Action.UNIT_REVISIT: Party.UNIT,
    Action.CENTRE_REVISIT: Party.CENTRE,
    Action.URGE: Party.CENTRE,
    Action.EXTENSION_REQUEST: Party.UNIT,
    Action.EXTENSION_DECIDE: Party.CENTRE,
    Action.CLOSE: Party.CENTRE,
}

_N = Outcome.NONE
# (state, action, outcome) → next state. The whole workflow; nothing else moves a ticket.
TRANSITIONS: dict[tuple[State, Action, Outcome], State] = {
    (State.ACCEPTED, Action.MERGE, _N): State.MERGED,
    (State.ACCEPTED, Action.CLOSE, _N): State.CLOSED,
    (State.ACCEPTED, Action.DISPATCH, _N): State.DISPATCHED,
    (State.DISPATCHED, Action.SIGN, _N): State.SIGNED,
    (State.DISPATCHED, Action.RETURN_REQUEST, _N): State.RETURN_REQUESTED,
    (State.SIGNED, Action.RETURN_REQUEST, _N): State.RETURN_REQUESTED,
    (State.RETURN_REQUESTED, Action.RETURN_REVIEW, Outcome.APPROVED): State.RETURNED,
    (State.RETURN_REQUESTED, Action.RETURN_REVIEW, Outcome.REJECTED): State.SIGNED,
    (State.RETURNED, Action.REDISPATCH, _N): State.DISPATCHED,
    (State.SIGNED, Action.HANDLE, _N): State.HANDLED,
    (State.REOPENED, Action.HANDLE, _N): State.HANDLED,
    (State.HANDLED, Action.REPLY, _N): State.REPLIED,
    (State.REPLIED, Action.UNIT_REVISIT, _N): State.UNIT_REVISITED,
    (State.UNIT_REVISITED, Action.CENTRE_REVISIT, Outcome.SATISFIED): State.CLOSED,
    (State.UNIT_REVISITED, Action.CENTRE_REVISIT, Outcome.UNSATISFIED): State.REOPENED,
    (State.UNIT_REVISITED, Action.CLOSE, _N): State.CLOSED,
    # Actions that leave the state as it is.
    **{
        (s, Action.URGE, _N): s
        for s in (State.DISPATCHED, State.SIGNED, State.HANDLED, State.REPLIED, State.REOPENED)
    },
    **{(s, Action.EXTENSION_REQUEST, _N): s for s in (State.SIGNED, State.REOPENED)},
    **{
        (s, Action.EXTENSION_DECIDE, o): s
        for s in State
        if s not in (State.MERGED, State.CLOSED)
        for o in (Outcome.APPROVED, Outcome.REJECTED)
    },
}
TERMINAL = frozenset({State.MERGED, State.CLOSED})
# States in which a handling unit holds the ticket (it is in the unit's inbox).
WITH_UNIT = frozenset(
    {
        State.DISPATCHED,
        State.SIGNED,
        State.RETURN_REQUESTED,
        State.HANDLED,
        State.REPLIED,
        State.UNIT_REVISITED,
        State.REOPENED,
    }
)


class TransitionError(ValueError):
    def __init__(self, state: State, action: Action, outcome: Outcome = Outcome.NONE, why: str = "") -> None:
        if not why:
            allowed = sorted({ACTION_LABELS[a] for (s, a, _o) in TRANSITIONS if s is state}, key=str)
            why = f"allowed now: {', '.join(allowed)}" if allowed else "the ticket is finished"
        shown = action.value + (f" ({outcome.value})" if outcome is not Outcome.NONE else "")
        super().__init__(
            f"cannot {shown} ({ACTION_LABELS[action]}) a ticket in state {state.value} "
            f"({STATE_LABELS[state]}): {why}"
        )
        self.state = state
        self.action = action
        self.outcome = outcome


class Machine(NamedTuple):
    """A ticket's workflow position and the counters the workflow keeps (a named tuple: the import
    replays hundreds of thousands of steps)."""

    state: State = State.ACCEPTED
    returns: int = 0  # approved returns (退单)
    return_requests: int = 0
    reopens: int = 0  # centre revisits that sent it back (重办)
    urges: int = 0
    urge_level: int = 0
    extensions: int = 0  # approved extensions
    extension_requests: int = 0
    extension_pending: bool = False
    dispatches: int = 0  # dispatch and redispatch

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def allowed(self) -> list[tuple[Action, Outcome]]:
        return [(a, o) for (s, a, o) in TRANSITIONS if s is self.state and _guard(self, a, o, None) is None]

    def apply(self, action: Action, outcome: Outcome = Outcome.NONE, *, level: int | None = None) -> Machine:
        """The machine after ``action``; raises TransitionError (and changes nothing) when refused."""
        target = TRANSITIONS.get((self.state, action, outcome))
        if target is None:
            labels = sorted({ACTION_LABELS[a] for a, _o in self.allowed()})
            hint = f"allowed now: {', '.join(labels)}" if labels else "the ticket is finished"
            raise TransitionError(self.state, action, outcome, hint)
        why = _guard(self, action, outcome, level)
        if why is not None:
            raise TransitionError(self.state, action, outcome, why)
        # Positional (a named tuple's _replace(**changes) cost more than the rest of a replay step).
        (
            _state,
            returns,
            return_requests,
            reopens,
            urges,
            urge_level,
            extensions,
            extension_requests,
            extension_pending,
            dispatches,
        ) = self
        if action is _URGE:
            urges += 1
            urge_level = max(urge_level, 1) if level is None else level
        elif action is _EXTENSION_REQUEST:
            extension_requests += 1
            extension_pending = True
        elif action is _EXTENSION_DECIDE:
            extension_pending = False
            if outcome is _APPROVED:
                extensions += 1
        elif action is _RETURN_REQUEST:
            return_requests += 1
        elif action is _RETURN_REVIEW and outcome is _APPROVED:
            returns += 1
        elif action is _CENTRE_REVISIT and outcome is _UNSATISFIED:
            reopens += 1
        elif action is _DISPATCH or action is _REDISPATCH:
            dispatches += 1
        if target in TERMINAL:
            extension_pending = False  # a pending request is withdrawn
        return _new_machine(
            (
                target,
                returns,
                return_requests,
                reopens,
                urges,
                urge_level,
                extensions,
                extension_requests,
                extension_pending,
                dispatches,
            )
        )


_new_machine = Machine._make
# Members as module globals for the hot path (an import replays hundreds of thousands of steps): a
# look-up of an Enum's member on its class costs ~70 ns, a global's ~10 ns.
_URGE, _EXTENSION_REQUEST, _EXTENSION_DECIDE = Action.URGE, Action.EXTENSION_REQUEST, Action.EXTENSION_DECIDE
_RETURN_REQUEST, _RETURN_REVIEW = Action.RETURN_REQUEST, Action.RETURN_REVIEW
_CENTRE_REVISIT, _DISPATCH, _REDISPATCH = Action.CENTRE_REVISIT, Action.DISPATCH, Action.REDISPATCH
_APPROVED, _UNSATISFIED = Outcome.APPROVED, Outcome.UNSATISFIED


def _guard(machine: Machine, action: Action, outcome: Outcome, level: int | None) -> str | None:
    """Conditions beyond the state: why the step is refused, or None."""
    if action is _EXTENSION_REQUEST and machine.extension_pending:
        return "an extension request is already waiting for the centre's decision"
    if action is _EXTENSION_DECIDE and not machine.extension_pending:
        return "no extension request is waiting for a decision"
    if action is _URGE and level is not None:
        if not 1 <= level <= MAX_URGE_LEVEL:
            return f"urge level {level} is not between 1 and {MAX_URGE_LEVEL}"
        if level < machine.urge_level:
            return f"urge level {level} is below the level already reached ({machine.urge_level})"
    return None


def transition(
    machine: Machine, action: Action, outcome: Outcome = Outcome.NONE, *, level: int | None = None
) -> Machine:
    return machine.apply(action, outcome, level=level)


def check(machine: Machine) -> list[str]:
    """Invariants every reachable machine keeps (the property tests assert an empty list)."""
    problems = []
    if not isinstance(machine.state, State):
        problems.append(f"unknown state {machine.state!r}")
    if machine.terminal and machine.extension_pending:
        problems.append("a finished ticket has a pending extension request")
    if machine.returns > machine.return_requests:
        problems.append("more returns than return requests")
    if machine.extensions > machine.extension_requests:
        problems.append("more extensions than extension requests")
    if machine.extension_requests - machine.extensions < int(machine.extension_pending):
        problems.append("a pending request not counted")
    if machine.urges and not 1 <= machine.urge_level <= MAX_URGE_LEVEL:
        problems.append(f"urge level {machine.urge_level} after {machine.urges} urge(s)")
    if not machine.urges and machine.urge_level:
        problems.append("an urge level without urges")
    if machine.state is State.RETURNED:
        expected = {machine.returns}
    elif machine.state in (State.ACCEPTED, State.MERGED):
        expected = {0}
    elif machine.state is State.CLOSED:
        expected = {machine.returns + 1} | ({0} if machine.returns == 0 else set())
    else:
        expected = {machine.returns + 1}
    if machine.dispatches not in expected:
        problems.append(
            f"{machine.dispatches} dispatch(es) with {machine.returns} return(s) in {machine.state}"
        )
    if machine.state is State.REOPENED and not machine.reopens:
        problems.append("reopened without a reopen counted")
    return problems
