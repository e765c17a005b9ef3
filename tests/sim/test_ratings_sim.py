"""The rating simulator (好差评): format, determinism, delivery order, levels that follow the service, texts,
and the gamed patterns the anti-gaming detectors must find (no database)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.ratings import codes
from kaoping.sim.cases import SimConfig, SimMatter, SimWindow, simulate_feed
from kaoping.sim.ratings import (
    GAMED_PATTERNS,
    MAX_TEXT,
    RATING_CHANNELS,
    TAGS,
    GamedRating,
    RatingSimConfig,
    _Rater,
    rate_feed,
)
from kaoping.workcal.calendar import WorkCalendar

CAL = WorkCalendar(
    holidays={dt.date(2026, 4, 6): "清明节", dt.date(2026, 4, 7): "清明节", dt.date(2026, 5, 1): "劳动节"},
    make_up_workdays=[dt.date(2026, 4, 11)],
    published_years=[2025, 2026],
)
START = dt.date(2026, 3, 2)  # a Monday
TZ8 = dt.timedelta(hours=8)

IMMEDIATE = SimMatter("M-IMM", "immediate", 3600, None, ("window", "online", "home_visit"))
COMMITTED = SimMatter("M-COM", "committed", None, 5, ("window", "online"))
COMMITTED_HOURS = SimMatter("M-WH", "committed", 4 * 3600, None, ("window",))
JOINT = SimMatter("M-JNT", "joint", None, 15, ("window", "online"))
MATTERS = (IMMEDIATE, COMMITTED, COMMITTED_HOURS, JOINT)
# Ten windows staffed by one, two or three people.
WINDOWS = [
    SimWindow(f"W-{i:02d}", tuple(f"QC{i:02d}{j}" for j in range(1 + i % 3)), MATTERS) for i in range(10)
]
NETWORK = ipaddress.IPv4Network("10.20.0.0/16")

REQUIRED = {"type", "source", "id", "case", "case_source", "unit", "level", "channel", "attempt"}
REQUIRED |= {"rater_kind", "real_name", "tags", "rated_at"}
OPTIONAL = {"staff", "rater_phone", "rater_name", "text", "device", "ip"}
MOBILE = re.compile(r"1[3-9]\d{9}")
COMPLAINT_WORDS: tuple[str, ...] = ("排队", "等了", "太慢", "没办好", "跑了", "材料", "态度", "不耐烦")
COMPLAINT_WORDS += ("系统", "失败", "报错", "不清楚", "说法", "太吵", "坏了", "时限")
COMPLAINT_WORDS += ("进度", "爱答不理", "不客气", "一拖再拖", "没人", "排了", "队伍", "才办好")
COMPLAINT_WORDS += ("收不到", "来回", "折腾")
PRAISE_WORDS: tuple[str, ...] = ("很好", "热情", "周到", "耐心", "效率", "很快", "方便", "清楚")
PRAISE_WORDS += ("点赞", "感谢", "谢谢", "整洁", "顺利", "不错", "省心", "明白")
PRAISE_WORDS += ("到位", "贴心", "热水", "帮忙", "当场", "办好了", "办成了", "快多了")
PRAISE_WORDS += ("表扬", "辛苦", "舒服", "这么快")


Pair = tuple[dt.datetime, dict[str, Any]]


def case_feed(
    days: int, seed: int = 3, fault_rate: float = 0.02, windows: list[SimWindow] = WINDOWS
) -> list[Pair]:
    return list(simulate_feed(SimConfig(days, seed, start=START, fault_rate=fault_rate), windows, CAL))


def rated(
    feed: list[Pair], *, seed: int = 1, windows: list[SimWindow] = WINDOWS, **options: Any
) -> tuple[list[Pair], list[GamedRating]]:
    gamed: list[GamedRating] = []
    config = RatingSimConfig(seed, **options)
    out = list(rate_feed(feed, config=config, windows=windows, matters=MATTERS, calendar=CAL, gamed=gamed))
    return out, gamed


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@dataclass
class Run:
    """A rated feed indexed: cases, the first delivery of each event by kind, ratings, gamed ids."""

    feed: list[Pair]
    out: list[Pair]
    gamed: dict[str, str]

    def __post_init__(self) -> None:
        self.records = [r for _, r in self.out]
        self.cases = {r["id"]: r for r in self.records if r["type"] == "case"}
        self.events: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for r in self.records:
            if r["type"] == "event":
                self.events[r["case"]].setdefault(r["event"], r)
        self.ratings = [r for r in self.records if r["type"] == "rating"]
        self.genuine = [r for r in self.ratings if r["id"] not in self.gamed]

    def event_at(self, case: str, kind: str) -> dt.datetime | None:
        event = self.events[case].get(kind)
        return at(event["at"]) if event else None

    def closed(self) -> list[str]:
        return [c for c in self.cases if self.event_at(c, "handled") and self.event_at(c, "delivered")]

    def of_pattern(self, pattern: str) -> list[dict[str, Any]]:
        return [r for r in self.ratings if self.gamed.get(r["id"]) == pattern]


def make_run(days: int, *, gaming: bool, seed: int = 1) -> Run:
    feed = case_feed(days)
    out, gamed = rated(feed, seed=seed, gaming=gaming)
    return Run(feed, out, {g.rating: g.pattern for g in gamed})


@pytest.fixture(scope="module")
def gaming_on() -> Run:
    return make_run(20, gaming=True)


@pytest.fixture(scope="module")
def gaming_off() -> Run:
    return make_run(20, gaming=False)


# -- detectors the tests use to see the gamed patterns in the data alone -------------------------------


def tablet_bursts(ratings: list[dict[str, Any]], size: int = 8, span: int = 600) -> set[str]:
    """Devices of hall tablets with ``size`` 非常满意 within ``span`` seconds."""
    by_device: dict[str, list[float]] = defaultdict(list)
    for r in ratings:
        if r["channel"] == "hall_tablet" and r["level"] == 1:
            by_device[r["device"]].append(at(r["rated_at"]).timestamp())
    found = set()
    for device, times in by_device.items():
        times.sort()
        if any(times[i + size - 1] - times[i] <= span for i in range(len(times) - size + 1)):
            found.add(device)
    return found


def own_terminal(run: Run, ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ratings on the handling staff member's own terminal within 10 s of handling."""
    found = []
    for r in ratings:
        handled = run.event_at(r["case"], "handled")
        own = r.get("device") == f"PC-{r.get('staff')}"
        if own and handled is not None and 0 <= (at(r["rated_at"]) - handled).total_seconds() <= 10:
            found.append(r)
    return found


