"""The case-feed simulator: format, determinism, realism and data faults (no database)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.sim.cases import (
    CHANNELS,
    PAUSE_KINDS,
    SimConfig,
    SimMatter,
    SimWindow,
    credit_code_check,
    id_number_check,
    org_code_check,
    simulate,
    simulate_feed,
)
from kaoping.workcal.calendar import WorkCalendar
from kaoping.workcal.limits import Limit

# 清明 on Monday and Tuesday 6–7 April 2026, made up on Saturday 11 April; 劳动节 on 1 May.
QINGMING = (dt.date(2026, 4, 6), dt.date(2026, 4, 7))
AFTER_QINGMING = dt.date(2026, 4, 8)
CAL = WorkCalendar(
    holidays={QINGMING[0]: "清明节", QINGMING[1]: "清明节", dt.date(2026, 5, 1): "劳动节"},
    make_up_workdays=[dt.date(2026, 4, 11)],
    published_years=[2025, 2026],
)
START = dt.date(2026, 3, 2)  # a Monday
HOUR = 3600

IMMEDIATE = SimMatter("M-IMM", "immediate", 3600, None, ("window", "online", "home_visit"))
COMMITTED = SimMatter("M-COM", "committed", None, 5, ("window", "online"))
COMMITTED_HOURS = SimMatter("M-WH", "committed", 4 * 3600, None, ("window",))
JOINT = SimMatter("M-JNT", "joint", None, 15, ("window", "online"))
LIMITS = {"M-IMM": Limit.parse("1 wh"), "M-COM": Limit.parse("5 wd"), "M-WH": Limit.parse("4 wh")}
LIMITS["M-JNT"] = Limit.parse("15 wd")
MATTERS = (IMMEDIATE, COMMITTED, COMMITTED_HOURS, JOINT)
# Ten windows staffed by one, two or three people.
WINDOWS = [
    SimWindow(f"W-{i:02d}", tuple(f"QC{i:02d}{j}" for j in range(1 + i % 3)), MATTERS) for i in range(10)
]

CASE_FIELDS = {"type", "source", "id", "matter", "unit", "channel", "applicant_kind", "received_at"}
CASE_OPTIONAL = {"staff", "applicant_name", "applicant_phone", "applicant_id_number"}
EVENT_FIELDS = {"type", "source", "id", "case", "event", "at"}
EVENT_EXTRAS = {
    "pause_started": {"pause_kind"},
    "extension_granted": {"reason", "approver", "limit", "node"},
}
EVENT_KINDS = {
    "appointment_made",
    "appointment_responded",
    "arrived",
    "accepted",
    "handled",
    "delivered",
    "pause_started",
    "pause_ended",
    "extension_granted",
    "trip",
    "resubmission",
    "one_time_notice",
}


def run(
    days: int,
    *,
    seed: int = 7,
    scale: float = 1.0,
    fault_rate: float = 0.02,
    start: dt.date = START,
    windows: list[SimWindow] = WINDOWS,
) -> list[dict[str, Any]]:
    config = SimConfig(days, seed, scale=scale, start=start, fault_rate=fault_rate)
    return list(simulate(config, windows, CAL))


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Stream:
    """A run's records indexed by case: the first delivery of each event, by kind."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.cases = {r["id"]: r for r in records if r["type"] == "case"}
        self.events: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for r in records:
            if r["type"] == "event":
                self.events[r["case"]].setdefault(r["event"], r)

    def at(self, case_id: str, kind: str) -> dt.datetime | None:
        event = self.events[case_id].get(kind)
        return instant(event["at"]) if event else None

    def of_kinds(self, *kinds: str) -> list[dict[str, Any]]:
        matters = {m.code for m in MATTERS if m.kind in kinds}
        return [c for c in self.cases.values() if c["matter"] in matters]

    def working_minutes(self, case_id: str, start: str, end: str) -> float | None:
        a, b = self.at(case_id, start), self.at(case_id, end)
        return CAL.working_seconds_between(a, b) / 60 if a and b else None


@pytest.fixture(scope="module")
def nine_weeks() -> Stream:
    """Nine weeks with the Qingming holiday in the middle, at the default fault rate."""
    return Stream(run(63))


