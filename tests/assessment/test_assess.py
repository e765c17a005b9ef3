"""Assessing a period end to end: units of the scheme, metrics from the rollups, the engine's scores,
and `kaoping assess` reading its arguments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kaoping.assessment.assess import assess_period, parse_period, scheme_by_code
from kaoping.assessment.rollups import rollups_rebuild
from kaoping.assessment.schemes import PeriodType
from kaoping.core.errors import KaopingError
from tests.assessment.conftest import World, make_rating


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-10", PeriodType.MONTH, dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("2026-02", PeriodType.MONTH, dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("2026-12", PeriodType.MONTH, dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("2026-Q3", PeriodType.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("2026-H2", PeriodType.HALF_YEAR, dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
        ("2026", PeriodType.YEAR, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ],
)
def test_periods_are_read(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26-10", "2026/10", ""])
def test_unreadable_periods_are_refused(text):
    with pytest.raises(KaopingError, match="period"):
        parse_period(text)


def test_a_months_window_assessment_scores_satisfaction_by_the_seeds_rule(world: World):
    window_a, window_b = world.org.window_a, world.org.window_b
    # Window A: 95 of 100 ratings 基本满意 or better → 95%, 3 points below the 98% target → −6 points.
    for n in range(100):
        make_rating(window_a, f"2026-03-{2 + n % 20:02d}T10:00", 5 if n >= 5 else 1)
    for n in range(50):  # window B: all 非常满意
        make_rating(window_b, f"2026-03-{2 + n % 20:02d}T11:00", 5)
    rollups_rebuild(days=None)
    results, units = assess_period(scheme=scheme_by_code("window"), period=parse_period("2026-03"))
    by_unit = {r.unit: r for r in results}
    line_a = by_unit["WA"].line("satisfaction")
    assert line_a.value == Decimal("95.0000") and line_a.points == line_a.max_points - 6
    assert "扣 6 分" in line_a.explanation
    line_b = by_unit["WB"].line("satisfaction")
    assert line_b.points == line_b.max_points
    # No hotline complaints are recorded yet: that indicator is not assessable, and said so.
    assert "complaint_timeliness" in by_unit["WA"].not_assessable
    assert set(units) >= {"WA", "WB"}


def test_the_scheme_must_fit_the_period_and_have_data_sources(world: World):
    with pytest.raises(KaopingError, match="for a month, not a quarter"):
        assess_period(scheme=scheme_by_code("window"), period=parse_period("2026-Q1"))
    with pytest.raises(KaopingError, match="published schemes: department_external"):
        scheme_by_code("nope")


def test_kaoping_assess_prints_the_table_and_json_and_refuses_bad_periods(cli_install):
    import json

    from tests.cases.test_import_cli import kaoping

    table = kaoping(cli_install, "assess", "--scheme", "window", "--period", "2026-10")
    assert table.returncode == 0, table.stderr
    assert (
        "政务服务窗口月度考核 (window v1) · 2026-10 (2026-10-01 – 2026-10-31) · assessment #" in table.stdout
    )
    assert "W-01" in table.stdout and "未评" in table.stdout  # no data: not graded, and says why
    as_json = json.loads(
        kaoping(cli_install, "assess", "--scheme", "window", "--period", "2026-10", "--json").stdout
    )
    assert {r["unit"] for r in as_json} >= {"W-01", "W-02"} and as_json[0]["lines"][0]["explanation"]
    bad = kaoping(cli_install, "assess", "--scheme", "window", "--period", "2026-13")
    assert bad.returncode == 2 and "month 13 does not exist" in bad.stderr


def test_a_scheme_may_leave_default_ratings_out(world: World):
    from kaoping.assessment.schemes import InvalidSchemeError, default_scheme_texts, dump_yaml, read_scheme

    window_a = world.org.window_a
    make_rating(window_a, "2026-03-02T10:00", 5)
    make_rating(window_a, "2026-03-02T10:05", 1)
    for n in range(8):  # unrated cases that took 基本满意 by default
        make_rating(window_a, f"2026-03-0{3 + n % 5}T10:00", 3, defaulted=True)
    rollups_rebuild(days=None)
    text = default_scheme_texts()["window.yaml"]
    counting = read_scheme(text)
    leaving_out = read_scheme(
        text.replace("min_assessable_share: 60\n", "min_assessable_share: 60\ncount_default_ratings: false\n")
    )
    assert counting.count_default_ratings and not leaving_out.count_default_ratings
    assert "count_default_ratings: false" in dump_yaml(
        leaving_out
    ) and "count_default_ratings" not in dump_yaml(counting)
    period = parse_period("2026-03")
    with_defaults = {r.unit: r for r in assess_period(scheme=counting, period=period)[0]}["WA"]
    without = {r.unit: r for r in assess_period(scheme=leaving_out, period=period)[0]}["WA"]
    assert with_defaults.line("satisfaction").value == Decimal("90.0000")
    assert without.line("satisfaction").value == Decimal("50.0000")
    with pytest.raises(InvalidSchemeError, match="count_default_ratings"):
        read_scheme(
            text.replace(
                "min_assessable_share: 60\n", "min_assessable_share: 60\ncount_default_ratings: no way\n"
            )
        )