def shared_phones(ratings: list[dict[str, Any]]) -> dict[str, int]:
    cases: dict[str, set[str]] = defaultdict(set)
    for r in ratings:
        if "rater_phone" in r:
            cases[r["rater_phone"]].add(r["case"])
    return {phone: len(c) for phone, c in cases.items() if len(c) >= 6}


def from_centre(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in ratings if r["channel"] == "qr_code" and ipaddress.IPv4Address(r["ip"]) in NETWORK]


# -- determinism and the feed ------------------------------------------------------------------------


def test_same_config_gives_the_same_stream_and_another_seed_another() -> None:
    feed = case_feed(4)
    first, gamed = rated(feed, seed=5)
    again, gamed_again = rated(feed, seed=5)
    assert first == again and gamed == gamed_again
    other, _ = rated(feed, seed=6)
    assert [r for _, r in first if r["type"] == "rating"] != [r for _, r in other if r["type"] == "rating"]


def test_every_feed_item_passes_through_unchanged_in_delivery_order(gaming_on: Run) -> None:
    passed = [pair for pair in gaming_on.out if pair[1]["type"] != "rating"]
    assert passed == gaming_on.feed
    assert all(a is b for a, b in zip(passed, gaming_on.feed, strict=True))  # the very same objects
    instants = [instant for instant, _ in gaming_on.out]
    assert instants == sorted(instants)
    assert all(i.utcoffset() == TZ8 and str(i.tzinfo) == "Asia/Shanghai" for i in instants)


