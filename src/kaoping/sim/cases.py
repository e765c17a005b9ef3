"""A synthetic case feed of a district service centre: case and event records as a source system would
send them (docs/data-formats.md, "Case records"). Pure Python and NumPy, no Django.

The feed is generated one calendar day at a time. Each working day draws the day's cases per window,
runs the window's counter queue, then places every later event of those cases in working time with
the calendar's bulk arithmetic. Records wait in a heap keyed by the instant the feed delivers them and
leave it once the simulation has passed that instant, so memory holds only the cases still open.

Everything random comes from one ``numpy.random.Generator`` drawn in a fixed order, so a config
always gives the same stream, and the first N days of a run are the same whatever its length.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import KW_ONLY, dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from kaoping.workcal.calendar import CalendarError, DayKind, WorkCalendar

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

KINDS = ("immediate", "committed", "joint")
CHANNELS = ("window", "online", "home_visit")
CHANNEL_WEIGHTS = (0.70, 0.25, 0.05)
WINDOW, ONLINE, HOME_VISIT = range(3)
IMMEDIATE, COMMITTED, JOINT = range(3)

# Volume: cases per window per working day at scale 1, by weekday (Monday first; a make-up workday on
# a weekend counts as an ordinary day) and on the first working day after a holiday.
CASES_PER_WINDOW_DAY = 60.0
WEEKDAY_FACTOR = (1.20, 1.00, 0.95, 0.95, 0.90, 1.00, 1.00)
AFTER_HOLIDAY_FACTOR = 1.5
# Arrival intensity over the day, relative to 1: (from, to, factor); later entries win.
HOURLY_SHAPE: tuple[tuple[dt.time, dt.time, float], ...] = (
    (dt.time(9, 30), dt.time(11, 0), 2.0),  # morning peak
    (dt.time(12, 0), dt.time(14, 30), 0.8),  # early-afternoon lull
    (dt.time(14, 30), dt.time(16, 0), 1.5),  # afternoon peak
    (dt.time(16, 0), dt.time(23, 59, 59), 0.8),
)
FRIDAY_AFTERNOON_FACTOR = 0.6

PERSON_RATE = 0.80
APPOINTMENT_RATE = 0.10  # of window and home-visit cases
PAUSE_RATE = 0.08  # of committed and joint cases
PAUSE_KINDS = ("supplement", "expert_review", "hearing")
PAUSE_KIND_WEIGHTS = (0.75, 0.15, 0.10)
NOTICE_RATE = 0.85  # of supplement pauses: the rest got no one-time notice (一次性告知)
SUPPLEMENT_TRIP_RATE = 0.6  # of supplements on non-online cases: the applicant came in with them
EXTRA_TRIP_RATE = 0.03  # of committed/joint window cases without a supplement: came in again anyway
EXTENSION_RATE = 0.03  # of committed and joint cases with a limit
OVERRUN_RATE = 0.05  # of cases with a limit: handled after it
LATE_DELIVERY_RATE = 0.04  # of results not handed over at the counter: delivered after more than 24 h

MINUTE, HOUR, DAY = 60, 3600, 86400
MAX_EVENTS = 13  # the longest event list one case can have

EXTENSION_REASONS = (
    "需现场核查，经批准延长办理时限",
    "涉及多个部门联合审查",
    "申请材料需组织专家论证",
    "情况复杂，需补充调查核实",
    "需征求利害关系人意见",
)
DEFAULT_APPROVER = "分管负责人"

# Common family names, most frequent first (drawn with Zipf-like weights), and given-name characters.
FAMILY_NAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文建国红志鹏宇浩"
    "欣怡子涵梓轩晨博思雨佳嘉琪婷雪慧晓东海波辉林峰斌凯颖萍倩宁飞鑫睿"
)
COMPANY_WORDS = (
    "恒信",
    "华泰",
    "鼎盛",
    "瑞丰",
    "博远",
    "新程",
    "安达",
    "宏图",
    "金源",
    "创联",
    "众合",
    "百川",
)
COMPANY_TRADES = (
    "科技",
    "商贸",
    "建筑工程",
    "餐饮管理",
    "物流",
    "文化传媒",
    "农业开发",
    "医疗器械",
    "物业服务",
)
COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
CITY = "青川"
REGION_CODE = "990100"
PHONE_PREFIXES = ("13", "15", "17", "18", "19")

# GB 11643 (居民身份证号码): weights 2^(17-i) mod 11, check character indexed by the sum mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"
# GB 32100 (统一社会信用代码): 31-character alphabet, weights 3^i mod 31.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714 (组织机构代码), the 9 characters inside a credit code.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class SimMatter:
    code: str
    kind: str  # "immediate" | "committed" | "joint"
    limit_seconds: int | None  # working seconds of the handling limit for hour/minute limits, else None
    limit_days: int | None  # working days for day limits, else None
    channels: tuple[str, ...]  # subset of CHANNELS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"matter {self.code}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        unknown = set(self.channels) - set(CHANNELS)
        if unknown or not self.channels:
            raise ValueError(
                f"matter {self.code}: channels {self.channels!r} must be a non-empty subset of {CHANNELS}"
            )
        for value in (self.limit_seconds, self.limit_days):
            if value is not None and value < 1:
                raise ValueError(f"matter {self.code}: a limit must be at least 1")


@dataclass(frozen=True)
class SimWindow:
    unit: str  # unit code, e.g. "W-01"
    staff: tuple[str, ...]  # employee numbers working there
    matters: tuple[SimMatter, ...]
    # How often this window lets a limit slip, relative to the usual rates (OVERRUN_RATE,
    # LATE_DELIVERY_RATE): 0.2 is a well-run window, 2 a struggling one. Windows differ in a real
    # centre, and an assessment that ranks identical windows would show nothing.
    slippage: float = 1.0


@dataclass(frozen=True)
class SimConfig:
    days: int
    seed: int
    # Keyword-only from here: it lets `start` (required) follow `scale` (defaulted) in this order.
    _: KW_ONLY
    scale: float = 1.0
    start: dt.date  # first simulated day
    source: str = "sim"
    fault_rate: float = 0.02  # share of events affected by each kind of data fault

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"days must not be negative, got {self.days}")
        if not self.scale >= 0:
            raise ValueError(f"scale must not be negative, got {self.scale}")
        if not 0 <= self.fault_rate <= 1:
            raise ValueError(f"fault_rate must be between 0 and 1, got {self.fault_rate}")


def simulate(
    config: SimConfig, windows: Sequence[SimWindow], calendar: WorkCalendar
) -> Iterator[dict[str, Any]]:
    """Yield case and event records (dicts exactly in the documented JSON format, instants as ISO 8601
    strings with +08:00), in the order a feed would deliver them (roughly by time, with the faults below).

    Faults, each at about ``config.fault_rate`` of events: delivered a day or more late, delivered twice
    (identical records), delivered after a later event of the same case. With probability
    ``fault_rate / 4`` a case's record comes after its first event. Events after the period's end
    (``start + days``, local midnight) are not emitted; late or duplicate deliveries of earlier events
    may still come after every on-time record.
    """
    return (record for _, record in _Simulator(config, windows, calendar).run())


def simulate_feed(
    config: SimConfig, windows: Sequence[SimWindow], calendar: WorkCalendar
) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
    """The same records as ``simulate``, each with the instant the feed delivers it: a replay's clock.
    (A record's own timestamp is no clock: late and out-of-order deliveries carry other instants.)"""
    for delivered, record in _Simulator(config, windows, calendar).run():
        yield dt.datetime.fromtimestamp(delivered, calendar.tz), record


# -- identity numbers ----------------------------------------------------------------------------


def id_number_check(body: str) -> str:
    """GB 11643 check character of the first 17 digits of a resident ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def credit_code_check(body: str) -> str:
    """GB 32100 check character of the first 17 characters of a unified social credit code."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-digit organisation code body."""
    value = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _credit_code(org_body: str) -> str:
    # 9 = registered by market regulation, 1 = enterprise; then region and organisation code.
    body = f"91{REGION_CODE}{org_body}{org_code_check(org_body)}"
    return body + credit_code_check(body)


# -- the simulator -------------------------------------------------------------------------------


@dataclass
class _Day:
    """One working day's cases across all windows, one array entry per case, in arrival order."""

    window: IntArray
    matter: IntArray  # index into _Simulator.matters
    channel: IntArray
    offset: IntArray  # arrival, in office seconds since the day's opening
    wait: IntArray  # queue wait at the counter (window channel), office seconds
    staff: IntArray  # index into the window's staff, -1 for none

    @classmethod
    def concat(cls, parts: Sequence[_Day]) -> _Day:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, index: IntArray) -> _Day:
        return _Day(*(getattr(self, f.name)[index] for f in fields(self)))


