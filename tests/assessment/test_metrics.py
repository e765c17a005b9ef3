"""Each metric on small hand-made data with exact expected values; None (never 0) with nothing to
measure; subtrees; manual values with their range; the records behind a value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from kaoping.assessment.metrics import METRICS, compute, record_query, wait_percentile
from kaoping.assessment.models import WAIT_EDGES
from kaoping.assessment.rollups import rollups_rebuild
from kaoping.assessment.services import manual_code_define, manual_entry_submit
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.evidence.verify import verify_chain
from tests.assessment.conftest import MARCH, Span, World, make_case, make_followup, make_rating

CASE_METRICS = [name for name, m in METRICS.items() if m.source == "cases"]
RATING_METRICS = [name for name, m in METRICS.items() if m.source == "ratings"]


@pytest.fixture
def cases(world: World) -> World:
    """Window A: five cases in March (and one in April); window B: one; window C: none."""
    o, e1, e2 = world.org, world.e1, world.e2
    make_case(
        world,
        o.window_a,
        "2026-03-02T10:00",
        immediate=True,
        staff=e1,
        status="closed",
        acceptance_late=False,
        handling_late=False,
        delivery_late=False,
        wait_minutes=5.0,
    )
    make_case(
        world,
        o.window_a,
        "2026-03-02T11:00",
        staff=e2,
        status="closed",
        appointment_late=False,
        acceptance_late=False,
        handling_late=True,
        wait_minutes=12.0,
        trips=2,
        resubmissions=1,
        one_time_notice=True,
        overdue=True,
        breaker=True,
    )
    make_case(
        world,
        o.window_a,
        "2026-03-03T09:30",
        staff=e1,
        acceptance_late=True,
        wait_minutes=31.0,
        resubmissions=1,
        overdue=True,
    )
    make_case(world, o.window_a, "2026-03-03T10:00", channel="online", acceptance_late=False)
    make_case(world, o.window_a, "2026-03-03T12:00", staff=e1)
    # Received at 23:59 local on 31 March (15:59 UTC) and at 00:00 on 1 April: in and out.
    make_case(world, o.window_b, "2026-03-31T23:59", staff=world.e3, acceptance_late=False, wait_minutes=2.0)
    make_case(world, o.window_b, "2026-04-01T00:00", staff=world.e3, handling_late=True, overdue=True)
    rollups_rebuild(days=None)
    return world


def values(
    unit_id: int,
    names: list[str],
    *,
    start: dt.date = MARCH["start"],
    end: dt.date = MARCH["end"],
    include_defaulted: bool = True,
) -> dict[str, float | None]:
    found = compute(names, unit_ids=[unit_id], start=start, end=end, include_defaulted=include_defaulted)
    return {name: v.value for name, v in found[unit_id].items()}


def test_case_metrics_of_a_window(cases):
    got = values(cases.org.window_a.pk, CASE_METRICS)
    assert got == {
        "acceptance_on_time_rate": 75.0,  # 3 of 4 finished acceptances
        "handling_on_time_rate": 50.0,
        "delivery_on_time_rate": 100.0,
        "appointment_on_time_rate": 100.0,
        "mean_wait_minutes": 16.0,  # (5 + 12 + 31) / 3
        # rank 2.7 of 3 falls in the third wait's bucket [30, 40): 30 + 10 × 0.7
        "p90_wait_minutes": pytest.approx(37.0),
        "overrun_count": 2,
        "breaker_count": 1,
        "one_time_notice_rate": 50.0,  # one notice among the two cases asked for documents
        "trips_per_case": 1.2,  # 6 trips / 5 cases
        "resubmission_rate": 40.0,
        "immediate_share": 20.0,
        # 4 cases with a handler / 3 staff-days (E1 and E2 on the 2nd, E1 on the 3rd)
        "cases_per_staff_day": pytest.approx(4 / 3),
    }


def test_values_keep_numerator_denominator_and_basis(cases):
    value = compute(["handling_on_time_rate"], unit_ids=[cases.org.window_a.pk], **MARCH)[
        cases.org.window_a.pk
    ]["handling_on_time_rate"]
    assert (value.numerator, value.denominator) == (1, 2)
    assert "超时1件" in value.basis and "2026-03-01至2026-03-31" in value.basis


def test_a_department_and_the_centre_cover_their_subtrees(cases):
    org = cases.org
    result = compute(
        ["overrun_count", "mean_wait_minutes", "cases_per_staff_day"],
        unit_ids=[org.dept_a.pk, org.window_b.pk, org.centre.pk],
        **MARCH,
    )
    assert result[org.dept_a.pk]["overrun_count"].value == 2  # = window A
    assert result[org.window_b.pk]["overrun_count"].value == 0  # a case, none overran (April's is out)
    assert result[org.centre.pk]["overrun_count"].value == 2
    assert result[org.centre.pk]["mean_wait_minutes"].value == pytest.approx((5 + 12 + 31 + 2) / 4)
    assert result[org.centre.pk]["cases_per_staff_day"].value == pytest.approx(5 / 4)


def test_nothing_to_measure_is_none_never_zero(cases):
    org = cases.org
    every = [*CASE_METRICS, *RATING_METRICS, "multi_rater_score"]
    assert set(values(cases.empty.pk, every).values()) == {None}
    assert set(
        values(org.window_a.pk, every, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31)).values()
    ) == {None}
    # Window B has a case, but no finished handling node, no queue-less notice, no ratings.
    got = values(org.window_b.pk, every)
    assert got["overrun_count"] == 0 and got["breaker_count"] == 0
    assert got["handling_on_time_rate"] is None and got["one_time_notice_rate"] is None
    assert got["satisfaction_rate"] is None
    empty = compute(["overrun_count"], unit_ids=[cases.empty.pk], **MARCH)[cases.empty.pk]["overrun_count"]
    assert empty.basis.startswith("无可计量数据")


@pytest.fixture
def ratings(world: World) -> World:
    wa = world.org.window_a
    for level in (5, 5, 4, 3):
        make_rating(wa, "2026-03-05T10:00", level)
    bad_named = make_rating(wa, "2026-03-06T10:00", 2, real_name=True)
    bad_anonymous = make_rating(wa, "2026-03-06T11:00", 1)
    make_rating(wa, "2026-03-20T10:00", 3, defaulted=True)
    make_rating(wa, "2026-03-07T10:00", 1, excluded=True)  # confirmed gaming: counts nowhere
    make_followup(make_rating(wa, "2026-03-07T10:00", 1, excluded=True, real_name=True))
    make_rating(wa, "2026-04-02T10:00", 1)  # another month
    make_followup(bad_named, revisited=True, triage="fix_now", rectified=True, verdict="basic")
    make_followup(bad_anonymous, triage="complex")
    rollups_rebuild(days=None)
    return world


def test_rating_metrics_with_and_without_default_ratings(ratings):
    unit = ratings.org.window_a.pk
    assert values(unit, RATING_METRICS) == {
        "satisfaction_rate": pytest.approx(100 * 5 / 7),
        "good_rating_rate": pytest.approx(100 * 3 / 7),
        "bad_rating_rate": pytest.approx(100 * 2 / 7),
        "bad_rating_revisit_rate": 100.0,  # the one real-name bad rating was revisited
        "rectification_rate": 50.0,  # fix-now done, complex not yet
        "rectification_satisfaction_rate": 100.0,
    }
    without = values(
        unit, ["satisfaction_rate", "good_rating_rate", "bad_rating_rate"], include_defaulted=False
    )
    assert without == {
        "satisfaction_rate": pytest.approx(100 * 4 / 6),
        "good_rating_rate": 50.0,
        "bad_rating_rate": pytest.approx(100 * 2 / 6),
    }


def test_all_units_in_a_few_queries(ratings):
    org = ratings.org
    units = [org.window_a.pk, org.window_b.pk, org.dept_a.pk, org.dept_b.pk, org.centre.pk, ratings.empty.pk]
    with CaptureQueriesContext(connection) as queries:
        compute([*CASE_METRICS, *RATING_METRICS, "multi_rater_score"], unit_ids=units, **MARCH)
    assert len(queries) == 4  # unit paths, two rollup sums, units with a closed review campaign


def test_the_records_behind_a_value(cases, ratings):
    org, wa = cases.org, cases.org.window_a
    late = record_query("handling_on_time_rate", wa, **MARCH)
    assert [c.handling_late for c in late] == [True] and late[0].received_at.day == 2
    assert [c.wait_minutes for c in record_query("p90_wait_minutes", org.dept_a, **MARCH)] == [
        31.0,
        12.0,
        5.0,
    ]
    assert record_query("overrun_count", org.window_b, **MARCH).count() == 0  # April's is outside
    assert sorted(r.level for r in record_query("bad_rating_rate", wa, **MARCH)) == [1, 2]
    assert record_query("good_rating_rate", wa, **MARCH, include_defaulted=False).count() == 3
    assert record_query("bad_rating_revisit_rate", wa, **MARCH).count() == 0
    assert [f.triage for f in record_query("rectification_rate", wa, **MARCH)] == ["complex"]
    assert record_query("handling_on_time_rate", wa, **MARCH, user=org.head_a).count() == 1
    with pytest.raises(Http404):
        record_query("handling_on_time_rate", wa, **MARCH, user=org.head_b)


def test_unknown_names_are_refused(cases):
    with pytest.raises(KaopingError) as refused:
        compute(["handling_rate"], unit_ids=[cases.org.window_a.pk], **MARCH)
    assert refused.value.code is ErrorCode.INVALID and refused.value.where == "handling_rate"
    with pytest.raises(KaopingError, match="no manual indicator"):
        compute(["manual:nothing"], unit_ids=[cases.org.window_a.pk], **MARCH)


def test_multi_rater_score_comes_from_the_closed_review_campaigns(org):
    from kaoping.reviews.services import campaign_close, campaign_open, questionnaire_create
    from tests.reviews.helpers import ITEMS, answer, make_campaign

    questionnaire = questionnaire_create(actor=org.director, centre=org.centre, name="问卷", items=ITEMS)
    campaign = campaign_open(actor=org.director, campaign=make_campaign(org, questionnaire, [org.dept_a]))
    answer(campaign, org.dept_a, "service_users", [5, 5, 5, 5, 5])
    answer(campaign, org.dept_a, "superiors", [3, 3, 3, 3, 3])
    campaign_close(actor=org.director, campaign=campaign)
    q1: Span = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)}
    result = compute(["multi_rater_score"], unit_ids=[org.dept_a.pk, org.dept_b.pk], **q1)
    assert result[org.dept_a.pk]["multi_rater_score"].value == pytest.approx((50 * 100 + 25 * 50) / 75)
    assert result[org.dept_b.pk]["multi_rater_score"].value is None
    assert list(record_query("multi_rater_score", org.dept_a, **q1)) == [campaign]


# -- manual values ---------------------------------------------------------------------------------


def test_manual_values_with_their_range_and_evidence(org):
    manual_code_define(
        actor=org.admin, code="salary_accuracy", name="薪酬发放准确率", low=0, high=100, unit_label="%"
    )
    entry = {
        "actor": org.head_b,
        "unit": org.dept_b,
        "code": "salary_accuracy",
        "period_start": dt.date(2026, 3, 1),
        "period_end": dt.date(2026, 3, 31),
        "evidence": "3月工资表核对记录",
    }
    with pytest.raises(KaopingError) as refused:
        manual_entry_submit(**entry, value=100.5)
    assert refused.value.code is ErrorCode.OUT_OF_RANGE
    assert "100.5% is outside the allowed range 0–100% of 薪酬发放准确率" in refused.value.message
    with pytest.raises(KaopingError, match="say what the value rests on"):
        manual_entry_submit(**(entry | {"evidence": "  "}), value=99)
    with pytest.raises(KaopingError) as forbidden:
        manual_entry_submit(**(entry | {"actor": org.head_a}), value=99)  # not their unit
    assert forbidden.value.code is ErrorCode.FORBIDDEN
    manual_entry_submit(**entry, value=98.0, evidence_file="salary-2026-03.xlsx")
    got = compute(["manual:salary_accuracy"], unit_ids=[org.dept_b.pk, org.dept_a.pk], **MARCH)
    assert got[org.dept_b.pk]["manual:salary_accuracy"].value == 98.0
    assert "salary-2026-03.xlsx" in got[org.dept_b.pk]["manual:salary_accuracy"].basis
    assert got[org.dept_a.pk]["manual:salary_accuracy"].value is None  # nothing entered: not 0
    manual_entry_submit(**entry, value=99.5)  # a correction: the latest counts
    got = compute(["manual:salary_accuracy"], unit_ids=[org.dept_b.pk], **MARCH)
    assert got[org.dept_b.pk]["manual:salary_accuracy"].value == 99.5
    assert record_query("manual:salary_accuracy", org.dept_b, **MARCH).count() == 2
    assert verify_chain().ok


def test_monthly_entries_in_a_quarter_give_their_mean(org):
    manual_code_define(actor=org.admin, code="training_hours", name="人均服务培训时长", low=0, high=200)
    for month, value in ((1, 10.0), (2, 20.0), (3, 60.0)):
        end = dt.date(2026, month + 1, 1) - dt.timedelta(days=1)
        manual_entry_submit(
            actor=org.director,
            unit=org.centre,
            code="training_hours",
            period_start=dt.date(2026, month, 1),
            period_end=end,
            value=value,
            evidence="培训签到表",
        )
    got = compute(
        ["manual:training_hours"],
        unit_ids=[org.centre.pk],
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 31),
    )[org.centre.pk]["manual:training_hours"]
    assert (got.value, got.numerator, got.denominator) == (30.0, 90.0, 3)


def test_level_indicators_take_one_of_their_levels(org):
    manual_code_define(actor=org.admin, code="innovation_level", name="服务创新等级", levels=["A", "B", "C"])
    entry = {
        "actor": org.director,
        "unit": org.dept_a,
        "code": "innovation_level",
        "period_start": dt.date(2026, 3, 1),
        "period_end": dt.date(2026, 3, 31),
        "evidence": "省级推广文件",
    }
    with pytest.raises(KaopingError, match="takes one of the levels A、B、C"):
        manual_entry_submit(**entry, level="D")
    with pytest.raises(KaopingError):
        manual_entry_submit(**entry, value=20)
    manual_entry_submit(**entry, level="A")
    got = compute(["manual:innovation_level"], unit_ids=[org.dept_a.pk], **MARCH)[org.dept_a.pk]
    assert got["manual:innovation_level"].level == "A" and got["manual:innovation_level"].value is None


def test_only_an_administrator_defines_manual_indicators(org):
    with pytest.raises(KaopingError) as refused:
        manual_code_define(actor=org.director, code="x", name="x", low=0, high=1)
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(KaopingError, match="not a range"):
        manual_code_define(actor=org.admin, code="x", name="x", low=2, high=1)


# -- pure parts ------------------------------------------------------------------------------------


def test_wait_percentile_interpolates_inside_its_bucket():
    counts = [0.0] * (len(WAIT_EDGES) + 1)
    assert wait_percentile(counts, 0.9, 0.0) is None
    counts[0] = 10.0  # ten waits in [0, 1)
    assert wait_percentile(counts, 0.9, 0.5) == pytest.approx(0.9)
    counts[-1] = 10.0  # and ten of 240 minutes or more, the longest 300: the open bucket ends there
    assert wait_percentile(counts, 0.9, 300.0) == pytest.approx(240 + 60 * 0.8)


def test_the_registry_agrees_with_the_scheme_metric_names():
    names = pytest.importorskip("kaoping.assessment.metric_names")
    for name, metric in METRICS.items():
        assert name in names.KNOWN_METRICS, name
        assert metric.percent == (names.KNOWN_METRICS[name].unit == names.MetricUnit.PERCENT), name