def test_a_rating_is_delivered_at_its_instant_or_with_the_record_that_decided_it(gaming_on: Run) -> None:
    lags = [instant - at(r["rated_at"]) for instant, r in gaming_on.out if r["type"] == "rating"]
    assert all(lag >= dt.timedelta(0) for lag in lags)
    assert sum(lag == dt.timedelta(0) for lag in lags) > 0.9 * len(lags)


def test_the_input_records_are_not_modified() -> None:
    feed = case_feed(3)
    copies = [(instant, dict(record)) for instant, record in feed]
    rated(feed)
    assert feed == copies


def test_ratings_stream_without_rating_the_whole_period() -> None:
    feed = simulate_feed(SimConfig(10_000, 1, start=START), WINDOWS, CAL)
    began = time.perf_counter()
    stream = rate_feed(feed, config=RatingSimConfig(1), windows=WINDOWS, matters=MATTERS, calendar=CAL)
    head = list(itertools.islice((r for _, r in stream if r["type"] == "rating"), 50))
    assert len(head) == 50
    assert time.perf_counter() - began < 5


def test_memory_holds_only_open_cases() -> None:
    feed = case_feed(30)
    rater = _Rater(RatingSimConfig(2), WINDOWS, MATTERS, CAL)
    peak = 0
    for _ in rater.run(feed, None):
        peak = max(peak, len(rater.open))
    cases = sum(r["type"] == "case" for _, r in feed)
    # Committed and joint cases stay open for days to weeks: far fewer than the period's cases.
    assert 0 < peak < cases / 3
    # What is left at the end: cases never closed within the period.
    assert all(state.handled is None or state.delivered is None for state in rater.open.values())
    assert sum(len(pool) for pool in rater.pools.values()) <= 30 * len(WINDOWS)
    assert not rater.pending


def test_empty_feed_gives_nothing() -> None:
    assert rated([]) == ([], [])


def test_until_cuts_ratings_at_the_end_of_the_period() -> None:
    feed = case_feed(5)
    until = dt.datetime.combine(START + dt.timedelta(days=5), dt.time(), tzinfo=CAL.tz)
    out, _ = rated(feed, until=until)
    ratings = [r for _, r in out if r["type"] == "rating"]
    assert ratings and all(at(r["rated_at"]) < until for r in ratings)
    uncut, _ = rated(feed)
    assert any(at(r["rated_at"]) >= until for _, r in uncut if r["type"] == "rating")


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="source"):
        RatingSimConfig(1, source="x" * 41)
    with pytest.raises(ValueError, match="rating_rate"):
        RatingSimConfig(1, rating_rate=1.5)
    with pytest.raises(ValueError, match="centre_network"):
        RatingSimConfig(1, centre_network="10.20.0.0/33")
    with pytest.raises(ValueError, match="aware"):
        RatingSimConfig(1, until=dt.datetime(2026, 3, 1))  # noqa: DTZ001 - the naive instant under test


# -- format --------------------------------------------------------------------------------------


def test_the_lists_match_the_ratings_app() -> None:
    assert set(RATING_CHANNELS) == {c.value for c in codes.Channel if c is not codes.Channel.DEFAULT}
    assert TAGS == codes.TAGS and MAX_TEXT == codes.MAX_TEXT


def test_ids_are_unique_and_short(gaming_on: Run) -> None:
    ids = [r["id"] for r in gaming_on.ratings]
    assert len(ids) == len(set(ids)) > 1000
    assert all(len(i) <= 80 and re.fullmatch(r"sim-hcp-\d{8}-\d{7}", i) for i in ids)