class _Simulator:
    def __init__(self, config: SimConfig, windows: Sequence[SimWindow], calendar: WorkCalendar) -> None:
        self.config = config
        self.windows = [w for w in windows if w.matters]
        self.slippage = np.array([w.slippage for w in self.windows], dtype=np.float64)
        self.calendar = calendar
        self.rng = np.random.default_rng(config.seed)
        # The calendar refuses zones whose offset changes, so one fixed offset formats every instant.
        offset = dt.datetime.combine(config.start, dt.time(12), tzinfo=calendar.tz).utcoffset()
        self.tz = dt.timezone(offset if offset is not None else dt.timedelta(0))
        self.end_epoch = self._midnight(config.start + dt.timedelta(days=config.days))

        # Office seconds of a day as times of day: index = working offset, value = seconds after midnight.
        self.office_tod: IntArray = np.concatenate(
            [np.arange(start, end, dtype=np.int64) for start, end in calendar.office_hours.bounds]
        )
        self.day_seconds = len(self.office_tod)
        self.arrival_cdf = {friday: self._arrival_cdf(friday) for friday in (False, True)}

        # Matters flattened over windows, with the per-matter values the vector code needs.
        self.matters = [(wi, m) for wi, w in enumerate(self.windows) for m in w.matters]
        self.window_matters = [
            np.array([i for i, (wi, _) in enumerate(self.matters) if wi == w], dtype=np.int64)
            for w in range(len(self.windows))
        ]
        self.kind: IntArray = np.array([KINDS.index(m.kind) for _, m in self.matters], dtype=np.int64)
        self.limit_seconds: IntArray = np.array(
            [m.limit_seconds or 0 for _, m in self.matters], dtype=np.int64
        )
        self.limit_days: IntArray = np.array([m.limit_days or 0 for _, m in self.matters], dtype=np.int64)
        weights = np.array(
            [
                [w if c in m.channels else 0.0 for c, w in zip(CHANNELS, CHANNEL_WEIGHTS, strict=True)]
                for _, m in self.matters
            ]
        ).reshape(-1, len(CHANNELS))
        self.channel_cdf: FloatArray = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        family_weights = 1.0 / (np.arange(len(FAMILY_NAMES)) + 5.0)
        self.family_cdf: FloatArray = np.cumsum(family_weights / family_weights.sum())

        self.heap: list[tuple[int, int, int, dict[str, Any]]] = []
        self.order = itertools.count()

    # -- driver ----------------------------------------------------------------------------------

    def run(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(delivery instant, record) pairs in delivery order."""
        for n in range(self.config.days):
            day = self.config.start + dt.timedelta(days=n)
            if self.windows and self.calendar.is_workday(day):
                self._generate(day)
            # Nothing generated later can be due before tomorrow's midnight: release what is.
            horizon = self._midnight(day + dt.timedelta(days=1))
            while self.heap and self.heap[0][0] < horizon:
                key, _, _, record = heapq.heappop(self.heap)
                yield key, record
        while self.heap:  # late and duplicate deliveries of events inside the period
            key, _, _, record = heapq.heappop(self.heap)
            yield key, record

    def _generate(self, day: dt.date) -> None:
        volume = CASES_PER_WINDOW_DAY * self.config.scale * WEEKDAY_FACTOR[day.weekday()]
        if self._after_holiday(day):
            volume *= AFTER_HOLIDAY_FACTOR
        parts = [self._window_day(w, volume, day.weekday() == 4) for w in range(len(self.windows))]
        cases = _Day.concat(parts)
        if len(cases.window):
            # Case numbers follow arrival order across the centre.
            self._place(day, cases.take(np.argsort(cases.offset, kind="stable")))

    def _after_holiday(self, day: dt.date) -> bool:
        """Whether the days off just before ``day`` include a holiday (not only a weekend)."""
        previous = day - dt.timedelta(days=1)
        try:
            for _ in range(15):
                if self.calendar.is_workday(previous):
                    return False
                if self.calendar.day_kind(previous) is DayKind.HOLIDAY:
                    return True
                previous -= dt.timedelta(days=1)
        except CalendarError:  # before the calendar's span: nothing to know
            pass
        return False

    # -- arrivals and the counter queue ----------------------------------------------------------

    def _arrival_cdf(self, friday: bool) -> FloatArray:
        weight = np.ones(self.day_seconds)
        for start, end, factor in HOURLY_SHAPE:
            weight[(self.office_tod >= _seconds(start)) & (self.office_tod < _seconds(end))] = factor
        if friday:
            weight[self.office_tod >= 12 * HOUR] *= FRIDAY_AFTERNOON_FACTOR
        cdf: FloatArray = np.cumsum(weight)
        return np.asarray(cdf / cdf[-1], dtype=np.float64)

    def _window_day(self, w: int, volume: float, friday: bool) -> _Day:
        rng = self.rng
        n = int(rng.poisson(volume))
        # Arrival instants as working offsets into the day, drawn from the day's intensity curve.
        offset = np.searchsorted(self.arrival_cdf[friday], rng.random(n), side="right")
        offset = np.sort(np.minimum(offset, self.day_seconds - 1)).astype(np.int64)
        matters = self.window_matters[w]
        matter = matters[rng.integers(len(matters), size=n)]
        # A channel the matter does not offer has a zero-width step in its cumulative weights.
        channel = (rng.random(n)[:, None] >= self.channel_cdf[matter]).sum(axis=1).astype(np.int64)
        staff_count = len(self.windows[w].staff)
        staff = rng.integers(staff_count, size=n) if staff_count else np.full(n, -1)
        # Before the counter: take a number, fill in forms. Then the counter time of intake (committed,
        # joint) or of the whole matter (immediate, most of it done on the spot).
        ready = offset + 3 * MINUTE + rng.exponential(8 * MINUTE, n)
        counter = np.where(
            self.kind[matter] == IMMEDIATE,
            np.clip(rng.lognormal(math.log(8 * MINUTE), 0.5, n), 2 * MINUTE, 20 * MINUTE),
            rng.uniform(5 * MINUTE, 15 * MINUTE, n),
        )
        wait = np.zeros(n, dtype=np.int64)
        # One FIFO queue per window served by its staff: it is what makes peaks and thin staffing wait.
        free = [0.0] * max(staff_count, 1)
        at_counter = np.flatnonzero(channel == WINDOW)
        ready_list, counter_list = ready.tolist(), counter.tolist()
        for i in sorted(at_counter.tolist(), key=ready_list.__getitem__):
            server = min(range(len(free)), key=free.__getitem__)
            start = max(ready_list[i], free[server])
            # A long queue makes the staff hurry (down to 40 % of the usual counter time).
            free[server] = start + counter_list[i] * max(0.4, 1 - (start - ready_list[i]) / HOUR)
            wait[i] = round(start) - offset[i]
            if staff_count:
                staff[i] = server
        return _Day(np.full(n, w, dtype=np.int64), matter, channel, offset, wait, staff.astype(np.int64))

    # -- later events, in working time -----------------------------------------------------------

    def _place(self, day: dt.date, c: _Day) -> None:
        rng, cal, n, day_s = self.rng, self.calendar, len(c.window), float(self.day_seconds)
        day_epoch = self._midnight(day)
        arrive = day_epoch + self.office_tod[c.offset]
        arrive_ord = int(cal.working_ordinal_bulk(np.array([day_epoch], dtype=np.int64))[0]) + c.offset

        def instants(ordinals: IntArray) -> IntArray:
            """Instants of working-time ordinals, all at or after each case's arrival."""
            at, _ = cal.due_after_working_seconds_bulk(arrive, np.maximum(ordinals - arrive_ord, 1))
            return at

        kind, channel = self.kind[c.matter], c.channel
        staged = kind != IMMEDIATE

        # Acceptance: the counter queue, a home visit being scheduled, an online submission examined.
        wait = np.select(
            [channel == WINDOW, channel == HOME_VISIT],
            [c.wait, 5 * MINUTE + rng.exponential(10 * MINUTE, n)],
            # Online submissions are examined within minutes, slower where limits slip.
            np.clip(rng.lognormal(math.log(6 * MINUTE), 0.8, n) * self.slippage[c.window], MINUTE, 4 * HOUR),
        ).astype(np.int64)
        accept_ord = arrive_ord + np.maximum(wait, MINUTE)
        accept = instants(accept_ord)

        # The handling limit in working seconds from acceptance (day limits end at a close of office).
        limit = self.limit_seconds[c.matter].copy()
        by_days = self.limit_days[c.matter] > 0
        if by_days.any():
            due, _ = cal.due_after_working_days_bulk(accept[by_days], self.limit_days[c.matter][by_days])
            limit[by_days] = cal.working_ordinal_bulk(due) - accept_ord[by_days]
        has_limit = limit > 0

        # Handling time on the handling clock (pauses excluded), by kind, then fitted to the limit.
        draw = np.select(
            [kind == IMMEDIATE, kind == COMMITTED],
            [
                np.clip(rng.lognormal(math.log(15 * MINUTE), 0.8, n), 2 * MINUTE, 90 * MINUTE),
                rng.uniform(1, 4, n) * day_s,
            ],
            rng.uniform(3, 9, n) * day_s,
        )
        slippage = self.slippage[c.window]
        overrun = has_limit & (rng.random(n) < OVERRUN_RATE * slippage)
        extension = has_limit & staged & ~overrun & (rng.random(n) < EXTENSION_RATE)
        within, beyond, extended = (
            rng.uniform(0.3, 0.97, n),
            rng.uniform(1.02, 1.5, n),
            rng.uniform(1.05, 1.6, n),
        )
        service = np.where(has_limit & (draw > 0.97 * limit), limit * within, draw)
        service = np.where(overrun, np.maximum(draw, limit * beyond), service)
        service = np.where(extension, limit * extended, service)  # the extension (double) covers it
        service = np.maximum(service, MINUTE).astype(np.int64)
        extension_at = (limit * rng.uniform(0.6, 0.95, n)).astype(np.int64)

        # Pauses stop the handling clock for 1-5 working days.
        pause = staged & (rng.random(n) < PAUSE_RATE)
        pause_kind = np.searchsorted(np.cumsum(PAUSE_KIND_WEIGHTS), rng.random(n) * sum(PAUSE_KIND_WEIGHTS))
        pause_kind = np.minimum(pause_kind, len(PAUSE_KINDS) - 1)
        pause_at = (service * rng.uniform(0.1, 0.7, n)).astype(np.int64)
        pause_len = (day_s * (rng.integers(1, 6, n) + rng.uniform(-0.3, 0.3, n))).astype(np.int64)
        supplement = pause & (pause_kind == 0)
        notice = supplement & (rng.random(n) < NOTICE_RATE)
        supplement_trip = supplement & (channel != ONLINE) & (rng.random(n) < SUPPLEMENT_TRIP_RATE)
        extra_trip = staged & (channel == WINDOW) & ~supplement & (rng.random(n) < EXTRA_TRIP_RATE)
        extra_trip_at = (service * rng.uniform(0.2, 0.9, n)).astype(np.int64)

        def on_clock(clock: IntArray) -> IntArray:
            """Working ordinal of a reading of the handling clock: after a pause, shifted by it."""
            return accept_ord + clock + np.where(pause & (clock > pause_at), pause_len, 0)

        pause_start = instants(accept_ord + pause_at)
        pause_end = instants(accept_ord + pause_at + pause_len)
        extension_instant = instants(on_clock(extension_at))
        extra_trip_instant = instants(on_clock(extra_trip_at))
        handled = instants(on_clock(service))

        # Delivery: at the counter right away for immediate matters there, else hours (some days) later,
        # moved into office hours.
        at_counter = (kind == IMMEDIATE) & (channel != ONLINE)
        after = rng.exponential(3 * HOUR, n) + np.where(
            rng.random(n) < LATE_DELIVERY_RATE * slippage, rng.uniform(24 * HOUR, 72 * HOUR, n), 0
        )
        natural = np.where(at_counter, 0, after).astype(np.int64)
        settle = np.where(
            at_counter, rng.integers(MINUTE, 10 * MINUTE, n), rng.integers(MINUTE, 15 * MINUTE, n)
        )
        delivered, _ = cal.due_after_working_seconds_bulk(handled + natural, settle.astype(np.int64))

        # Appointments, booked online 1-3 days before at any hour and answered in working minutes.
        appointment = (channel != ONLINE) & (rng.random(n) < APPOINTMENT_RATE)
        booked = day_epoch - rng.integers(1, 4, n) * DAY + rng.integers(8 * HOUR, 22 * HOUR, n)
        response = np.clip(rng.lognormal(math.log(5 * MINUTE), 0.9, n), 30, 2 * HOUR).astype(np.int64)
        responded, _ = cal.due_after_working_seconds_bulk(booked, response)

        # Applicants and the case records' own random parts.
        person = rng.random(n) < PERSON_RATE
        family = np.searchsorted(self.family_cdf, rng.random(n), side="right")
        family = np.minimum(family, len(FAMILY_NAMES) - 1)  # guards against the cdf ending at 1 - ε
        given = rng.integers(len(GIVEN_CHARS), size=(n, 2))
        one_char_given = rng.random(n) < 0.3
        phone_prefix = rng.integers(len(PHONE_PREFIXES), size=n)
        phone_rest = rng.integers(10**9, size=n)
        birth = np.datetime64(day, "D") - rng.integers(18 * 365, 80 * 365, n).astype("timedelta64[D]")
        id_seq = rng.integers(1000, size=n)
        company = rng.integers((len(COMPANY_WORDS), len(COMPANY_TRADES), len(COMPANY_FORMS)), size=(n, 3))
        org_body = rng.integers(10**8, size=n)
        extension_extra = rng.integers(len(EXTENSION_REASONS), size=n)
        approver = rng.random(n)
        faults = rng.random((n, MAX_EVENTS + 1, 3))

        ymd = f"{day:%Y%m%d}"
        columns = {
            name: array.tolist()
            for name, array in {
                "arrive": arrive,
                "accept": accept,
                "handled": handled,
                "delivered": delivered,
                "pause": pause,
                "pause_kind": pause_kind,
                "pause_start": pause_start,
                "pause_end": pause_end,
                "notice": notice,
                "supplement_trip": supplement_trip,
                "extension": extension,
                "extension_instant": extension_instant,
                "extra_trip": extra_trip,
                "extra_trip_instant": extra_trip_instant,
                "appointment": appointment,
                "booked": booked,
                "responded": responded,
                "person": person,
                "family": family,
                "given": given,
                "one_char_given": one_char_given,
                "phone_prefix": phone_prefix,
                "phone_rest": phone_rest,
                "birth": birth,
                "id_seq": id_seq,
                "company": company,
                "org_body": org_body,
                "reason": extension_extra,
                "approver": approver,
            }.items()
        }
        window, matter, chan, staff = (a.tolist() for a in (c.window, c.matter, c.channel, c.staff))
        for i in range(n):
            row = {name: values[i] for name, values in columns.items()}
            case_id = f"{self.config.source}-{ymd}-{i + 1:06d}"
            self._emit_case(case_id, window[i], matter[i], chan[i], staff[i], row, faults[i])

    # -- records ---------------------------------------------------------------------------------

    def _emit_case(
        self, case_id: str, w: int, m: int, channel: int, staff: int, row: dict[str, Any], faults: FloatArray
    ) -> None:
        window, matter = self.windows[w], self.matters[m][1]
        source, iso = self.config.source, self._iso
        received = row["arrive"]
        case: dict[str, Any] = {
            "type": "case",
            "source": source,
            "id": case_id,
            "matter": matter.code,
            "unit": window.unit,
            "channel": CHANNELS[channel],
            "applicant_kind": "person" if row["person"] else "legal_entity",
            "received_at": iso(received),
        }
        if staff >= 0:
            case["staff"] = window.staff[staff]
        case.update(self._applicant(row))

        # The case's events in the order they happen; a stable sort by instant keeps this order on ties.
        events: list[tuple[str, int, dict[str, Any]]] = []
        if row["appointment"]:
            events += [
                ("appointment_made", row["booked"], {}),
                ("appointment_responded", row["responded"], {}),
            ]
        if channel != ONLINE:
            events.append(("arrived", received, {}))
        events.append(("accepted", row["accept"], {}))
        if row["pause"]:
            kind = PAUSE_KINDS[row["pause_kind"]]
            if row["notice"]:
                events.append(("one_time_notice", row["pause_start"], {}))
            events.append(("pause_started", row["pause_start"], {"pause_kind": kind}))
            if row["supplement_trip"]:
                events.append(("trip", row["pause_end"], {}))
            if kind == "supplement":
                events.append(("resubmission", row["pause_end"], {}))
            events.append(("pause_ended", row["pause_end"], {}))
        if row["extension"]:
            events.append(
                ("extension_granted", row["extension_instant"], self._extension(window, matter, row))
            )
        if row["extra_trip"]:
            events.append(("trip", row["extra_trip_instant"], {}))
        events.append(("handled", row["handled"], {}))
        events.append(("delivered", row["delivered"], {}))
        events.sort(key=lambda e: e[1])

        # Delivery keys: (instant the feed sends it, 0 for a case / 1 for an event, running order).
        # Appointment events are sent with the case: the feed learns of them when the case exists.
        keyed: list[tuple[int, int, int, dict[str, Any]]] = []
        for n, (name, at, extra) in enumerate(events, start=1):
            if at >= self.end_epoch:
                continue  # still open at the end of the period
            record = {
                "type": "event",
                "source": source,
                "id": f"{case_id}/{n}",
                "case": case_id,
                "event": name,
            }
            record["at"] = iso(at)
            record.update(extra)
            keyed.append((max(at, received), 1, next(self.order), record))

        rate = self.config.fault_rate
        late, twice, swap = faults[: len(keyed)].T
        # Out of order: a pair of neighbours trades delivery keys, so the later one goes out first.
        for k in range(1, len(keyed)):
            if swap[k] < rate / 2:
                (earlier, *_, first), (later, *_, second) = keyed[k - 1], keyed[k]
                second_order = next(self.order)  # on equal instants the later event still goes first
                keyed[k - 1], keyed[k] = (
                    (later, 1, next(self.order), first),
                    (earlier, 1, second_order, second),
                )
        for k in range(len(keyed)):
            key, prio, order, record = keyed[k]
            if late[k] < rate:  # the conditional draw is uniform again: reuse it for the delay
                keyed[k] = (key + DAY + int(late[k] / rate * 2 * DAY), prio, order, record)
            if twice[k] < rate:
                keyed.append((keyed[k][0] + int(twice[k] / rate * HOUR), 1, next(self.order), dict(record)))

        case_key = (received, 0, next(self.order), case)
        if keyed and faults[MAX_EVENTS, 0] < rate / 4:  # the case record trails its first event
            case_key = (min(keyed)[0], 2, next(self.order), case)
        heapq.heappush(self.heap, case_key)
        for item in keyed:
            heapq.heappush(self.heap, item)

    def _applicant(self, row: dict[str, Any]) -> dict[str, str]:
        phone = f"{PHONE_PREFIXES[row['phone_prefix']]}{row['phone_rest']:09d}"
        if not row["person"]:
            word, trade, form = row["company"]
            name = f"{CITY}{COMPANY_WORDS[word]}{COMPANY_TRADES[trade]}{COMPANY_FORMS[form]}"
            return {
                "applicant_name": name,
                "applicant_phone": phone,
                "applicant_id_number": _credit_code(f"{row['org_body']:08d}"),
            }
        given = row["given"][:1] if row["one_char_given"] else row["given"]
        body = f"{REGION_CODE}{row['birth']:%Y%m%d}{row['id_seq']:03d}"
        return {
            "applicant_name": FAMILY_NAMES[row["family"]] + "".join(GIVEN_CHARS[g] for g in given),
            "applicant_phone": phone,
            "applicant_id_number": body + id_number_check(body),
        }

    def _extension(self, window: SimWindow, matter: SimMatter, row: dict[str, Any]) -> dict[str, Any]:
        # The statutory pattern: the limit is doubled once, with a leader's approval.
        if matter.limit_days:
            limit = f"{2 * matter.limit_days} wd"
        elif matter.limit_seconds is not None and matter.limit_seconds % HOUR == 0:
            limit = f"{2 * matter.limit_seconds // HOUR} wh"
        else:
            limit = f"{-(-2 * (matter.limit_seconds or 0) // MINUTE)} wmin"
        staff = window.staff
        approver = staff[int(row["approver"] * len(staff))] if staff else DEFAULT_APPROVER
        return {
            "reason": EXTENSION_REASONS[row["reason"]],
            "approver": approver,
            "limit": limit,
            "node": "handling",
        }

    # -- time ------------------------------------------------------------------------------------

    def _midnight(self, day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(), tzinfo=self.calendar.tz).timestamp())

    def _iso(self, epoch: int) -> str:
        return dt.datetime.fromtimestamp(epoch, self.tz).isoformat()


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
