"""The rectification workflow as an explicit state machine, and its measures. Pure Python.

A bad rating is the first kind of rectification; complaints and inspections will be others, with the
same states. The path of a bad rating:

    revisit_pending ──revisit──▶ triage_pending            (anonymous ratings start at triage_pending)
    triage_pending ──fix_now──▶ verdict_pending            (fixed while revisiting)
    triage_pending ──complex──▶ rectifying ──rectify──▶ verdict_pending
    triage_pending ──no_basis──▶ closed                    (no legal basis: explained to the citizen)
    verdict_pending ──verdict──▶ closed                    (满意 / 基本满意 / 不满意)

Every other (state, action) pair is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    REVISIT_PENDING = "revisit_pending"
    TRIAGE_PENDING = "triage_pending"
    RECTIFYING = "rectifying"
    VERDICT_PENDING = "verdict_pending"
    CLOSED = "closed"


class Action(StrEnum):
    REVISIT = "revisit"
    FIX_NOW = "fix_now"
    COMPLEX = "complex"
    NO_BASIS = "no_basis"
    RECTIFY = "rectify"
    VERDICT = "verdict"


class Triage(StrEnum):
    FIX_NOW = "fix_now"
    COMPLEX = "complex"
    NO_BASIS = "no_basis"


class Verdict(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    DISSATISFIED = "dissatisfied"


STATE_LABELS = {
    State.REVISIT_PENDING: "待回访",
    State.TRIAGE_PENDING: "待研判",
    State.RECTIFYING: "整改中",
    State.VERDICT_PENDING: "待评价整改",
    State.CLOSED: "已办结",
}
ACTION_LABELS = {
    Action.REVISIT: "回访",
    Action.FIX_NOW: "立行立改",
    Action.COMPLEX: "限期整改",
    Action.NO_BASIS: "无法律依据，解释说明",
    Action.RECTIFY: "整改完成",
    Action.VERDICT: "群众评价整改",
}
VERDICT_LABELS = {Verdict.SATISFIED: "满意", Verdict.BASIC: "基本满意", Verdict.DISSATISFIED: "不满意"}

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.REVISIT_PENDING, Action.REVISIT): State.TRIAGE_PENDING,
    (State.TRIAGE_PENDING, Action.FIX_NOW): State.VERDICT_PENDING,
    (State.TRIAGE_PENDING, Action.COMPLEX): State.RECTIFYING,
    (State.TRIAGE_PENDING, Action.NO_BASIS): State.CLOSED,
    (State.RECTIFYING, Action.RECTIFY): State.VERDICT_PENDING,
    (State.VERDICT_PENDING, Action.VERDICT): State.CLOSED,
}


class TransitionError(ValueError):
    def __init__(self, state: State, action: Action) -> None:
        allowed = [ACTION_LABELS[a] for (s, a) in TRANSITIONS if s is state]
        hint = f"; allowed now: {', '.join(allowed)}" if allowed else "; the follow-up is closed"
        super().__init__(
            f"cannot {action.value} ({ACTION_LABELS[action]}) a follow-up in state {state.value}{hint}"
        )
        self.state = state
        self.action = action


def initial_state(*, real_name: bool) -> State:
    """Only a real-name rating can be revisited; an anonymous one goes straight to triage."""
    return State.REVISIT_PENDING if real_name else State.TRIAGE_PENDING


def transition(state: State, action: Action) -> State:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state, action) from None


def allowed_actions(state: State) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s is state]


def check_rectify_days(days: int, *, low: int, high: int) -> None:
    if not low <= days <= high:
        raise ValueError(f"a rectification limit of {days} working days is outside {low}–{high}")


@dataclass(frozen=True)
class FollowUpFacts:
    """What the measures need of one follow-up."""

    real_name: bool
    revisited: bool
    revisited_on_time: bool
    triage: Triage | None
    rectified: bool
    verdict: Verdict | None


@dataclass(frozen=True)
class Measures:
    bad_ratings: int
    real_name: int
    revisited: int
    revisited_on_time: int
    to_rectify: int
    rectified: int
    verdicts: int
    satisfied_verdicts: int

    @property
    def revisit_rate(self) -> float | None:
        """Revisited share of real-name bad ratings (target 100%)."""
        return self.revisited / self.real_name if self.real_name else None

    @property
    def rectification_rate(self) -> float | None:
        """Rectified share of the follow-ups triaged as rectifiable (fix at once or complex)."""
        return self.rectified / self.to_rectify if self.to_rectify else None

    @property
    def rectification_satisfaction(self) -> float | None:
        """Share of the citizens' verdicts on a fix that were 满意 or 基本满意."""
        return self.satisfied_verdicts / self.verdicts if self.verdicts else None


def measures(facts: Iterable[FollowUpFacts]) -> Measures:
    rows = list(facts)
    return Measures(
        bad_ratings=len(rows),
        real_name=sum(f.real_name for f in rows),
        revisited=sum(f.real_name and f.revisited for f in rows),
        revisited_on_time=sum(f.real_name and f.revisited_on_time for f in rows),
        to_rectify=sum(f.triage in (Triage.FIX_NOW, Triage.COMPLEX) for f in rows),
        rectified=sum(f.rectified for f in rows),
        verdicts=sum(f.verdict is not None for f in rows),
        satisfied_verdicts=sum(f.verdict in (Verdict.SATISFIED, Verdict.BASIC) for f in rows),
    )