def test_every_rating_has_the_documented_fields(gaming_on: Run) -> None:
    for r in gaming_on.ratings:
        assert REQUIRED <= r.keys() <= REQUIRED | OPTIONAL, r
        case = gaming_on.cases[r["case"]]
        assert r["source"] == "sim-hcp" and r["case_source"] == case["source"] == "sim"
        assert r["unit"] == case["unit"] and r.get("staff") == case.get("staff")
        assert type(r["level"]) is int and 1 <= r["level"] <= 5
        assert r["channel"] in RATING_CHANNELS
        assert r["attempt"] == "first"
        assert r["rater_kind"] == case["applicant_kind"]
        assert type(r["real_name"]) is bool
        if not r["real_name"]:
            assert "rater_phone" not in r and "rater_name" not in r
        else:
            assert MOBILE.fullmatch(r["rater_phone"]) and r["rater_name"] == case["applicant_name"]
        assert "text" not in r or 0 < len(r["text"]) <= MAX_TEXT
        assert isinstance(r["tags"], list) and set(r["tags"]) <= set(TAGS)
        assert len(r["tags"]) == len(set(r["tags"]))
        assert r["rated_at"].endswith("+08:00") and at(r["rated_at"]).utcoffset() == TZ8
        if r["channel"] in ("qr_code", "mobile", "pc"):
            ipaddress.IPv4Address(r["ip"])
            assert re.fullmatch(r"DEV-[0-9a-f]{12}", r["device"])
        else:
            assert "ip" not in r


def test_genuine_ratings_come_from_public_addresses_and_the_citizens_own_devices(gaming_on: Run) -> None:
    for r in gaming_on.genuine:
        if "ip" in r:
            address = ipaddress.IPv4Address(r["ip"])
            assert address.is_global and address not in NETWORK
        if r["channel"] == "hall_tablet":
            assert r["device"] == f"TAB-{r['unit']}"
        assert not r.get("device", "").startswith("PC-")
        if r["real_name"]:
            assert r["rater_phone"] == gaming_on.cases[r["case"]]["applicant_phone"]


def test_every_rating_follows_its_case_in_the_stream_and_its_handling(gaming_on: Run) -> None:
    seen: set[str] = set()
    rated_cases: set[str] = set()
    for r in gaming_on.records:
        if r["type"] == "case":
            seen.add(r["id"])
        elif r["type"] == "rating":
            assert r["case"] in seen
            assert r["case"] not in rated_cases  # one first rating per case
            rated_cases.add(r["case"])
            handled = gaming_on.event_at(r["case"], "handled")
            assert handled is not None and at(r["rated_at"]) > handled


# -- realism ---------------------------------------------------------------------------------------


def test_most_closed_cases_are_rated_soon_and_most_ratings_are_good(gaming_off: Run) -> None:
    closed = gaming_off.closed()
    assert 0.60 <= len(gaming_off.ratings) / len(closed) <= 0.70
    levels = Counter(r["level"] for r in gaming_off.ratings)
    total = len(gaming_off.ratings)
    assert (levels[1] + levels[2]) / total >= 0.94
    assert 0.01 <= (levels[4] + levels[5]) / total <= 0.05
    delays = []
    for r in gaming_off.ratings:
        delivered = gaming_off.event_at(r["case"], "delivered")
        assert delivered is not None
        delays.append((at(r["rated_at"]) - delivered).total_seconds())
    assert all(10 <= d <= 2 * 86400 for d in delays)
    assert statistics.median(delays) < 3600


