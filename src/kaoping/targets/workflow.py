"""Target tables (目标责任表, R1.4) and assessment tasks (考核任务, R1.6) as explicit state machines, and the
validation of a table's rows. Pure Python, no Django.

A target table, per department and year:

    draft ──edit──▶ draft                        (the department head drafts and revises)
    draft ──sign──▶ signed                        (the department head signs: the rows are fixed)
    signed ──approve──▶ approved                  (the centre director approves: final)
    signed ──return──▶ returned                   (the director sends it back, with a reason)
    returned ──edit──▶ draft                      (the head revises …)
    returned ──sign──▶ signed                     (… or signs again as it stands, e.g. after explaining)

A signed table cannot be edited (the signature covers its rows); an approved one is immutable: a change is a
new version of the table (a new draft copying the rows), approved in its turn. Every other (state, action)
pair is refused with the reason. Each action belongs to one party: the head drafts, edits and signs, the
director approves and returns.

An assessment task: ``issued ──close──▶ closed``; departments submit their data while it is issued.

**Rows.** ``row_problems`` lists every problem of a table's rows at once (empty fields, weight not above 0,
weights not adding up to 100, an indicator named twice, an unknown metric), each with its row number.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

TOTAL_WEIGHT = Decimal(100)
MAX_TEXT = 200  # the longest target, indicator or standard a row may hold (the column's width)
MAX_ROWS = 100


class State(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    RETURNED = "returned"
    APPROVED = "approved"


class Action(StrEnum):
    EDIT = "edit"
    SIGN = "sign"
    APPROVE = "approve"
    RETURN = "return"


class Party(StrEnum):
    """Who takes an action: the department's head or the centre's director."""

    HEAD = "head"
    DIRECTOR = "director"


STATE_LABELS = {
    State.DRAFT: "草稿",
    State.SIGNED: "已签字待审批",
    State.RETURNED: "已退回",
    State.APPROVED: "已审批",
}
ACTION_LABELS = {
    Action.EDIT: "修改",
    Action.SIGN: "签字",
    Action.APPROVE: "审批通过",
    Action.RETURN: "退回",
}
ACTION_PARTY = {
    Action.EDIT: Party.HEAD,
    Action.SIGN: Party.HEAD,
    Action.APPROVE: Party.DIRECTOR,
    Action.RETURN: Party.DIRECTOR,
}

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.EDIT): State.DRAFT,
    (State.DRAFT, Action.SIGN): State.SIGNED,
    (State.SIGNED, Action.APPROVE): State.APPROVED,
    (State.SIGNED, Action.RETURN): State.RETURNED,
    (State.RETURNED, Action.EDIT): State.DRAFT,
    (State.RETURNED, Action.SIGN): State.SIGNED,
}


class TransitionError(ValueError):
    def __init__(self, state: State, action: Action) -> None:
        if state is State.APPROVED:
            hint = "; an approved table is immutable: start a new version to change it"
        elif state is State.SIGNED and action is Action.EDIT:
            hint = "; a signed table waits for the director, who may return it for changes"
        else:
            allowed = [ACTION_LABELS[a] for a in allowed_actions(state)]
            hint = f"; allowed now: {', '.join(allowed)}"
        super().__init__(
            f"cannot {action.value} ({ACTION_LABELS[action]}) a target table in state {state.value}{hint}"
        )
        self.state = state
        self.action = action


def transition(state: State, action: Action) -> State:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state, action) from None


def allowed_actions(state: State, party: Party | None = None) -> list[Action]:
    """The actions open in this state (for one party, when given)."""
    return [a for (s, a) in TRANSITIONS if s is state and (party is None or ACTION_PARTY[a] is party)]


def editable(state: State) -> bool:
    return (state, Action.EDIT) in TRANSITIONS


# --- assessment tasks -----------------------------------------------------------------------------


class TaskState(StrEnum):
    ISSUED = "issued"
    CLOSED = "closed"


TASK_STATE_LABELS = {TaskState.ISSUED: "进行中", TaskState.CLOSED: "已关闭"}


def check_task_open(state: TaskState) -> None:
    if state is not TaskState.ISSUED:
        raise ValueError("the task is closed: nothing more can be submitted to it")


# --- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """One row of a target table as entered: weight as text or number (forms give text)."""

    target: str
    indicator: str
    standard: str
    weight: Decimal | int | str
    metric: str = ""


@dataclass(frozen=True)
class CleanRow:
    target: str
    indicator: str
    standard: str
    weight: Decimal
    metric: str


@dataclass(frozen=True)
class RowProblem:
    row: int | None  # 1-based; None for the table as a whole
    field: str
    reason: str  # in Chinese: shown to officials as it stands

    def __str__(self) -> str:
        place = f"第 {self.row} 行" if self.row else "目标责任表"
        return f"{place}：{self.reason}"


FIELD_LABELS = {
    "target": "目标",
    "indicator": "指标",
    "standard": "标准",
    "weight": "权重",
    "metric": "对应指标项",
}


def _weight(raw: Decimal | int | str) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _key(text: str) -> str:
    """Indicators are compared as people read them: case and spacing do not make a new one."""
    return " ".join(text.split()).casefold()


def clean_rows(
    rows: Sequence[RowSpec], known_metrics: Collection[str]
) -> tuple[list[CleanRow], list[RowProblem]]:
    """The rows with their text trimmed and weights read, and every problem found (all at once)."""
    problems: list[RowProblem] = []
    cleaned: list[CleanRow] = []
    if not rows:
        problems.append(RowProblem(None, "rows", "至少需要一行目标"))
    if len(rows) > MAX_ROWS:
        problems.append(RowProblem(None, "rows", f"最多 {MAX_ROWS} 行，现有 {len(rows)} 行"))
    total = Decimal(0)
    weights_readable = True
    for number, row in enumerate(rows, start=1):
        texts = {
            "target": row.target.strip(),
            "indicator": row.indicator.strip(),
            "standard": row.standard.strip(),
        }
        for name, text in texts.items():
            if not text:
                problems.append(RowProblem(number, name, f"{FIELD_LABELS[name]}不能为空"))
            elif len(text) > MAX_TEXT:
                problems.append(
                    RowProblem(number, name, f"{FIELD_LABELS[name]}最多 {MAX_TEXT} 字，现有 {len(text)} 字")
                )
        weight = _weight(row.weight)
        if weight is None:
            weights_readable = False
            shown = str(row.weight).strip()
            reason = "权重不能为空" if not shown else f"权重 {shown!r} 不是数字"
            problems.append(RowProblem(number, "weight", reason))
        elif weight <= 0:
            problems.append(RowProblem(number, "weight", f"权重须大于 0（现为 {weight}）"))
        elif weight.as_tuple().exponent < -2:  # type: ignore[operator]
            problems.append(RowProblem(number, "weight", f"权重最多两位小数（现为 {weight}）"))
        metric = row.metric.strip()
        if metric and metric not in known_metrics:
            problems.append(RowProblem(number, "metric", f"未知的指标项 {metric!r}"))
        if weight is not None:
            total += weight
        cleaned.append(
            CleanRow(texts["target"], texts["indicator"], texts["standard"], weight or Decimal(0), metric)
        )
    first_row: dict[str, int] = {}
    for number, clean in enumerate(cleaned, start=1):
        if not clean.indicator:
            continue
        first = first_row.setdefault(_key(clean.indicator), number)
        if first != number:
            problems.append(RowProblem(number, "indicator", f"指标“{clean.indicator}”与第 {first} 行重复"))
    # A sum over unreadable weights would only repeat their problem in another form.
    if rows and weights_readable and total != TOTAL_WEIGHT:
        problems.append(
            RowProblem(None, "weight", f"各行权重合计须为 {TOTAL_WEIGHT}，现为 {total.normalize():f}")
        )
    return cleaned, problems


def row_problems(rows: Sequence[RowSpec], known_metrics: Collection[str]) -> list[RowProblem]:
    return clean_rows(rows, known_metrics)[1]
