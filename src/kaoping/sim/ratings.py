"""Citizen ratings (好差评) of the simulated case feed: rating records as a rating platform would send them,
interleaved with the case feed of ``sim/cases.py`` in delivery order. Pure Python and NumPy, no Django.

Levels are written in the **GB/T 39046-2020 convention: 1 = 非常满意, 2 = 满意, 3 = 基本满意, 4 = 不满意,
5 = 非常不满意** (4 and 5 are bad ratings, 差评). Kaoping stores the reverse score internally
(``ratings.codes.Level``); the records here are what a GB/T source sends.

What a rating depends on. When a case's record, its ``handled`` and its ``delivered`` events have all been
seen, the case is *closed* and is rated by ``rating_rate`` of citizens, on a channel that suits how the case
was handled (window and home-visit cases: the hall tablet at the counter, the QR code on the citizen's own
phone, a revisit by SMS or phone; online cases: PC or mobile), some minutes to a couple of days after the
result was delivered. The level follows an ordered logit, ``P(level <= k) = sigmoid(THRESHOLDS[k] -
badness)``, whose thresholds give the mix of a case served well (about 98 % 满意 or better; a normal month
of the case simulator comes out near 95-96 %, bad ratings 2-3 %), and whose ``badness`` grows with

- the wait at the counter (``arrived`` → ``accepted``, in working time) beyond ``WAIT_TOLERATED``;
- an overrun: ``handled`` after the due instant of the handling limit. The due instant is the matter's limit
  (working days to the close of office, or working seconds) from ``accepted``, replaced by the limit of an
  ``extension_granted`` event from the same start, then pushed back by the working length of every
  pause (``pause_started`` → ``pause_ended``). This is only roughly ``cases/deadlines.py``: pauses are all
  added at the end (not only those before the moving due instant) and the close-of-office rounding of
  day limits after a pause is left out; a case a few minutes either side of its due instant may be judged
  differently from the deadline engine, which does not matter for a rating's mood;
- every extra trip (``trip`` events), every resubmission, a supplement without a one-time notice, and a
  result delivered more than 24 hours after handling.

The troubles counted are those the feed has delivered by the time the case closes: an event delivered
later than that (a data fault of the case feed) does not change the rating.

Texts (about a fifth of good ratings, most bad ones) are composed from fragments matching the level and
the case's actual troubles (queueing, overrun, trips, repeated material requests …), some with the
citizen's phone number in them, so masking has something to do. Devices: hall tablets ``TAB-<unit>``,
self-service kiosks ``KSK-<unit>`` (``hall_terminal``), citizens' phones and PCs ``DEV-<12 hex>`` with a
public IPv4 address; SMS and phone ratings have neither device nor address.

Gamed ratings (``config.gaming``; R4.10/R4.12), which carry no marker and must be found from the data:

- ``tablet_burst``: 8–15 非常满意 within a few minutes from one window's hall tablet ``TAB-<unit>``, for
  cases of that window handled earlier that their citizens left unrated;
- ``own_terminal``: 非常满意 2–10 seconds after ``handled``, on the handling staff member's own terminal
  ``PC-<employee no>`` (channel ``hall_terminal``);
- ``shared_phone``: 6–10 ratings (SMS) of different unrated cases of one window carrying one phone number;
- ``centre_network``: QR-code ratings whose IP address lies in ``config.centre_network``.

``rate_feed(..., gamed=[])`` appends a ``GamedRating(rating id, pattern)`` for each gamed rating it yields.

Everything random comes from one ``numpy.random.Generator`` seeded with ``config.seed`` and drawn in the
order the feed is read, so the same config and feed always give the same stream. Memory holds the cases
still open (forgotten once rated, or once closed and left unrated), a few unrated cases per window for the
gamed patterns, ratings not yet delivered (at most a couple of days' worth) and, for four days, the ids of
forgotten cases so that their late or duplicate event deliveries are recognised.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import ipaddress
import itertools
import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from kaoping.sim.cases import PHONE_PREFIXES, SimMatter, SimWindow
from kaoping.workcal.calendar import CalendarError, WorkCalendar
from kaoping.workcal.limits import Limit

T = TypeVar("T")

MINUTE, HOUR, DAY = 60, 3600, 86400

# GB/T 39046-2020 level codes.
VERY_SATISFIED, SATISFIED, BASIC, DISSATISFIED, VERY_DISSATISFIED = 1, 2, 3, 4, 5
LEVEL_LABELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
RATING_CHANNELS = ("pc", "mobile", "qr_code", "hall_tablet", "hall_terminal", "phone", "sms")
TAGS = ("服务态度", "办事效率", "材料要求", "环境设施", "政策解释", "排队等候", "线上系统")
MAX_TEXT = 500

# The level mix of a case served well (codes 1..5) and the ordered-logit thresholds it gives.
BASE_LEVEL_SHARES = (0.83, 0.148, 0.010, 0.008, 0.004)
THRESHOLDS = tuple(
    math.log(c / (1 - c)) for c in itertools.accumulate(BASE_LEVEL_SHARES[:-1])
)  # logit of P(level <= k), k = 1..4

# Badness (on the logit scale) of each trouble.
WAIT_TOLERATED = 30 * MINUTE  # working seconds at the counter nobody minds
WAIT_PER_BADNESS = 10 * MINUTE  # each further 10 minutes add 1
WAIT_BADNESS_CAP = 3.0
OVERRUN_BADNESS = 2.0  # handled after the due instant ...
OVERRUN_BADNESS_PER_DAY = 0.4  # ... plus this per working day late, up to 3 days
TRIP_BADNESS = 1.0  # per extra trip, up to 2
RESUBMISSION_BADNESS = 0.6
NO_NOTICE_BADNESS = 0.8  # a supplement without a one-time notice (一次性告知)
LATE_DELIVERY_BADNESS = 0.5  # result delivered more than 24 h after handling
LATE_DELIVERY = 24 * HOUR
LONG_WAIT = 40 * MINUTE  # a wait the texts complain about

# Channels by how the case was handled: (channel, weight). Immediate window cases are rated at the
# counter right away; other window cases mostly by QR code or a revisit.
CHANNEL_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    "counter": (
        ("hall_tablet", 0.55),
        ("qr_code", 0.25),
        ("hall_terminal", 0.05),
        ("sms", 0.10),
        ("phone", 0.05),
    ),
    "window": (
        ("hall_tablet", 0.20),
        ("qr_code", 0.45),
        ("hall_terminal", 0.05),
        ("sms", 0.20),
        ("phone", 0.10),
    ),
    "remote": (("qr_code", 0.55), ("sms", 0.30), ("phone", 0.15)),  # home visits, windows without a hall
    "online": (("pc", 0.45), ("mobile", 0.55)),
}
REAL_NAME_SHARE = {
    "hall_tablet": 0.85,
    "hall_terminal": 0.85,
    "sms": 1.0,
    "phone": 1.0,
    "qr_code": 0.35,
    "pc": 0.92,
    "mobile": 0.90,
}
TEXT_SHARE = (0.22, 0.15, 0.35, 0.75, 0.85)  # by level code
TAG_SHARE = (0.45, 0.40, 0.50, 0.85, 0.90)
PHONE_IN_TEXT = (0.01, 0.01, 0.05, 0.15, 0.15)  # of texts, by level code

POOL_SIZE = 30  # unrated window cases kept per window for the gamed patterns
FORGET_AFTER = 4 * DAY  # late (≤ 3 days) and duplicate (≤ 1 h) deliveries of a forgotten case's events

# First octets of Chinese ISP address blocks: genuine citizens' public addresses.
PUBLIC_FIRST_OCTETS = (36, 39, *range(58, 62), 101, 106, *range(111, 126), 180, 182, 183, 202, 210, 211)
PUBLIC_FIRST_OCTETS += tuple(range(218, 224))

GamedPattern = Literal["tablet_burst", "own_terminal", "shared_phone", "centre_network"]
GAMED_PATTERNS: tuple[GamedPattern, ...] = ("tablet_burst", "own_terminal", "shared_phone", "centre_network")


class GamedRating(NamedTuple):
    rating: str  # the rating record's id
    pattern: GamedPattern


@dataclass(frozen=True)
class RatingSimConfig:
    seed: int
    _: KW_ONLY
    source: str = "sim-hcp"
    rating_rate: float = 0.65  # share of closed cases their citizens rate
    gaming: bool = True
    burst_rate: float = 0.004  # per unrated window case: starts a tablet burst
    own_terminal_rate: float = 0.004  # of window cases with staff
    shared_phone_rate: float = 0.002  # per unrated window case: starts a one-phone campaign
    centre_network_rate: float = 0.004  # of window cases
    centre_network: str = "10.20.0.0/16"
    until: dt.datetime | None = None  # ratings at or after this instant are not emitted (the period's end)

    def __post_init__(self) -> None:
        if not 1 <= len(self.source) <= 40:
            raise ValueError(f"source must have 1 to 40 characters, got {self.source!r}")
        for name in (
            "rating_rate",
            "burst_rate",
            "own_terminal_rate",
            "shared_phone_rate",
            "centre_network_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        try:
            network = ipaddress.IPv4Network(self.centre_network)
        except ValueError as exc:
            raise ValueError(
                f"centre_network {self.centre_network!r} is not an IPv4 network: {exc}"
            ) from None
        if network.num_addresses < 4:
            raise ValueError(f"centre_network {self.centre_network!r} is too small")
        if self.until is not None and self.until.utcoffset() is None:
            raise ValueError("until must be an aware datetime")


def rate_feed(
    feed: Iterable[tuple[dt.datetime, dict[str, Any]]],
    *,
    config: RatingSimConfig,
    windows: Sequence[SimWindow],
    matters: Sequence[SimMatter],
    calendar: WorkCalendar,
    gamed: list[GamedRating] | None = None,
) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
    """Every (delivery instant, record) pair of ``feed`` (in delivery order, e.g. ``simulate_feed``'s),
    unchanged, with ``"type": "rating"`` records interleaved, the whole still in delivery order. A rating
    is delivered at its ``rated_at``, or with the feed record that let it be decided when that came later.

    ``matters`` (with those of ``windows``) give the handling limits; ``windows`` name the units with a
    hall (tablets) and the windows the gamed patterns use. If ``gamed`` is a list, a ``GamedRating`` is
    appended to it for every gamed rating yielded, before the rating is."""
    return _Rater(config, windows, matters, calendar).run(feed, gamed)


# -- randomness ----------------------------------------------------------------------------------


class _Draws:
    """Uniforms from one generator in a fixed order, a block at a time (scalar NumPy draws are slow)."""

    BLOCK = 4096

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.block: list[float] = []
        self.next = 0

    def u(self) -> float:
        if self.next == len(self.block):
            self.block = self.rng.random(self.BLOCK).tolist()
            self.next = 0
        value = self.block[self.next]
        self.next += 1
        return value

    def below(self, p: float) -> bool:
        return self.u() < p

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.u()

    def integer(self, low: int, high: int) -> int:
        """low..high inclusive."""
        return low + min(int(self.u() * (high - low + 1)), high - low)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, items: Sequence[tuple[T, float]]) -> T:
        cdf = list(itertools.accumulate(w for _, w in items))
        return items[min(bisect.bisect_right(cdf, self.u() * cdf[-1]), len(items) - 1)][0]

    def exponential(self, mean: float) -> float:
        return -mean * math.log1p(-self.u())

    def phone(self) -> str:
        return f"{self.pick(PHONE_PREFIXES)}{self.integer(0, 10**9 - 1):09d}"

    def hex(self, digits: int) -> str:
        return f"{self.integer(0, 16**digits - 1):0{digits}x}"


# -- texts ---------------------------------------------------------------------------------------

# Praise by aspect; "hall" aspects for cases served in person, "online" ones for online cases.
PRAISE = {
    "服务态度": (
        "工作人员态度很好",
        "窗口工作人员热情耐心",
        "服务很周到",
        "工作人员说话和气，解答很耐心",
        "小姑娘很有耐心，一遍遍给我讲",
        "态度亲切，让人心里舒服",
        "工作人员主动帮忙填表",
    ),
    "办事效率": (
        "办事效率很高",
        "{quick}分钟就办好了",
        "一次就办成了，没有来回跑",
        "流程简单，很快就办完了",
        "比想象中快多了",
        "当场就拿到了结果",
        "没想到这么快就办结了",
    ),
    "政策解释": (
        "政策讲得很清楚",
        "一次性告知了所有材料，很省心",
        "指导很到位，少走了很多弯路",
        "不懂的地方都给解释明白了",
    ),
    "环境设施": (
        "大厅干净整洁",
        "自助设备很方便",
        "有引导员帮忙取号，很贴心",
        "休息区有座位有热水",
    ),
    "线上系统": (
        "网上办理很方便",
        "不用跑腿，在家就办好了",
        "线上提交很顺利，审核也快",
        "手机上就能办，太方便了",
    ),
}
HALL_ASPECTS = ("服务态度", "办事效率", "政策解释", "环境设施")
ONLINE_ASPECTS = ("线上系统", "办事效率", "政策解释")
PRAISE_OPENERS = ("", "", "", "总体不错，", "这次办事很顺利，", "第一次来办，")
PRAISE_CLOSERS = (
    "",
    "点赞！",
    "非常感谢！",
    "给工作人员点赞。",
    "辛苦了！",
    "值得表扬！",
    "谢谢！",
    "希望继续保持。",
)

BASIC_TEXTS = (
    "总体还行",
    "还可以吧",
    "办是办好了，就是有点慢",
    "等的时间稍微长了点",
    "流程还可以再简化一些",
    "要交的材料有点多",
    "基本满意",
    "希望以后能更快一些",
    "指引标识不太清楚，找了半天窗口",
)
BASIC_CLOSERS = ("", "。", "，希望改进。", "，继续努力吧。")

# Complaints by trouble: (tag, fragments). {wait}, {visits} and {limit} are the case's own figures.
COMPLAINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wait": (
        "排队等候",
        (
            "排队时间太长，等了{wait}分钟才轮到我",
            "取了号等了快一个小时",
            "窗口开得太少，排了很久的队",
            "高峰期就开一个窗口，队伍排老长",
            "叫号系统乱，插队也没人管",
        ),
    ),
    "overrun": (
        "办事效率",
        (
            "承诺{limit}办结，到现在才办好",
            "超过时限了也没有人通知我",
            "办理进度太慢，一拖再拖",
            "打电话问进度一直说在走流程",
        ),
    ),
    "trips": (
        "办事效率",
        (
            "来回跑了{visits}趟才办完",
            "说好的最多跑一次，结果跑了{visits}次",
            "为了一个章来回跑，耽误了好几天工",
        ),
    ),
    "materials": (
        "材料要求",
        (
            "材料要求反复，每次说的都不一样",
            "补了好几次材料还说不行",
            "没有一次性告知需要哪些材料",
            "让我回去开证明，来回折腾",
        ),
    ),
    "attitude": (
        "服务态度",
        (
            "工作人员态度生硬",
            "问两句就不耐烦",
            "工作人员在玩手机，爱答不理",
            "说话很冲，一点都不客气",
        ),
    ),
    "system": (
        "线上系统",
        (
            "系统卡顿，页面老是打不开",
            "网上提交一直失败",
            "上传材料总是报错，只能跑到大厅来",
            "验证码老是收不到",
        ),
    ),
    "policy": (
        "政策解释",
        (
            "政策解释不清楚",
            "问了三个人三种说法",
            "咨询电话一直没人接",
        ),
    ),
    "environment": (
        "环境设施",
        (
            "大厅太吵，座位也不够",
            "自助机坏了也没人修",
        ),
    ),
}
GENERIC_HALL_TROUBLES = ("attitude", "attitude", "policy", "environment")
GENERIC_ONLINE_TROUBLES = ("system", "system", "policy")
COMPLAINT_CLOSERS = (
    "",
    "",
    "希望尽快改进。",
    "太失望了！",
    "要求给个说法。",
    "希望领导重视。",
    "能不能上点心？",
)
WAIT_CLOSERS = ("建议高峰期多开几个窗口。", "希望增加窗口人手。")
PHONE_CLOSERS = ("请回电{phone}", "有问题请打我电话{phone}", "联系方式：{phone}", "请尽快联系我{phone}")
GOOD_PHONE_CLOSERS = ("如需回访请打{phone}", "我的电话{phone}")


# -- state ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """What the feed has told about one case so far."""

    first_seen: int
    case: dict[str, Any] | None = None
    event_ids: set[str] = field(default_factory=set)
    arrived: int | None = None
    accepted: int | None = None
    handled: int | None = None
    delivered: int | None = None
    trips: int = 0
    resubmissions: int = 0
    notice: bool = False
    supplement: bool = False
    pause_starts: list[int] = field(default_factory=list)
    pause_ends: list[int] = field(default_factory=list)
    extension: str | None = None


@dataclass(slots=True)
class _Closed:
    """A closed case as a rating needs it."""

    case: dict[str, Any]
    handled: int
    delivered: int


@dataclass(slots=True)
class _Service:
    wait: int | None  # working seconds at the counter
    overrun_days: float | None  # working days late (0 or more) when handled after the due instant
    trips: int
    resubmissions: int
    no_notice: bool
    late_delivery: bool
    limit_label: str | None

    def badness(self) -> float:
        score = 0.0
        if self.wait is not None and self.wait > WAIT_TOLERATED:
            score += min((self.wait - WAIT_TOLERATED) / WAIT_PER_BADNESS, WAIT_BADNESS_CAP)
        if self.overrun_days is not None:
            score += OVERRUN_BADNESS + OVERRUN_BADNESS_PER_DAY * min(self.overrun_days, 3.0)
        score += TRIP_BADNESS * min(self.trips, 2) + RESUBMISSION_BADNESS * min(self.resubmissions, 2)
        if self.no_notice:
            score += NO_NOTICE_BADNESS
        if self.late_delivery:
            score += LATE_DELIVERY_BADNESS
        return score

    def troubles(self) -> list[str]:
        """The case's actual troubles a complaint names, the worst first."""
        found: list[str] = []
        if self.overrun_days is not None:
            found.append("overrun")
        if self.wait is not None and self.wait > WAIT_TOLERATED + WAIT_PER_BADNESS:
            found.append("wait")
        if self.trips:
            found.append("trips")
        if self.resubmissions or self.no_notice:
            found.append("materials")
        return found


# -- the rater -----------------------------------------------------------------------------------


class _Rater:
    def __init__(
        self,
        config: RatingSimConfig,
        windows: Sequence[SimWindow],
        matters: Sequence[SimMatter],
        calendar: WorkCalendar,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.windows = {w.unit: w for w in windows}
        self.matters = {m.code: m for m in matters}
        for window in windows:
            for matter in window.matters:
                self.matters.setdefault(matter.code, matter)
        self.draw = _Draws(config.seed)
        # The calendar refuses zones whose offset changes, so one fixed offset formats every instant.
        probe = dt.datetime(calendar.first_year, 7, 1, 12, tzinfo=calendar.tz).utcoffset()
        self.tz = dt.timezone(probe if probe is not None else dt.timedelta(0))
        self.network = ipaddress.IPv4Network(config.centre_network)
        self.until = int(config.until.timestamp()) if config.until is not None else None
        self.day_seconds = calendar.office_hours.seconds_per_day

        self.open: dict[tuple[str, str], _Open] = {}
        self.forgotten: dict[tuple[str, str], int] = {}
        self.forget_queue: deque[tuple[int, tuple[str, str]]] = deque()
        self.pools: dict[str, deque[_Closed]] = {}
        # Pending ratings: (delivery instant, running order, record without its id, pattern or None).
        self.pending: list[tuple[int, int, dict[str, Any], GamedPattern | None]] = []
        self.order = itertools.count()
        self.serial = itertools.count(1)
        self.swept_day: int | None = None

    # -- driver ----------------------------------------------------------------------------------

    def run(
        self, feed: Iterable[tuple[dt.datetime, dict[str, Any]]], gamed: list[GamedRating] | None
    ) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
        for item in feed:
            delivered, record = item
            now = int(delivered.timestamp())
            while self.pending and self.pending[0][0] <= now:
                yield self._release(gamed)
            yield item
            self._sweep(now)
            self._read(now, record)
        while self.pending:
            yield self._release(gamed)

    def _release(self, gamed: list[GamedRating] | None) -> tuple[dt.datetime, dict[str, Any]]:
        key, _, body, pattern = heapq.heappop(self.pending)
        at = dt.datetime.fromtimestamp(key, self.calendar.tz)
        rating_id = f"{self.config.source}-{at:%Y%m%d}-{next(self.serial):07d}"
        record = {"type": "rating", "source": self.config.source, "id": rating_id, **body}
        if gamed is not None and pattern is not None:
            gamed.append(GamedRating(rating_id, pattern))
        return at, record

    def _sweep(self, now: int) -> None:
        """Once a day: drop the tombstones of forgotten cases, and events whose case never came."""
        day = now // DAY
        if day == self.swept_day:
            return
        self.swept_day = day
        while self.forget_queue and self.forget_queue[0][0] <= now:
            _, key = self.forget_queue.popleft()
            if self.forgotten.get(key, now + 1) <= now:
                del self.forgotten[key]
        orphans = [k for k, s in self.open.items() if s.case is None and s.first_seen + FORGET_AFTER <= now]
        for key in orphans:
            self._forget(key, now)

    def _forget(self, key: tuple[str, str], now: int) -> None:
        self.open.pop(key, None)
        self.forgotten[key] = now + FORGET_AFTER
        self.forget_queue.append((now + FORGET_AFTER, key))

    # -- reading the feed ------------------------------------------------------------------------

    def _read(self, now: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "case":
            key = (str(record.get("source")), str(record.get("id")))
        elif kind == "event":
            key = (str(record.get("source")), str(record.get("case")))
        else:
            return
        if key in self.forgotten:
            return
        state = self.open.get(key)
        if state is None:
            state = self.open[key] = _Open(first_seen=now)
        if kind == "case":
            if state.case is None:
                state.case = record
        else:
            event_id = str(record.get("id"))
            if event_id in state.event_ids:
                return  # a duplicate delivery
            state.event_ids.add(event_id)
            self._event(state, record)
        if state.case is not None and state.handled is not None and state.delivered is not None:
            self._forget(key, now)
            self._decide(now, state)

    def _event(self, state: _Open, record: dict[str, Any]) -> None:
        try:
            at = int(dt.datetime.fromisoformat(str(record["at"])).timestamp())
        except (KeyError, ValueError):
            return
        name = record.get("event")
        if name in ("arrived", "accepted", "handled", "delivered"):
            if getattr(state, name) is None:
                setattr(state, name, at)
        elif name == "trip":
            state.trips += 1
        elif name == "resubmission":
            state.resubmissions += 1
        elif name == "one_time_notice":
            state.notice = True
        elif name == "pause_started":
            state.pause_starts.append(at)
            state.supplement |= record.get("pause_kind") == "supplement"
        elif name == "pause_ended":
            state.pause_ends.append(at)
        elif name == "extension_granted" and record.get("node", "handling") == "handling":
            state.extension = str(record.get("limit") or "") or None

    # -- service ---------------------------------------------------------------------------------

    def _service(self, state: _Open) -> _Service:
        assert state.case is not None and state.handled is not None and state.delivered is not None
        wait = None
        if state.arrived is not None and state.accepted is not None:
            try:
                wait = max(
                    self.calendar.working_seconds_between(self._dt(state.arrived), self._dt(state.accepted)),
                    0,
                )
            except CalendarError:
                wait = None
        matter = self.matters.get(str(state.case.get("matter")))
        overrun_days = None
        limit_label = None
        if matter is not None:
            limit_label = _limit_label(matter)
            due = self._due(state, matter)
            if due is not None and state.handled > due:
                try:
                    late = self.calendar.working_seconds_between(self._dt(due), self._dt(state.handled))
                except CalendarError:
                    late = 0
                overrun_days = late / self.day_seconds
        return _Service(
            wait=wait,
            overrun_days=overrun_days,
            trips=state.trips,
            resubmissions=state.resubmissions,
            no_notice=state.supplement and not state.notice,
            late_delivery=state.delivered - state.handled > LATE_DELIVERY,
            limit_label=limit_label,
        )

    def _due(self, state: _Open, matter: SimMatter) -> int | None:
        """The handling limit's due instant, roughly (see the module docstring)."""
        if state.accepted is None:
            return None
        cal, start = self.calendar, self._dt(state.accepted)
        try:
            if state.extension is not None:
                due = Limit.parse(state.extension).due(cal, start).at
            elif matter.limit_days:
                due = cal.due_after_working_days(start, matter.limit_days).at
            elif matter.limit_seconds:
                due = cal.due_after_working_seconds(start, matter.limit_seconds).at
            else:
                return None
            paused = sum(
                max(cal.working_seconds_between(self._dt(a), self._dt(b)), 0)
                for a, b in zip(sorted(state.pause_starts), sorted(state.pause_ends), strict=False)
            )
            if paused > 0:
                due = cal.due_after_working_seconds(due, paused).at
        except CalendarError:
            return None
        return int(due.timestamp())

    # -- deciding --------------------------------------------------------------------------------

    def _decide(self, now: int, state: _Open) -> None:
        assert state.case is not None and state.handled is not None and state.delivered is not None
        case, config, draw = state.case, self.config, self.draw
        closed = _Closed(case, state.handled, state.delivered)
        unit = str(case.get("unit"))
        in_hall = case.get("channel") == "window" and unit in self.windows
        # The same three draws for every closed case, gaming or not.
        own, network, rated = draw.u(), draw.u(), draw.u()
        if config.gaming and in_hall and case.get("staff") and own < config.own_terminal_rate:
            self._own_terminal(now, closed)
        elif config.gaming and in_hall and network < config.centre_network_rate:
            self._centre_network(now, closed)
        elif rated < config.rating_rate:
            self._genuine(now, state, closed)
        elif in_hall:
            pool = self.pools.setdefault(unit, deque(maxlen=POOL_SIZE))
            pool.append(closed)
            burst, campaign = draw.u(), draw.u()
            if config.gaming and burst < config.burst_rate:
                self._tablet_burst(now, unit, pool)
            elif config.gaming and campaign < config.shared_phone_rate:
                self._shared_phone(now, pool)

    def _genuine(self, now: int, state: _Open, closed: _Closed) -> None:
        draw, case = self.draw, closed.case
        service = self._service(state)
        if case.get("channel") == "online":
            mix = "online"
        elif case.get("channel") == "window" and str(case.get("unit")) in self.windows:
            matter = self.matters.get(str(case.get("matter")))
            mix = "counter" if matter is not None and matter.kind == "immediate" else "window"
        else:
            mix = "remote"
        channel = draw.weighted(CHANNEL_MIX[mix])
        rated_at = closed.delivered + self._delay(channel)
        level = self._level(service.badness())
        real_name = draw.below(REAL_NAME_SHARE[channel])
        text, tags = self._words(level, service, mix == "online", case)
        device, ip = self._device(channel, str(case.get("unit")))
        self._schedule(now, closed, rated_at, level, channel, real_name, text, tags, device, ip, None)

    def _delay(self, channel: str) -> int:
        draw = self.draw
        if channel in ("hall_tablet", "hall_terminal"):
            seconds = draw.uniform(15, 3 * MINUTE)
        elif channel == "qr_code":
            seconds = MINUTE + draw.exponential(40 * MINUTE)
        elif channel == "sms":
            seconds = 5 * MINUTE + draw.exponential(6 * HOUR)
        elif channel == "phone":
            seconds = draw.uniform(2 * HOUR, 2 * DAY)
        else:  # pc, mobile
            seconds = 2 * MINUTE + draw.exponential(3 * HOUR)
        return int(min(seconds, 2 * DAY))

    def _level(self, badness: float) -> int:
        u = self.draw.u()
        for code, threshold in enumerate(THRESHOLDS, start=1):
            if u <= 1 / (1 + math.exp(badness - threshold)):
                return code
        return VERY_DISSATISFIED

    def _device(self, channel: str, unit: str) -> tuple[str | None, str | None]:
        if channel == "hall_tablet":
            return f"TAB-{unit}", None
        if channel == "hall_terminal":
            return f"KSK-{unit}", None  # a self-service kiosk in the hall
        if channel in ("qr_code", "mobile", "pc"):
            return f"DEV-{self.draw.hex(12)}", self._public_ip()
        return None, None

    def _public_ip(self) -> str:
        draw = self.draw
        first = draw.pick(PUBLIC_FIRST_OCTETS)
        return f"{first}.{draw.integer(0, 255)}.{draw.integer(0, 255)}.{draw.integer(1, 254)}"

    def _centre_ip(self) -> str:
        hosts = self.network.num_addresses - 2
        return str(self.network.network_address + 1 + self.draw.integer(0, hosts - 1))

    # -- words -----------------------------------------------------------------------------------

    def _words(
        self, level: int, service: _Service, online: bool, case: dict[str, Any]
    ) -> tuple[str | None, list[str]]:
        draw = self.draw
        has_text, has_tags = draw.below(TEXT_SHARE[level - 1]), draw.below(TAG_SHARE[level - 1])
        phone = case.get("applicant_phone") or draw.phone()
        with_phone = draw.below(PHONE_IN_TEXT[level - 1])
        if level <= SATISFIED:
            aspects = ONLINE_ASPECTS if online else HALL_ASPECTS
            chosen = [draw.pick(aspects)]
            if draw.below(0.4):
                other = draw.pick(aspects)
                if other not in chosen:
                    chosen.append(other)
            quick = draw.integer(5, 25)
            parts = [draw.pick(PRAISE[a]).format(quick=quick) for a in chosen]
            text = draw.pick(PRAISE_OPENERS) + "，".join(parts) + "。" + draw.pick(PRAISE_CLOSERS)
            if with_phone:
                text += draw.pick(GOOD_PHONE_CLOSERS).format(phone=phone)
            tags = chosen
        elif level == BASIC:
            text = draw.pick(BASIC_TEXTS) + draw.pick(BASIC_CLOSERS)
            troubles = service.troubles()
            if troubles:
                text = self._complaint(troubles[0], service, online) + "，" + text
            if with_phone:
                text += "。" + draw.pick(PHONE_CLOSERS).format(phone=phone)
            tags = [COMPLAINTS[t][0] for t in troubles[:1]] or [
                draw.pick(ONLINE_ASPECTS if online else TAGS[:6])
            ]
        else:
            troubles = service.troubles()[:2]
            generic = GENERIC_ONLINE_TROUBLES if online else GENERIC_HALL_TROUBLES
            if not troubles or draw.below(0.25):
                extra = draw.pick(generic)
                if extra not in troubles:
                    troubles.append(extra)
            parts = [self._complaint(t, service, online) for t in troubles]
            closers = WAIT_CLOSERS if "wait" in troubles and draw.below(0.4) else COMPLAINT_CLOSERS
            text = "，".join(parts) + ("！" if level == VERY_DISSATISFIED else "。") + draw.pick(closers)
            if with_phone:
                text += draw.pick(PHONE_CLOSERS).format(phone=phone)
            tags = [COMPLAINTS[t][0] for t in troubles]
        return (text[:MAX_TEXT] if has_text else None), (list(dict.fromkeys(tags)) if has_tags else [])

    def _complaint(self, trouble: str, service: _Service, online: bool) -> str:
        draw = self.draw
        wait = (
            round(service.wait / MINUTE)
            if service.wait and service.wait >= LONG_WAIT
            else draw.integer(40, 90)
        )
        return draw.pick(COMPLAINTS[trouble][1]).format(
            wait=wait, visits=service.trips + 1, limit=service.limit_label or "的时限"
        )

    # -- gamed patterns --------------------------------------------------------------------------

    def _own_terminal(self, now: int, closed: _Closed) -> None:
        draw = self.draw
        rated_at = closed.handled + draw.integer(2, 10)
        device = f"PC-{closed.case['staff']}"
        text = draw.pick(PRAISE["服务态度"]) + "。" if draw.below(0.2) else None
        self._schedule(
            now,
            closed,
            rated_at,
            VERY_SATISFIED,
            "hall_terminal",
            True,
            text,
            [],
            device,
            None,
            "own_terminal",
        )

    def _centre_network(self, now: int, closed: _Closed) -> None:
        draw = self.draw
        rated_at = closed.delivered + int(draw.uniform(MINUTE, 10 * MINUTE))
        level = SATISFIED if draw.below(0.2) else VERY_SATISFIED
        real_name = draw.below(0.3)
        device, ip = f"DEV-{draw.hex(12)}", self._centre_ip()
        self._schedule(
            now, closed, rated_at, level, "qr_code", real_name, None, [], device, ip, "centre_network"
        )

    def _tablet_burst(self, now: int, unit: str, pool: deque[_Closed]) -> None:
        draw = self.draw
        size = draw.integer(8, 15)
        if len(pool) < size:
            return
        taken = [pool.pop() for _ in range(size)][::-1]
        at = max(c.delivered for c in taken) + int(draw.uniform(MINUTE, 20 * MINUTE))
        for closed in taken:
            at += int(draw.uniform(8, 35))
            real_name = draw.below(REAL_NAME_SHARE["hall_tablet"])
            text = draw.pick(PRAISE["服务态度"]) + "。" if draw.below(0.1) else None
            device = f"TAB-{unit}"
            self._schedule(
                now,
                closed,
                at,
                VERY_SATISFIED,
                "hall_tablet",
                real_name,
                text,
                [],
                device,
                None,
                "tablet_burst",
            )

    def _shared_phone(self, now: int, pool: deque[_Closed]) -> None:
        draw = self.draw
        size = draw.integer(6, 10)
        if len(pool) < size:
            return
        taken = [pool.pop() for _ in range(size)][::-1]
        phone = draw.phone()
        at = max(c.delivered for c in taken) + int(draw.uniform(10 * MINUTE, 3 * HOUR))
        for closed in taken:
            at += int(draw.uniform(2 * MINUTE, 30 * MINUTE))
            level = SATISFIED if draw.below(0.15) else VERY_SATISFIED
            self._schedule(
                now, closed, at, level, "sms", True, None, [], None, None, "shared_phone", rater_phone=phone
            )

    # -- records ---------------------------------------------------------------------------------

    def _schedule(
        self,
        now: int,
        closed: _Closed,
        rated_at: int,
        level: int,
        channel: str,
        real_name: bool,
        text: str | None,
        tags: list[str],
        device: str | None,
        ip: str | None,
        pattern: GamedPattern | None,
        *,
        rater_phone: str | None = None,
    ) -> None:
        if self.until is not None and rated_at >= self.until:
            return
        case = closed.case
        body: dict[str, Any] = {
            "case": case.get("id"),
            "case_source": case.get("source"),
            "unit": case.get("unit"),
        }
        if case.get("staff"):
            body["staff"] = case["staff"]
        body |= {
            "level": level,
            "channel": channel,
            "attempt": "first",
            "rater_kind": "legal_entity" if case.get("applicant_kind") == "legal_entity" else "person",
            "real_name": real_name,
        }
        phone = rater_phone or case.get("applicant_phone")
        if real_name and phone:
            body["rater_phone"] = phone
        if real_name and case.get("applicant_name"):
            body["rater_name"] = case["applicant_name"]
        if text:
            body["text"] = text
        body["tags"] = tags
        body["rated_at"] = dt.datetime.fromtimestamp(rated_at, self.tz).isoformat()
        if device is not None:
            body["device"] = device
        if ip is not None:
            body["ip"] = ip
        heapq.heappush(self.pending, (max(rated_at, now), next(self.order), body, pattern))

    def _dt(self, epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, self.calendar.tz)


def _limit_label(matter: SimMatter) -> str | None:
    if matter.limit_days:
        return f"{matter.limit_days}个工作日"
    if matter.limit_seconds:
        if matter.limit_seconds % HOUR == 0:
            return f"{matter.limit_seconds // HOUR}个工作小时"
        return f"{-(-matter.limit_seconds // MINUTE)}个工作分钟"
    return None