@pytest.fixture(scope="module")
def faulty() -> Stream:
    return Stream(run(28, seed=11, fault_rate=0.1))


# -- determinism and streaming -------------------------------------------------------------------


def test_same_config_gives_the_same_stream_and_another_seed_another():
    first = run(5)
    assert first == run(5)
    assert first != run(5, seed=8)


def test_the_first_days_do_not_depend_on_the_run_length():
    short, long = run(5, fault_rate=0), run(10, fault_rate=0)
    assert [r for r in short if r["type"] == "case"] == [
        r for r in long if r["type"] == "case" and r["received_at"] < "2026-03-07"
    ]


def test_records_stream_without_generating_the_whole_period():
    config = SimConfig(10_000, 1, start=START)
    began = time.perf_counter()
    head = list(itertools.islice(simulate(config, WINDOWS, CAL), 50))
    assert len(head) == 50
    assert time.perf_counter() - began < 5


def test_empty_inputs_give_an_empty_stream():
    assert run(0) == []
    assert run(5, windows=[]) == []
    assert run(5, scale=0) == []


def test_invalid_configuration_is_refused():
    with pytest.raises(ValueError, match="days"):
        SimConfig(-1, 1, start=START)
    with pytest.raises(ValueError, match="fault_rate"):
        SimConfig(1, 1, start=START, fault_rate=2)
    with pytest.raises(ValueError, match="kind"):
        SimMatter("X", "urgent", None, 1, ("window",))
    with pytest.raises(ValueError, match="channels"):
        SimMatter("X", "immediate", None, 1, ("fax",))


# -- format --------------------------------------------------------------------------------------


def test_every_record_has_the_documented_fields(nine_weeks):
    for r in nine_weeks.records:
        assert r["source"] == "sim"
        if r["type"] == "case":
            assert CASE_FIELDS <= r.keys() <= CASE_FIELDS | CASE_OPTIONAL
            assert re.fullmatch(r"sim-\d{8}-\d{6}", r["id"])
            assert r["channel"] in CHANNELS
            assert r["applicant_kind"] in ("person", "legal_entity")
            assert r["unit"] in {w.unit for w in WINDOWS}
            assert r["staff"].startswith(f"QC{r['unit'][2:]}")
        else:
            assert r["type"] == "event"
            assert r["event"] in EVENT_KINDS
            assert r.keys() == EVENT_FIELDS | EVENT_EXTRAS.get(r["event"], set())
            assert re.fullmatch(re.escape(r["case"]) + r"/\d+", r["id"])


def test_instants_are_iso_8601_with_the_beijing_offset(nine_weeks):
    for r in nine_weeks.records:
        text = r["received_at"] if r["type"] == "case" else r["at"]
        assert text.endswith("+08:00")
        assert instant(text).utcoffset() == dt.timedelta(hours=8)


def test_event_extras_are_valid(nine_weeks):
    extensions = [r for r in nine_weeks.records if r.get("event") == "extension_granted"]
    assert extensions
    for r in extensions:
        assert r["node"] == "handling" and r["approver"] and re.search(r"[\u4e00-\u9fff]", r["reason"])
        matter = nine_weeks.cases[r["case"]]["matter"]
        # The new limit is the matter's own, doubled.
        assert Limit.parse(r["limit"]) == Limit(2 * LIMITS[matter].amount, LIMITS[matter].unit)
    kinds = Counter(r["pause_kind"] for r in nine_weeks.records if r.get("event") == "pause_started")
    assert set(kinds) == set(PAUSE_KINDS)
    assert kinds.most_common(1)[0][0] == "supplement"


def test_event_ids_number_a_cases_events_in_time_order(nine_weeks):
    for case_id, events in itertools.islice(nine_weeks.events.items(), 2000):
        ordered = sorted(events.values(), key=lambda e: int(e["id"].rsplit("/", 1)[1]))
        assert [instant(e["at"]) for e in ordered] == sorted(instant(e["at"]) for e in ordered), case_id


