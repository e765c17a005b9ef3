"""A synthetic 12345 hotline: inbound calls, the tickets the call takers accept, what the handling units
do with them, and the monitors' quality findings, as a source system would send them (docs/data-formats.md,
"Hotline records"). Pure Python, no Django: ``simulate`` returns plain records; ``sim.hotline_runner``
feeds them through the hotline's one validation path (``hotline.imports.hotline_ingest``).

**Calls.** A 24-hour line. Calls per day (``calls_per_day`` at scale 1) vary by weekday (Monday the
busiest) and arrive over the day following ``HOURLY_SHAPE`` (quiet at night, peaks at 9–11 and 14–17).
``STAFFING`` call takers are on duty each hour (rotating through the roster day by day); a call goes to
the agent free first; a caller waits at most their patience (exponential, mean ``PATIENCE_S``) and
hangs up unanswered (abandoned) when every agent on duty stays busy longer. Talk time is log-normal
around ``TALK_S``. With the defaults ≈95 % of calls are answered, most within 15 s, and the abandoned
ones cluster in the peaks (GB/T 33358-2016: answer within 15 s, answer rate ≥95 %).

**Tickets.** ``TICKET_SHARE`` of answered calls become tickets accepted by the agent, categories by
``CATEGORY_WEIGHTS`` (consultation most, then request, complaint, suggestion, a few emergencies).
Most consultations are answered on the call (closed at once); ``MERGE_RATE`` are duplicates merged
into an earlier ticket (并单). The rest are dispatched to a handling unit.

**Handling units** (``SimUnit``): ``speed`` scales how long they take (1 = the usual; 2 = twice as slow,
so more overdue tickets); ``return_rate`` is how often they object (退单; the centre approves
``RETURN_APPROVAL`` of those and re-dispatches to another unit, else the unit keeps it); ``quality``
is the chance the caller is 满意 at the centre's revisit. A unit that will run late asks for an
extension first with probability ``EXTENSION_RATE`` (approved ``EXTENSION_APPROVAL``); the centre urges
a ticket at risk (past 85 % of its limit) with probability ``URGE_RATE`` (the rest are missed urges)
and escalates once more if it stays open. The unit revisits first; the centre's revisit decides:
满意 closes, 基本满意 / 不满意 reopen it (重办) and the unit handles it again; after a second
dissatisfied revisit the centre closes it on review.

Working days are counted as calendar days (the simulator has no calendar), which never puts the
deadline later than the real one: extension requests come at a third of the limit and ask for four
times it plus ten days, far enough from the real deadline to be valid on any calendar (a Golden Week
included); whether a reply is on time is decided by the ingestion, on the real calendar.

**Quality findings.** Each call taker has an error propensity (``SimAgent.error_rate`` per ticket
accepted: record errors found by the monitors) and a rare verified complaint; monitors miss some of the
errors (``MISSED_CHECK_SHARE``: a missed error check against a monitor) and find inaccurate replies.

Everything random comes from one ``random.Random(seed)`` drawn in a fixed order: the same config gives
the same records. Records whose instant lies after ``until`` are not emitted (tickets still open).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCE = "sim-hotline"

CATEGORIES = ("consultation", "request", "complaint", "suggestion", "emergency")
CATEGORY_WEIGHTS = (0.52, 0.25, 0.13, 0.07, 0.03)
# The default limits (settings.KAOPING_HOTLINE_LIMITS) in calendar hours, a working day counted as 24 h:
# N working days end at the close of office of the Nth working day after the dispatch day, never
# earlier than N × 24 h after it, so a step the simulator places within its limit is on time.
LIMIT_HOURS = {"emergency": 2.0, "consultation": 3 * 24.0, "request": 5 * 24.0, "suggestion": 10 * 24.0}
LIMIT_HOURS["complaint"] = 15 * 24.0

WEEKDAY_FACTOR = (1.25, 1.05, 1.0, 1.0, 1.0, 0.75, 0.7)  # Monday first
# Relative arrival intensity per hour of the day (0–23).
HOURLY_SHAPE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.9, 1.5, 2.1, 2.2, 1.8,
    1.2, 1.3, 1.9, 2.0, 1.8, 1.5, 1.1, 0.9, 0.8, 0.6, 0.4, 0.25,
)  # fmt: skip
# Call takers on duty per hour; the peaks are staffed a little short, as real rosters are.
STAFFING = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 4, 3, 4, 5, 5, 4, 3, 3, 3, 2, 2, 2, 1)
TALK_S = 150.0  # median talk time, seconds
TALK_SIGMA = 0.5
PATIENCE_S = 70.0  # mean patience before hanging up, seconds
PATIENCE_FLOOR_S = 10.0  # nobody hangs up before the first rings

TICKET_SHARE = 0.45  # of answered calls (the rest: repeat callers, wrong numbers, answered questions)
DIRECT_CLOSE = {"consultation": 0.7, "suggestion": 0.2}  # answered on the call (直接办结)
MERGE_RATE = 0.02
RETURN_APPROVAL = 0.7
EXTENSION_RATE = 0.5  # of tickets that will run late
EXTENSION_APPROVAL = 0.85
URGE_RATE = 0.95  # of tickets at risk of running late
BASIC_SHARE = 0.4  # of callers not 满意: 基本满意 (the rest 不满意)
COMPLAINT_RATE = 0.0007  # verified complaints per ticket accepted
MISSED_CHECK_SHARE = 0.15  # of record errors found later, not by the monitor's check
REPLY_ERROR_RATE = 0.004  # inaccurate replies the monitors let through, per ticket dispatched


@dataclass(frozen=True)
class SimUnit:
    code: str
    speed: float = 1.0  # 1 usual; 2 twice as slow
    return_rate: float = 0.03
    quality: float = 0.9  # chance of 满意 at the centre's revisit
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SimAgent:
    employee_no: str
    error_rate: float = 0.01  # record errors per ticket accepted


@dataclass(frozen=True)
class SimHotline:
    centre: str
    units: Sequence[SimUnit]
    agents: Sequence[SimAgent]  # call takers
    monitors: Sequence[str]  # employee numbers
    start: dt.date
    days: int
    seed: int = 1
    calls_per_day: float = 420.0
    scale: float = 1.0
    until: dt.datetime | None = None  # nothing after this instant (default: the span's end)


@dataclass
class SimOutput:
    records: list[dict[str, Any]] = field(default_factory=list)  # calls, tickets, events
    findings: list[dict[str, Any]] = field(default_factory=list)  # quality findings (hotline.quality)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.records if r["type"] == kind)


CONTENT = {
    "consultation": ("咨询公积金提取条件", "咨询社保转移手续", "咨询居住证办理材料", "咨询不动产登记流程"),
    "request": ("小区路灯不亮请求维修", "楼道堆放杂物请求清理", "小区停水请求尽快恢复", "道路井盖缺失"),
    "complaint": ("投诉夜间施工噪音扰民", "投诉商家价格欺诈", "投诉物业乱收费", "投诉餐馆油烟扰民"),
    "suggestion": ("建议增设公交线路", "建议延长政务大厅办公时间", "建议增加社区健身设施"),
    "emergency": ("燃气泄漏气味明显", "路面塌陷危及行人", "老人走失求助"),
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat(timespec="seconds")


class _Run:
    def __init__(self, config: SimHotline) -> None:
        self.c = config
        self.rng = random.Random(config.seed)
        self.out = SimOutput()
        self.until = config.until or dt.datetime.combine(
            config.start + dt.timedelta(days=config.days), dt.time(), SHANGHAI
        )
        self.tickets = 0
        self.recent: list[tuple[str, str]] = []  # (ticket id, category) of the last tickets, for merges
        self.findings = 0

    # -- calls -----------------------------------------------------------------------------------

    def run(self) -> SimOutput:
        agents = list(self.c.agents)
        if not agents:
            return self.out
        for day_index in range(self.c.days):
            day = self.c.start + dt.timedelta(days=day_index)
            roster = agents[day_index % len(agents) :] + agents[: day_index % len(agents)]
            free_at: dict[str, dt.datetime] = {}
            expected = self.c.calls_per_day * self.c.scale * WEEKDAY_FACTOR[day.weekday()]
            shape_sum = sum(HOURLY_SHAPE)
            for hour in range(24):
                mean = expected * HOURLY_SHAPE[hour] / shape_sum
                count = self._poisson(mean)
                base = dt.datetime.combine(day, dt.time(hour), SHANGHAI)
                starts = sorted(base + dt.timedelta(seconds=self.rng.uniform(0, 3600)) for _ in range(count))
                duty = roster[: min(len(roster), STAFFING[hour])]
                for n, started in enumerate(starts):
                    self._call(f"{day:%Y%m%d}{hour:02d}{n:03d}", started, duty, free_at)
        return self.out

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 50:  # normal approximation
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def _call(
        self, cid: str, started: dt.datetime, duty: list[SimAgent], free_at: dict[str, dt.datetime]
    ) -> None:
        agent = min(duty, key=lambda a: (free_at.get(a.employee_no, started), a.employee_no))
        ready = max(started, free_at.get(agent.employee_no, started))
        patience = PATIENCE_FLOOR_S + self.rng.expovariate(1 / (PATIENCE_S - PATIENCE_FLOOR_S))
        ring = self.rng.uniform(2, 9)  # the phone rings a few seconds before anyone picks up
        wait = (ready - started).total_seconds() + ring
        record: dict[str, Any] = {"type": "call", "source": SOURCE, "id": f"C{cid}", "centre": self.c.centre}
        record["started_at"] = _iso(started)
        if wait > patience:
            record["ended_at"] = _iso(started + dt.timedelta(seconds=patience))
            if started + dt.timedelta(seconds=patience) <= self.until:
                self.out.records.append(record)
            return
        answered = started + dt.timedelta(seconds=wait)
        talk = self.rng.lognormvariate(math.log(TALK_S), TALK_SIGMA)
        ended = answered + dt.timedelta(seconds=talk)
        free_at[agent.employee_no] = ended + dt.timedelta(seconds=self.rng.uniform(10, 40))  # wrap-up
        if ended > self.until:
            return
        record |= {"answered_at": _iso(answered), "ended_at": _iso(ended), "agent": agent.employee_no}
        self.out.records.append(record)
        if self.rng.random() < TICKET_SHARE:
            self._ticket(ended, agent)

    # -- tickets ---------------------------------------------------------------------------------

    def _ticket(self, received: dt.datetime, agent: SimAgent) -> None:
        rng = self.rng
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        self.tickets += 1
        tid = f"T{received:%Y%m%d}-{self.tickets:06d}"
        self.out.records.append(
            {
                "type": "ticket",
                "source": SOURCE,
                "id": tid,
                "centre": self.c.centre,
                "category": category,
                "content": rng.choice(CONTENT[category]),
                "received_at": _iso(received),
                "caller_name": rng.choice(SURNAMES) + rng.choice(("先生", "女士")),
                "caller_phone": f"13{rng.randrange(10**9):09d}",
                "call_taker": agent.employee_no,
            }
        )
        events: list[tuple[dt.datetime, dict[str, Any]]] = []
        at = received + dt.timedelta(minutes=rng.uniform(1, 4))
        twin = next((t for t, cat in reversed(self.recent) if cat == category), None)
        if twin is not None and category != "emergency" and rng.random() < MERGE_RATE:
            events.append((at, {"action": "merge", "into": twin}))
        elif rng.random() < DIRECT_CLOSE.get(category, 0.0):
            events.append((at, {"action": "close", "note": "电话中直接答复"}))
        else:
            self._dispatched(tid, category, at, events)
        self.recent = [*self.recent[-50:], (tid, category)]
        if rng.random() < agent.error_rate:
            self._finding(received + dt.timedelta(days=rng.uniform(1, 5)), agent, tid)
        if rng.random() < COMPLAINT_RATE:
            self._finding(received + dt.timedelta(days=rng.uniform(2, 8)), agent, tid, kind="complaint")
        events.sort(key=lambda pair: pair[0])  # stable: simultaneous steps keep their order
        for n, (when, fields) in enumerate(events):
            if when > self.until:
                break  # the rest has not happened yet
            self.out.records.append(
                {"type": "event", "source": SOURCE, "id": f"{tid}-{n + 1}", "ticket": tid, "at": _iso(when)}
                | fields
            )

    def _dispatched(
        self, tid: str, category: str, at: dt.datetime, events: list[tuple[dt.datetime, dict[str, Any]]]
    ) -> None:
        rng = self.rng
        units = list(self.c.units)
        if not units:
            events.append((at, {"action": "close", "note": "无承办单位，中心直接答复"}))
            return
        unit = self._pick(units, category)
        hours = LIMIT_HOURS[category]
        events.append((at, {"action": "dispatch", "unit": unit.code}))
        sign = at + dt.timedelta(hours=min(hours * 0.2, rng.uniform(0.1, 3.0) * unit.speed))
        if rng.random() < unit.return_rate and category != "emergency":
            objected = sign + dt.timedelta(hours=rng.uniform(0.5, 4))
            events.append((objected, {"action": "return_request", "note": "不属于本单位职责"}))
            decided = objected + dt.timedelta(hours=rng.uniform(0.5, 6))
            if rng.random() < RETURN_APPROVAL:
                events.append((decided, {"action": "return_review", "outcome": "approved"}))
                others = [u for u in units if u.code != unit.code] or units
                unit = self._pick(others, category)
                at = decided + dt.timedelta(minutes=rng.uniform(10, 90))
                events.append((at, {"action": "redispatch", "unit": unit.code}))
                sign = at + dt.timedelta(hours=min(hours * 0.2, rng.uniform(0.1, 3.0) * unit.speed))
                events.append((sign, {"action": "sign"}))
            else:
                events.append((decided, {"action": "return_review", "outcome": "rejected"}))
                sign = decided
        else:
            events.append((sign, {"action": "sign"}))
        # How much of the limit the unit uses: log-normal around 35 % of it, times its slowness (a usual
        # unit runs late on well under 1 % of its tickets, one 1.6 times as slow on about 10 %).
        share = rng.lognormvariate(math.log(0.35 * unit.speed), 0.35)
        if category == "emergency":
            share = min(share, 0.95 if rng.random() < 0.9 else 1.5)
        late = share > 1.0
        extended = False
        if late and category != "emergency" and rng.random() < EXTENSION_RATE:
            asked = at + dt.timedelta(hours=hours * rng.uniform(0.25, 0.33))
            asked = max(asked, sign + dt.timedelta(minutes=5))
            until = (at + dt.timedelta(hours=4 * hours + 240)).replace(
                hour=17, minute=30, second=0, microsecond=0
            )
            events.append(
                (asked, {"action": "extension_request", "until": _iso(until), "note": "需现场勘查"})
            )
            approved = rng.random() < EXTENSION_APPROVAL
            events.append(
                (
                    asked + dt.timedelta(hours=rng.uniform(1, 8)),
                    {"action": "extension_decide", "outcome": "approved" if approved else "rejected"},
                )
            )
            if approved:
                share, extended = min(share, rng.uniform(1.1, 3.0)), True
        reply = at + dt.timedelta(hours=hours * share)
        reply = max(reply, sign + dt.timedelta(minutes=10))
        late = late and not extended
        # The centre urges a ticket at risk (past 85 % of its limit, as the simulator reckons it: the real
        # deadline may fall a little earlier or later) and escalates once more if it stays open.
        if share > 0.85 and not extended and rng.random() < URGE_RATE:
            urged = at + dt.timedelta(hours=hours * 0.85)
            if sign < urged < reply:
                events.append((urged, {"action": "urge", "level": "1", "note": "临期督办"}))
                again = at + dt.timedelta(hours=hours * 1.2)
                if again < reply:
                    events.append((again, {"action": "urge", "level": "2", "note": "超期督办"}))
        handled = reply - dt.timedelta(minutes=rng.uniform(5, 60))
        events.append((max(handled, sign + dt.timedelta(minutes=5)), {"action": "handle"}))
        events.append((reply, {"action": "reply"}))
        if rng.random() < REPLY_ERROR_RATE and self.c.monitors:
            self._finding(reply + dt.timedelta(days=rng.uniform(1, 6)), None, tid, kind="reply_quality_error")
        satisfied_p = unit.quality - (0.25 if late else 0.0)
        for round_ in range(3):
            visit = reply + dt.timedelta(hours=rng.uniform(2, 20))
            events.append((visit, {"action": "unit_revisit", "satisfaction": "satisfied"}))
            centre = visit + dt.timedelta(hours=rng.uniform(2, 30))
            if rng.random() < satisfied_p:
                events.append((centre, {"action": "centre_revisit", "satisfaction": "satisfied"}))
                return
            verdict = "basic" if rng.random() < BASIC_SHARE else "dissatisfied"
            if round_ == 2:
                events.append((centre, {"action": "close", "note": "经审核办结"}))
                return
            events.append((centre, {"action": "centre_revisit", "satisfaction": verdict}))
            handled = centre + dt.timedelta(hours=rng.uniform(4, 72) * unit.speed)
            events.append((handled, {"action": "handle", "note": "重办"}))
            reply = handled + dt.timedelta(minutes=rng.uniform(10, 90))
            events.append((reply, {"action": "reply"}))
            satisfied_p = min(0.95, satisfied_p + 0.2)

    def _pick(self, units: list[SimUnit], category: str) -> SimUnit:
        # Half the tickets follow the dispatch catalogue (a category's usual unit), half by content.
        index = CATEGORIES.index(category) % len(units)
        if self.rng.random() < 0.5:
            return units[index]
        return self.rng.choice(units)

    def _finding(
        self, when: dt.datetime, agent: SimAgent | None, tid: str, *, kind: str = "record_error"
    ) -> None:
        if when > self.until:
            return
        rng = self.rng
        if kind == "record_error" and self.c.monitors and rng.random() < MISSED_CHECK_SHARE:
            # Found later (a complaint, the hall manager's spot check): the monitor missed it.
            self._add(when, rng.choice(self.c.monitors), "missed_error_check", tid, "质检漏查受理信息差错")
        staff = agent.employee_no if agent else rng.choice(self.c.monitors)
        note = {
            "record_error": "受理信息录入差错",
            "complaint": "来电人投诉受理员态度，经核实",
            "reply_quality_error": "回复信息不准确，质检未发现",
        }[kind]
        self._add(when, staff, kind, tid, note)

    def _add(self, when: dt.datetime, staff: str, kind: str, tid: str, note: str) -> None:
        self.findings += 1
        self.out.findings.append(
            {
                "source": SOURCE,
                "id": f"F{self.findings:06d}",
                "staff": staff,
                "kind": kind,
                "found_at": when,
                "ticket": tid,
                "note": note,
            }
        )


def simulate(config: SimHotline) -> SimOutput:
    """The hotline's calls, tickets, events and findings over the configured days."""
    return _Run(config).run()


def call_figures(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The answer figures of simulated calls (for the tests and the runner's summary): offered,
    answer rate and answered within 15 s, in percent of calls offered."""
    calls = [r for r in records if r["type"] == "call"]
    answered = [r for r in calls if r.get("answered_at")]
    within = [
        r
        for r in answered
        if (
            dt.datetime.fromisoformat(r["answered_at"]) - dt.datetime.fromisoformat(r["started_at"])
        ).total_seconds()
        <= 15
    ]
    offered = len(calls) or 1
    return {
        "offered": float(len(calls)),
        "answer_rate": 100 * len(answered) / offered,
        "within_15s": 100 * len(within) / offered,
    }
