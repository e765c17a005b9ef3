"""Daily rollups: rebuilt idempotently; every writer of what they count marks the day dirty and the
refresh brings the metric up to date; rollup-based values equal a direct computation from the rows."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest

from kaoping.assessment import rollups
from kaoping.assessment.metrics import METRICS, compute, wait_percentile
from kaoping.assessment.models import (
    WAIT_BUCKETS,
    WAIT_EDGES,
    DailyCaseStats,
    DailyRatingStats,
    DirtyDay,
    DirtyKind,
)
from kaoping.assessment.rollups import days_mark_dirty, local_day, rollups_rebuild, rollups_refresh
from kaoping.cases.models import Case
from kaoping.cases.services import cases_sweep
from kaoping.followup.models import Rectification
from kaoping.followup.services import rectification_revisit
from kaoping.org.models import Unit
from kaoping.ratings.codes import Convention
from kaoping.ratings.models import FlagPattern, Rating, RatingFlag
from kaoping.ratings.services import flag_review, ratings_default, ratings_ingest
from tests.assessment.conftest import MARCH, World, at, make_case, make_followup, make_rating
from tests.cases.test_ingest import case, event, ingest

DAY = dt.date(2026, 3, 2)


def snapshot() -> list[tuple[Any, ...]]:
    return sorted(DailyCaseStats.objects.values_list()) + sorted(DailyRatingStats.objects.values_list())


def strip_ids(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(row[1:] for row in rows)


def value(unit: Unit, name: str) -> float | None:
    return compute([name], unit_ids=[unit.pk], **MARCH)[unit.pk][name].value


def marks() -> set[tuple[str, str, dt.date]]:
    return {
        (kind, code, day) for kind, code, day in DirtyDay.objects.values_list("kind", "unit__code", "day")
    }


# -- rebuilding ------------------------------------------------------------------------------------


def test_rebuild_is_idempotent_and_keeps_only_days_with_records(world: World):
    wa = world.org.window_a
    make_case(world, wa, "2026-03-02T10:00", acceptance_late=False, wait_minutes=3.0)
    make_case(world, wa, "2026-03-04T16:00", acceptance_late=True)
    make_rating(wa, "2026-03-03T10:00", 5)
    rollups_rebuild(days=None)
    first = strip_ids(snapshot())
    rollups_rebuild(days=None)
    rollups_rebuild(days=[DAY, DAY, dt.date(2026, 3, 4)])
    assert strip_ids(snapshot()) == first
    # Cases on the 2nd and 4th: the 3rd is a day of the span with no row; ratings on the 3rd only.
    assert sorted(DailyCaseStats.objects.values_list("day", "cases")) == [(DAY, 1), (dt.date(2026, 3, 4), 1)]
    assert list(DailyRatingStats.objects.values_list("day", "level_5")) == [(dt.date(2026, 3, 3), 1)]
    Case.objects.filter(received_at__date__gte=dt.date(2026, 3, 4)).delete()
    rollups_rebuild(days=None)  # a day outside the records' span is dropped
    assert list(DailyCaseStats.objects.values_list("day", flat=True)) == [DAY]


def test_a_partial_rebuild_touches_only_the_units_given(world: World):
    wa, wb = world.org.window_a, world.org.window_b
    make_case(world, wa, "2026-03-02T10:00")
    make_case(world, wb, "2026-03-02T10:00")
    rollups_rebuild(days=[DAY])
    make_case(world, wa, "2026-03-02T11:00")
    make_case(world, wb, "2026-03-02T11:00")
    rollups_rebuild(days=[DAY], unit_ids=[wa.pk], kinds=[DirtyKind.CASES])
    assert dict(DailyCaseStats.objects.values_list("unit__code", "cases")) == {"WA": 2, "WB": 1}


def test_local_days_of_stored_instants():
    assert local_day("2026-03-01 16:00:00") == dt.date(2026, 3, 2)  # UTC text, as SQLite holds it
    assert local_day("2026-03-01 15:59:59.999999") == dt.date(2026, 3, 1)
    assert local_day(at("2026-03-01T23:59")) == dt.date(2026, 3, 1)
    assert local_day(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)


# -- late data -----------------------------------------------------------------------------------


def test_a_late_event_marks_its_day_and_the_refresh_changes_the_metric(world: World, time_machine: Any):
    time_machine.move_to(at("2026-03-10T12:00"))
    wa = world.org.window_a
    ingest(case(), event("e1", "arrived", "2026-03-02T09:00"), event("e2", "accepted", "2026-03-02T09:20"))
    assert marks() == {("cases", "WA", DAY)}
    assert rollups_refresh() == 1 and marks() == set()
    assert value(wa, "handling_on_time_rate") is None  # still running (and overdue)
    assert value(wa, "overrun_count") == 1
    # The handling and delivery events arrive a week late: the day of receipt is stale until refreshed.
    ingest(event("e3", "handled", "2026-03-04T10:00"), event("e4", "delivered", "2026-03-04T11:00"))
    assert marks() == {("cases", "WA", DAY)}
    assert value(wa, "handling_on_time_rate") is None
    rollups_refresh()
    assert value(wa, "handling_on_time_rate") == 100.0 and value(wa, "overrun_count") == 0
    assert value(wa, "mean_wait_minutes") == 20.0


def test_the_sweep_marks_the_days_of_the_cases_it_makes_overdue(world: World, time_machine: Any):
    time_machine.move_to(at("2026-03-02T09:10"))
    ingest(case(), event("e1", "arrived", "2026-03-02T09:00"))
    rollups_refresh()
    assert value(world.org.window_a, "overrun_count") == 0
    cases_sweep(now=at("2026-03-02T09:25"))  # due soon only: nothing the rollups count changed
    assert marks() == set()
    cases_sweep(now=at("2026-03-02T09:45"))  # past the 30 working minutes
    assert marks() == {("cases", "WA", DAY)}
    rollups_refresh()
    assert value(world.org.window_a, "overrun_count") == 1


def rating(rating_id: str, level: int, rated: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    return (
        rating_id,
        {
            "source": "hcp",
            "id": rating_id,
            "unit": "WA",
            "level": level,
            "channel": "hall_tablet",
            "rater_kind": "person",
            "rated_at": f"{rated}:00+08:00",
            **extra,
        },
    )


def test_late_ratings_flag_reviews_and_follow_ups_mark_their_day(world: World):
    org, wa = world.org, world.org.window_a
    report = ratings_ingest(
        actor="test",
        records=[
            rating("R1", 5, "2026-03-02T10:00"),
            rating("R2", 1, "2026-03-02T23:30", real_name=True, rater_phone="13812341234"),
        ],
        label="t",
        convention=Convention.PROVINCIAL,
    )
    assert not report.rejected
    assert marks() == {("ratings", "WA", DAY)}  # 23:30 local is still the 2nd (15:30 UTC)
    rollups_refresh()
    assert value(wa, "bad_rating_rate") == 50.0 and value(wa, "bad_rating_revisit_rate") == 0.0
    # A rating given on the 2nd arrives late.
    ratings_ingest(
        actor="test",
        records=[rating("R3", 4, "2026-03-02T16:00")],
        label="t",
        convention=Convention.PROVINCIAL,
    )
    assert value(wa, "bad_rating_rate") == 50.0
    rollups_refresh()
    assert value(wa, "bad_rating_rate") == pytest.approx(100 / 3)
    # The bad rating's follow-up moves on: revisited.
    rectification_revisit(actor=org.director, rectification=Rectification.objects.get(), note="已电话回访")
    assert marks() == {("ratings", "WA", DAY)}
    rollups_refresh()
    assert value(wa, "bad_rating_revisit_rate") == 100.0
    # A top rating confirmed as gaming stops counting.
    top = Rating.objects.get(external_id="R1")
    flag = RatingFlag.objects.create(
        rating=top, unit=wa, pattern=FlagPattern.BURST, detail="t", raised_at=at("2026-03-02T12:00")
    )
    flag_review(actor=org.director, flag=flag, confirmed=True, note="同一终端连续好评")
    rollups_refresh()
    assert value(wa, "bad_rating_rate") == 50.0 and value(wa, "satisfaction_rate") == 50.0


def test_default_ratings_mark_the_day_the_case_was_handled(world: World, time_machine: Any, settings: Any):
    settings.KAOPING_RATING_DEFAULT_DAYS = 7
    time_machine.move_to(at("2026-03-20T12:00"))
    ingest(
        case(),
        event("e1", "arrived", "2026-03-02T09:00"),
        event("e2", "accepted", "2026-03-02T09:20"),
        event("e3", "handled", "2026-03-03T10:00"),
    )
    rollups_refresh()
    assert value(world.org.window_a, "satisfaction_rate") is None
    assert ratings_default() == 1
    assert marks() == {("ratings", "WA", dt.date(2026, 3, 3))}
    rollups_refresh()
    assert value(world.org.window_a, "satisfaction_rate") == 100.0
    assert (
        compute(["satisfaction_rate"], unit_ids=[world.org.window_a.pk], include_defaulted=False, **MARCH)[
            world.org.window_a.pk
        ]["satisfaction_rate"].value
        is None
    )


def test_a_mark_made_while_the_refresh_rebuilds_survives(world: World, monkeypatch: Any):
    wa = world.org.window_a
    days_mark_dirty(kind="cases", pairs=[(wa.pk, DAY)])
    days_mark_dirty(kind="cases", pairs=[(wa.pk, DAY)])
    assert DirtyDay.objects.get().version == 2
    rebuild = rollups._rebuild_day

    def meanwhile(kind: Any, day: dt.date, units: Any) -> None:
        rebuild(kind, day, units)
        days_mark_dirty(kind="cases", pairs=[(wa.pk, day)])  # another writer, between read and delete

    monkeypatch.setattr(rollups, "_rebuild_day", meanwhile)
    assert rollups_refresh() == 1
    assert DirtyDay.objects.get().version == 3  # kept for the next refresh
    monkeypatch.setattr(rollups, "_rebuild_day", rebuild)
    assert rollups_refresh() == 1 and not DirtyDay.objects.exists()
    assert rollups_refresh() == 0


# -- rollups against the raw rows ----------------------------------------------------------------


def _random_world(world: World, rng: random.Random) -> None:
    units = [world.org.window_a, world.org.window_b, world.empty]
    staff = {
        world.org.window_a.pk: [world.e1, world.e2],
        world.org.window_b.pk: [world.e3],
        world.empty.pk: [],
    }
    maybe = [None, None, False, True]
    for n in range(rng.randint(0, 40)):
        unit = rng.choice(units)
        received = at("2026-02-28T00:00") + dt.timedelta(minutes=rng.randint(0, 4 * 24 * 60))
        make_case(
            world,
            unit,
            received.strftime("%Y-%m-%dT%H:%M"),
            immediate=rng.random() < 0.3,
            staff=rng.choice([None, *staff[unit.pk]]),
            status=rng.choice(["open", "closed"]),
            appointment_late=rng.choice(maybe),
            acceptance_late=rng.choice(maybe),
            handling_late=rng.choice(maybe),
            delivery_late=rng.choice(maybe),
            wait_minutes=rng.choice([None, round(rng.uniform(0, 300), 2), float(rng.choice(WAIT_EDGES))]),
            trips=rng.randint(1, 3),
            resubmissions=rng.choice([0, 0, 1, 2]),
            one_time_notice=rng.random() < 0.3,
            overdue=rng.random() < 0.3,
            breaker=rng.random() < 0.1,
        )
        del n
    for _ in range(rng.randint(0, 40)):
        rated = at("2026-02-28T00:00") + dt.timedelta(minutes=rng.randint(0, 4 * 24 * 60))
        level = rng.randint(1, 5)
        made = make_rating(
            rng.choice(units),
            rated.strftime("%Y-%m-%dT%H:%M"),
            level,
            defaulted=rng.random() < 0.2,
            excluded=rng.random() < 0.1,
            real_name=rng.random() < 0.5,
        )
        if level <= 2 and rng.random() < 0.8:
            make_followup(
                made,
                revisited=rng.random() < 0.5,
                triage=rng.choice(["", "fix_now", "complex", "no_basis"]),
                rectified=rng.random() < 0.5,
                verdict=rng.choice(["", "satisfied", "basic", "dissatisfied"]),
            )


def _rate(numerator: float, denominator: float, percent: bool = True) -> float | None:
    return (100 if percent else 1) * numerator / denominator if denominator else None


def _direct(unit: Unit, start: dt.date, end: dt.date, include_defaulted: bool) -> dict[str, Any]:
    """Every metric straight from the rows, written independently of the SQL."""
    cases = [
        c
        for c in Case.objects.filter(unit__path__startswith=unit.path).select_related("matter")
        if start <= c.received_at.astimezone(at("2026-01-01T00:00").tzinfo).date() <= end
    ]
    out: dict[str, Any] = {}
    for node in ("acceptance", "handling", "delivery", "appointment"):
        flags = [getattr(c, f"{node}_late") for c in cases]
        out[f"{node}_on_time_rate"] = _rate(flags.count(False), flags.count(False) + flags.count(True))
    waits = sorted(c.wait_minutes for c in cases if c.wait_minutes is not None)
    out["mean_wait_minutes"] = sum(waits) / len(waits) if waits else None
    counts = [0.0] * WAIT_BUCKETS
    for w in waits:
        counts[sum(1 for edge in WAIT_EDGES if w >= edge)] += 1
    out["p90_wait_minutes"] = wait_percentile(counts, 0.9, max(waits, default=0.0))
    n = len(cases)
    out["overrun_count"] = sum(c.overdue for c in cases) if n else None
    out["breaker_count"] = sum(c.breaker for c in cases) if n else None
    asked = [c for c in cases if c.one_time_notice or c.resubmissions > 0]
    out["one_time_notice_rate"] = _rate(sum(c.one_time_notice for c in asked), len(asked))
    out["trips_per_case"] = _rate(sum(c.trips for c in cases), n, percent=False)
    out["resubmission_rate"] = _rate(sum(c.resubmissions > 0 for c in cases), n)
    out["immediate_share"] = _rate(sum(c.matter.kind == "immediate" for c in cases), n)
    local = at("2026-01-01T00:00").tzinfo
    staff_days = {
        (c.unit_id, c.received_at.astimezone(local).date(), c.staff_id) for c in cases if c.staff_id
    }
    out["cases_per_staff_day"] = _rate(
        sum(c.staff_id is not None for c in cases), len(staff_days), percent=False
    )
    ratings = [
        r
        for r in Rating.objects.filter(unit__path__startswith=unit.path, excluded=False)
        if start <= r.rated_at.astimezone(local).date() <= end and (include_defaulted or not r.defaulted)
    ]
    levels = [r.level for r in ratings]
    out["satisfaction_rate"] = _rate(sum(v >= 3 for v in levels), len(levels))
    out["good_rating_rate"] = _rate(sum(v >= 4 for v in levels), len(levels))
    out["bad_rating_rate"] = _rate(sum(v <= 2 for v in levels), len(levels))
    # Follow-ups count whatever include_defaulted says (a default rating is not bad at the usual level).
    follow = list(
        Rectification.objects.filter(
            rating__unit__path__startswith=unit.path,
            rating__excluded=False,
            rating__rated_at__gte=at(f"{start}T00:00"),
            rating__rated_at__lt=at(f"{end + dt.timedelta(days=1)}T00:00"),
        )
    )
    named = [f for f in follow if f.real_name]
    out["bad_rating_revisit_rate"] = _rate(sum(f.revisited_at is not None for f in named), len(named))
    out["rectification_rate"] = _rate(
        sum(f.rectified_at is not None for f in follow),
        sum(f.triage in ("fix_now", "complex") for f in follow),
    )
    verdicts = [f.verdict for f in follow if f.verdict]
    out["rectification_satisfaction_rate"] = _rate(
        sum(v in ("satisfied", "basic") for v in verdicts), len(verdicts)
    )
    out["_exact_p90"] = _exact_quantile(waits, 0.9)
    return out


def _exact_quantile(values: list[float], share: float) -> float | None:
    """The order statistic the histogram estimate stands for: the ⌈share·n⌉-th smallest value."""
    return values[max(math.ceil(share * len(values)), 1) - 1] if values else None


def _bucket_width(value: float, largest: float) -> float:
    lows = (0, *WAIT_EDGES)
    highs = (*WAIT_EDGES, max(largest, WAIT_EDGES[-1]))
    index = sum(1 for edge in WAIT_EDGES if value >= edge)
    return float(highs[index] - lows[index])


@pytest.mark.parametrize("seed", range(6))
def test_rollup_values_equal_a_direct_computation_from_the_rows(world: World, seed: int):
    rng = random.Random(seed)
    _random_world(world, rng)
    rollups_rebuild(days=None)
    org = world.org
    units = [org.region, org.centre, org.dept_a, org.dept_b, org.window_a, org.window_b, world.empty]
    names = [n for n, m in METRICS.items() if m.source in ("cases", "ratings")]
    for start, end in (
        (dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
        (dt.date(2026, 2, 1), dt.date(2026, 3, 31)),
    ):
        for include_defaulted in (True, False):
            got = compute(
                names,
                unit_ids=[u.pk for u in units],
                start=start,
                end=end,
                include_defaulted=include_defaulted,
            )
            for unit in units:
                expected = _direct(unit, start, end, include_defaulted)
                for name in names:
                    want, have = expected[name], got[unit.pk][name].value
                    where = f"seed {seed} {unit.code} {start}–{end} {name}"
                    assert (want is None) == (have is None), where
                    if want is not None:
                        assert have == pytest.approx(want), where
                exact, p90 = expected["_exact_p90"], got[unit.pk]["p90_wait_minutes"].value
                if exact is not None:
                    assert p90 is not None
                    largest = max(c.wait_minutes or 0 for c in Case.objects.all())
                    assert abs(p90 - exact) <= _bucket_width(exact, largest) + 1e-9