def test_levels_are_worse_where_the_service_was_poor(gaming_off: Run) -> None:
    run, limits = gaming_off, {"M-IMM": 3600, "M-COM": 5, "M-WH": 4 * 3600, "M-JNT": 15}
    poor, fast = [], []
    for r in run.ratings:
        case, events = run.cases[r["case"]], run.events[r["case"]]
        accepted, handled = run.event_at(r["case"], "accepted"), run.event_at(r["case"], "handled")
        arrived = run.event_at(r["case"], "arrived")
        assert accepted is not None and handled is not None
        limit = limits[case["matter"]]
        if case["matter"] in ("M-COM", "M-JNT"):
            due = CAL.due_after_working_days(accepted, limit).at
        else:
            due = CAL.due_after_working_seconds(accepted, limit).at
        # Without pauses and extensions the due instant is exact.
        overran = handled > due and not {"pause_started", "extension_granted"} & events.keys()
        wait = CAL.working_seconds_between(arrived, accepted) / 60 if arrived else 0.0
        if overran or wait > 45 or "trip" in events:
            poor.append(r["level"])
        elif wait < 15 and handled <= due:
            fast.append(r["level"])
    assert len(poor) > 300 and len(fast) > 1500
    assert statistics.mean(poor) > statistics.mean(fast) + 0.4
    assert sum(level >= 4 for level in poor) / len(poor) > 4 * sum(level >= 4 for level in fast) / len(fast)


def test_channels_suit_how_the_case_was_handled(gaming_off: Run) -> None:
    by_case_channel: dict[str, Counter[str]] = defaultdict(Counter)
    for r in gaming_off.ratings:
        by_case_channel[gaming_off.cases[r["case"]]["channel"]][r["channel"]] += 1
    assert set(by_case_channel["online"]) == {"pc", "mobile"}
    assert by_case_channel["window"].keys() == {"hall_tablet", "qr_code", "hall_terminal", "sms", "phone"}
    assert by_case_channel["window"].most_common(2)[0][0] in ("hall_tablet", "qr_code")
    assert set(by_case_channel["home_visit"]) <= {"qr_code", "sms", "phone"}


def test_real_names_by_channel(gaming_off: Run) -> None:
    named: dict[str, list[bool]] = defaultdict(list)
    for r in gaming_off.ratings:
        named[r["channel"]].append(r["real_name"])
    assert all(named["sms"]) and all(named["phone"])
    assert statistics.mean(named["hall_tablet"]) > 0.7 > 0.5 > statistics.mean(named["qr_code"])
    legal = [r for r in gaming_off.ratings if r["rater_kind"] == "legal_entity"]
    assert legal and any(r.get("rater_name", "").endswith("公司") for r in legal)


def test_texts_vary_and_match_their_level(gaming_off: Run) -> None:
    ratings = gaming_off.ratings
    with_text = [r for r in ratings if "text" in r]
    assert 0.1 < len(with_text) / len(ratings) < 0.5  # many ratings have no text
    assert len({r["text"] for r in with_text}) > 0.6 * len(with_text)
    bad = [r for r in with_text if r["level"] >= 4]
    good = [r for r in with_text if r["level"] <= 2]
    assert len(bad) > 50 and len(good) > 500
    assert all(any(w in r["text"] for w in COMPLAINT_WORDS) for r in bad)
    assert all(any(w in r["text"] for w in PRAISE_WORDS) for r in good)
    assert not any(w in r["text"] for r in good for w in ("态度生硬", "排队时间太长", "太失望"))
    texts = " ".join(r["text"] for r in bad)
    for complaint in ("排队", "材料", "跑了", "态度", "系统"):
        assert complaint in texts
    # Some texts carry a phone number (masking has to find it), a few percent of them.
    phones = [r for r in with_text if MOBILE.search(r["text"])]
    assert 5 <= len(phones) < 0.1 * len(with_text)
    # Bad ratings mostly carry tags naming their trouble.
    assert sum(bool(r["tags"]) for r in bad) > 0.7 * len(bad)
    tags = Counter(t for r in ratings if r["level"] >= 4 for t in r["tags"])
    assert {"排队等候", "办事效率", "服务态度"} <= tags.keys()


# -- gamed patterns ----------------------------------------------------------------------------------