def test_identity_data_look_real(nine_weeks):
    for case in nine_weeks.cases.values():
        assert re.fullmatch(r"1[35789]\d{9}", case["applicant_phone"])
        number = case["applicant_id_number"]
        assert len(number) == 18
        if case["applicant_kind"] == "person":
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", case["applicant_name"])
            assert number.startswith("990100") and id_number_check(number[:17]) == number[17]
            born = dt.date.fromisoformat(number[6:14])  # YYYYMMDD is ISO 8601 basic format
            assert 17 <= (instant(case["received_at"]).date() - born).days / 365.25 <= 81
        else:
            assert case["applicant_name"].startswith("青川") and "公司" in case["applicant_name"]
            assert number.startswith("91990100") and credit_code_check(number[:17]) == number[17]
            assert org_code_check(number[8:16]) == number[16]


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_id_check_digit_matches_published_examples(number):
    assert id_number_check(number[:17]) == number[17]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q", "911100001000079554"])
def test_credit_code_check_matches_published_examples(code):
    assert credit_code_check(code[:17]) == code[17]


@given(st.text("0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9))
def test_id_check_digit_catches_any_single_wrong_digit(body, position, shift):
    wrong = body[:position] + str((int(body[position]) + shift) % 10) + body[position + 1 :]
    assert id_number_check(wrong) != id_number_check(body)


# -- arrivals and volume -------------------------------------------------------------------------


def test_arrivals_only_on_working_days_inside_office_hours(nine_weeks):
    sessions = CAL.office_hours.sessions
    for case in nine_weeks.cases.values():
        received = instant(case["received_at"])
        assert CAL.is_workday(received.date())
        assert any(start <= received.timetz().replace(tzinfo=None) < end for start, end in sessions)
    assert not [c for c in nine_weeks.cases.values() if c["received_at"][:10] in {str(d) for d in QINGMING}]


def test_nothing_happens_after_the_period():
    end = dt.datetime.combine(START + dt.timedelta(days=10), dt.time(), tzinfo=CAL.tz)
    records = run(10, fault_rate=0.2)
    assert all(instant(r.get("at") or r["received_at"]) < end for r in records)
    # Cases still open at the end: accepted but not handled yet.
    stream = Stream(records)
    assert any("accepted" in e and "handled" not in e for e in stream.events.values())


def cases_per_day(stream: Stream) -> Counter[dt.date]:
    return Counter(instant(c["received_at"]).date() for c in stream.cases.values())


def test_about_sixty_cases_per_window_on_an_ordinary_day(nine_weeks):
    per_day = cases_per_day(nine_weeks)
    ordinary = [n for day, n in per_day.items() if day != AFTER_QINGMING]
    assert 55 <= statistics.mean(ordinary) / len(WINDOWS) <= 65


def test_monday_is_busiest_and_friday_quietest(nine_weeks):
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for day, n in cases_per_day(nine_weeks).items():
        if day != AFTER_QINGMING and day.weekday() < 5:
            by_weekday[day.weekday()].append(n)
    means = {weekday: statistics.mean(counts) for weekday, counts in by_weekday.items()}
    assert max(means, key=means.__getitem__) == 0
    assert means[0] > 1.15 * means[4]

    def afternoon_share(weekday: int) -> float:
        received = [
            instant(c["received_at"])
            for c in nine_weeks.cases.values()
            if instant(c["received_at"]).weekday() == weekday
        ]
        return sum(r.hour >= 12 for r in received) / len(received)

    assert afternoon_share(4) < afternoon_share(1) - 0.05


def test_the_working_day_after_a_holiday_is_busier(nine_weeks):
    per_day = cases_per_day(nine_weeks)
    wednesdays = [n for day, n in per_day.items() if day.weekday() == 2 and day != AFTER_QINGMING]
    assert 1.3 <= per_day[AFTER_QINGMING] / statistics.mean(wednesdays) <= 1.7


def test_morning_peak_and_smaller_afternoon_peak(nine_weeks):
    def count(start: str, end: str) -> int:
        return sum(start <= c["received_at"][11:16] < end for c in nine_weeks.cases.values())

    morning_peak, early_afternoon = count("09:30", "11:00"), count("13:30", "15:00")
    afternoon_peak, late_afternoon = count("14:30", "16:00"), count("16:00", "17:30")
    assert morning_peak > 1.5 * early_afternoon
    assert morning_peak > afternoon_peak > late_afternoon


def test_scale_multiplies_the_volume():
    one, two = len(Stream(run(20, scale=1)).cases), len(Stream(run(20, scale=2)).cases)
    assert 1.9 <= two / one <= 2.1


def test_channels_and_applicants_in_their_usual_shares(nine_weeks):
    cases = list(nine_weeks.cases.values())
    offered = {m.code: m.channels for m in MATTERS}
    assert all(c["channel"] in offered[c["matter"]] for c in cases)
    # Only the immediate matter offers all three channels: there the shares are the plain ones.
    channels = Counter(c["channel"] for c in cases if c["matter"] == "M-IMM")
    total = channels.total()
    assert abs(channels["window"] / total - 0.70) < 0.03
    assert abs(channels["online"] / total - 0.25) < 0.03
    assert abs(channels["home_visit"] / total - 0.05) < 0.015
    persons = sum(c["applicant_kind"] == "person" for c in cases) / len(cases)
    assert abs(persons - 0.80) < 0.02


def test_window_and_home_visit_cases_arrive_and_online_ones_do_not(nine_weeks):
    for case_id, case in nine_weeks.cases.items():
        arrived = nine_weeks.events[case_id].get("arrived")
        if case["channel"] == "online":
            assert arrived is None
        else:
            assert arrived is not None and arrived["at"] == case["received_at"]


# -- the timed nodes -----------------------------------------------------------------------------


def test_acceptance_waits_longer_at_understaffed_windows_and_sometimes_overruns(nine_weeks):
    waits: dict[int, list[float]] = defaultdict(list)
    for case_id, case in nine_weeks.cases.items():
        minutes = nine_weeks.working_minutes(case_id, "arrived", "accepted")
        if case["channel"] == "window" and minutes is not None:
            waits[int(case["unit"][2:]) % 3 + 1].append(minutes)
    everyone = [m for staffed in waits.values() for m in staffed]
    assert 5 <= statistics.median(everyone) <= 25
    assert 0.03 < sum(m > 30 for m in everyone) / len(everyone) < 0.35
    assert statistics.median(waits[1]) > statistics.median(waits[3]) + 5


def test_online_cases_are_accepted_after_working_minutes_or_hours(nine_weeks):
    online = [
        nine_weeks.working_minutes(case_id, "arrived", "accepted")
        or CAL.working_seconds_between(instant(case["received_at"]), nine_weeks.at(case_id, "accepted")) / 60
        for case_id, case in nine_weeks.cases.items()
        if case["channel"] == "online" and nine_weeks.at(case_id, "accepted")
    ]
    assert 5 <= statistics.median(online) <= 60 and max(online) > 60


def handling_overrun(stream: Stream, case: dict[str, Any]) -> bool | None:
    accepted, handled = stream.at(case["id"], "accepted"), stream.at(case["id"], "handled")
    events = stream.events[case["id"]]
    if not (accepted and handled) or "pause_started" in events or "extension_granted" in events:
        return None
    return handled > LIMITS[case["matter"]].due(CAL, accepted).at


def test_handling_times_by_kind_and_some_overruns(nine_weeks):
    day = CAL.office_hours.seconds_per_day
    hours: dict[str, list[float]] = defaultdict(list)
    for case_id, case in nine_weeks.cases.items():
        if "pause_started" not in nine_weeks.events[case_id]:
            minutes = nine_weeks.working_minutes(case_id, "accepted", "handled")
            if minutes is not None:
                hours[case["matter"]].append(minutes * 60)
    assert max(hours["M-IMM"]) <= 1.5 * HOUR + 60
    assert 10 * 60 <= statistics.median(hours["M-IMM"]) <= 30 * 60
    assert 1 * day <= statistics.median(hours["M-COM"]) <= 4 * day
    assert 3 * day <= statistics.median(hours["M-JNT"]) <= 9 * day
    overruns = [handling_overrun(nine_weeks, c) for c in nine_weeks.cases.values()]
    judged = [o for o in overruns if o is not None]
    assert 0.03 <= sum(judged) / len(judged) <= 0.08
    assert any(handling_overrun(nine_weeks, c) for c in nine_weeks.cases.values() if c["matter"] == "M-IMM")


def test_extensions_cover_the_overrun_they_were_granted_for(nine_weeks):
    for case_id, events in nine_weeks.events.items():
        if "extension_granted" in events and "handled" in events and "pause_started" not in events:
            accepted, handled = nine_weeks.at(case_id, "accepted"), nine_weeks.at(case_id, "handled")
            granted = nine_weeks.at(case_id, "extension_granted")
            assert accepted and handled and granted
            limit = LIMITS[nine_weeks.cases[case_id]["matter"]]
            assert accepted < granted < limit.due(CAL, accepted).at < handled
            assert handled <= Limit.parse(events["extension_granted"]["limit"]).due(CAL, accepted).at


def test_delivery_mostly_within_hours_some_after_a_day(nine_weeks):
    hours = [
        (nine_weeks.at(case_id, "delivered") - nine_weeks.at(case_id, "handled")).total_seconds() / HOUR
        for case_id, events in nine_weeks.events.items()
        if "delivered" in events
    ]
    assert statistics.median(hours) < 6
    assert 0.02 < sum(h > 24 for h in hours) / len(hours) < 0.15


def test_appointments_are_made_beforehand_and_mostly_answered_in_time(nine_weeks):
    at_the_centre = [c for c in nine_weeks.cases.values() if c["channel"] != "online"]
    with_appointment = [c for c in at_the_centre if "appointment_made" in nine_weeks.events[c["id"]]]
    assert abs(len(with_appointment) / len(at_the_centre) - 0.10) < 0.02
    responses = []
    for case in with_appointment:
        made = nine_weeks.at(case["id"], "appointment_made")
        assert made and made.date() < instant(case["received_at"]).date()
        responses.append(nine_weeks.working_minutes(case["id"], "appointment_made", "appointment_responded"))
    slow = sum(m is not None and m > 15 for m in responses) / len(responses)
    assert 0.03 < slow < 0.25


def test_pauses_extensions_and_trips_at_their_rates(nine_weeks):
    staged = nine_weeks.of_kinds("committed", "joint")
    paused = [c for c in staged if "pause_started" in nine_weeks.events[c["id"]]]
    extended = [c for c in staged if "extension_granted" in nine_weeks.events[c["id"]]]
    assert 0.06 <= len(paused) / len(staged) <= 0.10
    assert 0.015 <= len(extended) / len(staged) <= 0.045
    assert not [c for c in nine_weeks.of_kinds("immediate") if "pause_started" in nine_weeks.events[c["id"]]]
    day = CAL.office_hours.seconds_per_day / 60
    for case in paused:
        length = nine_weeks.working_minutes(case["id"], "pause_started", "pause_ended")
        assert length is None or 0.7 * day <= length <= 5.3 * day
    supplements = [
        c for c in paused if nine_weeks.events[c["id"]]["pause_started"]["pause_kind"] == "supplement"
    ]
    noticed = sum("one_time_notice" in nine_weeks.events[c["id"]] for c in supplements) / len(supplements)
    assert 0.7 <= noticed < 1  # most, not all
    ended = [c for c in supplements if "pause_ended" in nine_weeks.events[c["id"]]]
    assert all("resubmission" in nine_weeks.events[c["id"]] for c in ended)
    assert any("trip" in nine_weeks.events[c["id"]] for c in ended)
    assert any("trip" in nine_weeks.events[c["id"]] for c in staged if c not in paused)


# -- data faults ---------------------------------------------------------------------------------


def event_keys(stream: Stream) -> list[str]:
    return [r["id"] for r in stream.records if r["type"] == "event"]


def test_without_faults_the_feed_is_clean():
    stream = Stream(run(15, fault_rate=0))
    ids = event_keys(stream)
    assert len(ids) == len(set(ids))
    seen: set[str] = set()
    last: dict[str, dt.datetime] = {}
    for r in stream.records:
        if r["type"] == "case":
            seen.add(r["id"])
        else:
            assert r["case"] in seen
            at = instant(r["at"])
            assert at >= last.get(r["case"], at)
            last[r["case"]] = at


def test_duplicates_are_exact_copies_at_about_the_fault_rate(faulty):
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in faulty.records:
        if r["type"] == "event":
            by_id[r["id"]].append(r)
    copies = {i: rs for i, rs in by_id.items() if len(rs) > 1}
    assert 0.07 <= len(copies) / len(by_id) <= 0.13
    assert all(len(rs) == 2 and rs[0] == rs[1] and rs[0] is not rs[1] for rs in copies.values())


def test_some_events_come_a_day_or_more_late(faulty):
    latest = None
    late = total = 0
    for r in faulty.records:
        if r["type"] == "case":
            received = instant(r["received_at"])
            latest = max(latest or received, received)
        else:
            total += 1
            late += latest is not None and instant(r["at"]) < latest - dt.timedelta(days=1)
    assert 0.03 <= late / total <= 0.2


def test_some_events_of_a_case_come_out_of_order(faulty):
    inverted = total = 0
    handled_first = False
    for events in map(list, group_by_case(faulty.records).values()):
        total += len(events)
        latest = None
        for r in events:
            at = instant(r["at"])
            inverted += latest is not None and at < latest
            latest = max(latest or at, at)
        kinds = [r["event"] for r in events]
        if "handled" in kinds and "accepted" in kinds:
            handled_first |= kinds.index("handled") < kinds.index("accepted")
    assert 0.04 <= inverted / total <= 0.3
    assert handled_first


def group_by_case(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["type"] == "event":
            groups[r["case"]].append(r)
    return groups


def test_every_event_has_its_case_usually_before_it(faulty):
    position = {r["id"]: n for n, r in enumerate(faulty.records) if r["type"] == "case"}
    first_event: dict[str, int] = {}
    for n, r in enumerate(faulty.records):
        if r["type"] == "event":
            assert r["case"] in position
            first_event.setdefault(r["case"], n)
    early = sum(first_event[case] < position[case] for case in first_event)
    assert 0.015 <= early / len(first_event) <= 0.035  # fault_rate / 4


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 6),
    scale=st.floats(0.05, 1.5),
    fault_rate=st.floats(0, 0.5),
    start=st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 20)),
)
def test_stream_invariants_hold_for_any_configuration(seed, days, scale, fault_rate, start):
    records = run(days, seed=seed, scale=scale, fault_rate=fault_rate, start=start, windows=WINDOWS[:3])
    end = dt.datetime.combine(start + dt.timedelta(days=days), dt.time(), tzinfo=CAL.tz)
    cases = {r["id"] for r in records if r["type"] == "case"}
    assert len(cases) == sum(r["type"] == "case" for r in records)
    first_seen: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["type"] == "case":
            received = instant(r["received_at"])
            assert CAL.is_workday(received.date()) and start <= received.date() and received < end
        else:
            assert r["case"] in cases
            assert instant(r["at"]) < end
            assert first_seen.setdefault(r["id"], r) == r  # a repeated id is an exact copy


def test_windows_without_staff_leave_staff_out():
    window = SimWindow("W-X", (), (COMMITTED,))
    records = run(3, windows=[window])
    cases = [r for r in records if r["type"] == "case"]
    assert cases and all("staff" not in c for c in cases)
    assert all(r["approver"] for r in records if r.get("event") == "extension_granted")


def test_the_feed_gives_each_record_its_delivery_instant_in_order() -> None:
    config = SimConfig(10, 3, start=START, fault_rate=0.05)
    pairs = list(simulate_feed(config, WINDOWS, CAL))
    delivered = [at for at, _ in pairs]
    assert delivered == sorted(delivered)
    assert [record for _, record in pairs] == list(simulate(config, WINDOWS, CAL))
    # Out-of-order and late deliveries: some records carry an instant other than their delivery's.
    own = [instant(r.get("at") or r["received_at"]) for _, r in pairs]
    assert any(o > d for o, (d, _) in zip(own, pairs, strict=True))
    assert any(o < d - dt.timedelta(days=1) for o, (d, _) in zip(own, pairs, strict=True))
