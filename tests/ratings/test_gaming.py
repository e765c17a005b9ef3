"""Anti-gaming detectors (R4.10, R4.12): each pattern found, near misses not, and the scan flags
without dropping anything."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kaoping.ratings import gaming
from kaoping.ratings.gaming import Facts

T0 = 1_772_500_000


def top(pk: int, at: int, device: str = "TAB-1", level: int = 5) -> Facts:
    return Facts(rating_id=pk, level=level, channel="hall_tablet", rated_at=at, device=device)


def test_five_top_ratings_from_one_tablet_within_ten_minutes_are_a_burst():
    facts = [top(n, T0 + n * 120) for n in range(5)]  # 0..8 minutes
    found = gaming.bursts(facts, count=5, minutes=10)
    assert sorted(s.rating_id for s in found) == [0, 1, 2, 3, 4]
    assert {s.pattern for s in found} == {"burst"}


def test_spread_out_mixed_or_other_device_ratings_are_not_a_burst():
    spread = [top(n, T0 + n * 180) for n in range(5)]  # 12 minutes
    mixed = [top(n, T0 + n * 60, level=5 if n != 2 else 4) for n in range(5)]
    devices = [top(n, T0 + n * 60, device=f"TAB-{n % 2}") for n in range(5)]
    for facts in (spread, mixed, devices):
        assert gaming.bursts(facts, count=5, minutes=10) == []


@given(st.lists(st.integers(min_value=0, max_value=3600), min_size=0, max_size=30))
def test_a_rating_is_in_a_burst_exactly_when_some_window_of_five_holding_it_spans_ten_minutes(offsets):
    facts = [top(n, T0 + offset) for n, offset in enumerate(offsets)]
    flagged = {s.rating_id for s in gaming.bursts(facts, count=5, minutes=10)}
    order = sorted(range(len(offsets)), key=lambda n: (offsets[n], n))
    expected: set[int] = set()
    for end in range(4, len(order)):
        run = order[end - 4 : end + 1]
        if offsets[run[-1]] - offsets[run[0]] <= 600:
            expected.update(run)
    assert flagged == expected


def test_a_rating_seconds_after_handling_on_the_handlers_terminal_is_flagged():
    own = Facts(
        1,
        5,
        "hall_terminal",
        T0 + 8,
        device="PC-E1",
        case_id=9,
        handled_at=T0,
        handler_devices=frozenset({"PC-E1"}),
    )
    later = Facts(
        2,
        5,
        "hall_terminal",
        T0 + 600,
        device="PC-E1",
        case_id=9,
        handled_at=T0,
        handler_devices=frozenset({"PC-E1"}),
    )
    tablet = Facts(
        3,
        5,
        "hall_tablet",
        T0 + 8,
        device="TAB-1",
        case_id=9,
        handled_at=T0,
        handler_devices=frozenset({"PC-E1"}),
    )
    found = gaming.own_terminal([own, later, tablet], seconds=60)
    assert [(s.rating_id, s.pattern) for s in found] == [(1, "own_terminal")]
    assert "8 秒" in found[0].detail


def test_one_phone_rating_many_cases_within_the_window_is_flagged_and_masked():
    phone = "13912345678"
    many = [Facts(n, 5, "sms", T0 + n * 86400, phone=phone, case_id=100 + n) for n in range(5)]
    same_case = [Facts(10 + n, 5, "sms", T0 + n, phone="13800000000", case_id=7) for n in range(8)]
    spread = [
        Facts(20 + n, 5, "sms", T0 + n * 10 * 86400, phone="13700000000", case_id=200 + n) for n in range(5)
    ]
    found = gaming.phone_repeats(many + same_case + spread, cases=5, days=30)
    assert sorted(s.rating_id for s in found) == [0, 1, 2, 3, 4]
    assert "139****5678" in found[0].detail and phone not in found[0].detail


def test_public_channel_ratings_from_the_centres_network_are_flagged():
    networks = gaming.parse_networks(["10.20.0.0/16"])
    inside = Facts(1, 5, "qr_code", T0, ip="10.20.3.4")
    outside = Facts(2, 5, "qr_code", T0, ip="114.80.1.2")
    hall = Facts(3, 5, "hall_tablet", T0, ip="10.20.3.5")  # the hall's own tablet is on the network
    v6 = Facts(4, 5, "mobile", T0, ip="2001:db8::1")
    found = gaming.centre_network([inside, outside, hall, v6], networks=networks)
    assert [s.rating_id for s in found] == [1]


def test_scan_flags_every_pattern_and_keeps_the_ratings(rated_org, time_machine):
    from kaoping.ratings.codes import Convention
    from kaoping.ratings.models import Rating, RatingFlag
    from kaoping.ratings.services import ratings_ingest, ratings_scan
    from kaoping.workcal.calendar import SHANGHAI
    from tests.ratings.conftest import rating

    records = [
        # C1 was handled at 2026-03-03 10:00:00; rated 5 s later on the handler's own PC.
        rating("OWN", device="PC-E100", rated_at="2026-03-03T10:00:05+08:00", channel="hall_terminal"),
        rating("NET", case="C2", channel="qr_code", device="DEV-1", ip="10.20.8.8"),
    ]
    records += [
        rating(f"B{n}", case=None, unit="WA", device="TAB-WA", rated_at=f"2026-03-03T11:0{n}:00+08:00")
        for n in range(5)
    ]
    records += [
        rating(
            f"P{n}",
            case=None,
            unit="WB",
            device="",
            rater_phone="13600001111",
            channel="sms",
            rated_at=f"2026-03-0{n + 3}T12:00:00+08:00",
        )
        for n in range(3)
    ]
    report = ratings_ingest(
        actor="t",
        records=[(str(i), r) for i, r in enumerate(records)],
        label="t",
        convention=Convention.PROVINCIAL,
    )
    assert report.accepted == 10
    start = dt.datetime(2026, 3, 3, tzinfo=SHANGHAI)
    added = ratings_scan(start=start, end=start + dt.timedelta(days=5))
    flags = {(f.rating.external_id, f.pattern) for f in RatingFlag.objects.select_related("rating")}
    assert ("OWN", "own_terminal") in flags and ("NET", "centre_network") in flags
    assert {f"B{n}" for n in range(5)} <= {r for r, p in flags if p == "burst"}
    assert not any(p == "phone_repeat" for _, p in flags)  # ratings without a case are not counted
    assert added == len(flags)
    assert ratings_scan(start=start, end=start + dt.timedelta(days=5)) == 0  # raised once
    assert Rating.objects.count() == 10 and not Rating.objects.filter(excluded=True).exists()