def test_gamed_ratings_are_reported_and_carry_no_marker(gaming_on: Run) -> None:
    patterns = Counter(gaming_on.gamed.values())
    assert set(patterns) == set(GAMED_PATTERNS)
    ids = {r["id"] for r in gaming_on.ratings}
    assert set(gaming_on.gamed) <= ids
    assert 0.01 < len(gaming_on.gamed) / len(ids) < 0.08  # a small share
    genuine_keys = set().union(*(r.keys() for r in gaming_on.genuine))
    for r in gaming_on.ratings:
        if r["id"] in gaming_on.gamed:
            assert r.keys() <= genuine_keys
            assert not any("gam" in str(v) or "fake" in str(v) for v in r.values())


def test_tablet_bursts_when_gaming_and_none_otherwise(gaming_on: Run, gaming_off: Run) -> None:
    burst = gaming_on.of_pattern("tablet_burst")
    assert len(burst) >= 16
    assert all(r["level"] == 1 and r["device"] == f"TAB-{r['unit']}" for r in burst)
    assert tablet_bursts(burst) == {r["device"] for r in burst}
    assert tablet_bursts(gaming_on.ratings) == {r["device"] for r in burst}
    assert tablet_bursts(gaming_off.ratings) == set()


def test_own_terminal_ratings_when_gaming_and_none_otherwise(gaming_on: Run, gaming_off: Run) -> None:
    gamed = gaming_on.of_pattern("own_terminal")
    assert len(gamed) >= 5 and all(r["level"] == 1 for r in gamed)
    assert own_terminal(gaming_on, gaming_on.ratings) == gamed
    assert own_terminal(gaming_off, gaming_off.ratings) == []


def test_one_phone_for_many_cases_when_gaming_and_none_otherwise(gaming_on: Run, gaming_off: Run) -> None:
    gamed = gaming_on.of_pattern("shared_phone")
    assert len(gamed) >= 6
    phones = shared_phones(gaming_on.ratings)
    assert phones and set(phones) == {r["rater_phone"] for r in gamed}
    assert shared_phones(gaming_off.ratings) == {}


def test_ratings_from_the_centres_network_when_gaming_and_none_otherwise(
    gaming_on: Run, gaming_off: Run
) -> None:
    gamed = gaming_on.of_pattern("centre_network")
    assert len(gamed) >= 5
    assert from_centre(gaming_on.ratings) == gamed
    assert from_centre(gaming_off.ratings) == []
    assert not gaming_off.gamed


def test_another_centre_network_is_used() -> None:
    feed = case_feed(10)
    out, gamed = rated(feed, centre_network="192.168.8.0/24", centre_network_rate=0.05)
    ids = {g.rating for g in gamed if g.pattern == "centre_network"}
    ips = [ipaddress.IPv4Address(r["ip"]) for _, r in out if r.get("id") in ids]
    assert ips and all(ip in ipaddress.IPv4Network("192.168.8.0/24") for ip in ips)


# -- any configuration -----------------------------------------------------------------------------


def rating_instants(pairs: Iterator[Pair]) -> list[dt.datetime]:
    return [instant for instant, _ in pairs]


@settings(max_examples=15, deadline=None)
@given(
    case_seed=st.integers(0, 2**32 - 1),
    rating_seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 8),
    fault_rate=st.floats(0, 0.3),
    rating_rate=st.floats(0, 1),
)
def test_order_and_references_hold_for_any_seed(
    case_seed: int, rating_seed: int, days: int, fault_rate: float, rating_rate: float
) -> None:
    feed = case_feed(days, seed=case_seed, fault_rate=fault_rate, windows=WINDOWS[:3])
    out, gamed = rated(feed, seed=rating_seed, windows=WINDOWS[:3], rating_rate=rating_rate, burst_rate=0.05)
    assert rating_instants(iter(out)) == sorted(rating_instants(iter(out)))
    assert [pair for pair in out if pair[1]["type"] != "rating"] == feed
    seen, ids = set(), set()
    for instant, r in out:
        if r["type"] == "case":
            seen.add(r["id"])
        elif r["type"] == "rating":
            assert r["case"] in seen and r["id"] not in ids and at(r["rated_at"]) <= instant
            ids.add(r["id"])
    assert {g.rating for g in gamed} <= ids
