"""Rating ingestion: declared code conventions, idempotence, one first rating per case and channel,
bad input refused with its reason, and a bad rating opening its follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kaoping.evidence.verify import verify_chain
from kaoping.followup.models import Rectification
from kaoping.ratings.codes import Convention
from kaoping.ratings.models import Rating
from kaoping.ratings.services import ratings_ingest
from kaoping.workcal.calendar import SHANGHAI
from tests.ratings.conftest import rating


def ingest(*records: dict[str, Any], convention: Convention = Convention.PROVINCIAL, user: Any = None):
    return ratings_ingest(
        actor="test",
        records=[(f"line {i}", r) for i, r in enumerate(records, 1)],
        label="test",
        convention=convention,
        user=user,
    )


def test_level_codes_are_read_in_the_declared_convention(rated_org):
    ingest(rating("P1", level=1, case="C1"), convention=Convention.PROVINCIAL)
    ingest(rating("G1", level=1, case="C2"), convention=Convention.GBT39046)
    levels = dict(Rating.objects.values_list("external_id", "level"))
    # Provincial 1 = 非常不满意 (score 1); GB/T 39046-2020 1 = 非常满意 (score 5).
    assert levels == {"P1": 1, "G1": 5}


def test_a_rating_of_a_case_takes_the_cases_unit_and_staff(rated_org):
    report = ingest(rating())
    assert report.accepted == 1 and not report.rejected
    stored = Rating.objects.get()
    assert stored.staff is not None and stored.case is not None
    assert stored.unit == rated_org.window_a and stored.staff.employee_no == "E100"
    assert stored.case.external_id == "C1" and verify_chain().ok


def test_sending_the_same_ratings_twice_counts_once(rated_org):
    records = [rating("R1"), rating("R2", case="C2"), rating("R3", case=None, unit="WB")]
    first = ingest(*records)
    again = ingest(*records, records[0])
    assert (first.accepted, again.accepted, again.duplicates) == (3, 0, 4)
    assert Rating.objects.count() == 3


def test_a_second_first_rating_for_the_same_case_and_channel_is_refused(rated_org):
    ingest(rating("R1"))
    report = ingest(rating("R2"), rating("R3", channel="sms"), rating("R4", channel="sms"))
    assert report.accepted == 1  # R3: another channel is another first rating
    reasons = {r.record_id: r.reason for r in report.rejected}
    assert set(reasons) == {"R2", "R4"}
    assert "already has a first rating through channel 'hall_tablet'" in reasons["R2"]
    assert "'sms'" in reasons["R4"]


@pytest.mark.parametrize(
    ("change", "where", "why"),
    [
        ({"level": 6}, "level", "6 is not a level code: codes run from 1 to 5"),
        ({"level": "很好"}, "level", "neither a level code"),
        ({"level": None}, "level", "is required"),
        ({"channel": "fax"}, "channel", "'fax' is not a rating channel"),
        ({"channel": "default"}, "channel", "set by the system"),
        ({"case": "NOPE"}, "case", "no case 'NOPE'"),
        ({"case": None}, "unit", "is required when the rating is not of a case"),
        ({"case": None, "unit": "ZZ"}, "unit", "unknown unit 'ZZ'"),
        ({"unit": "WB"}, "unit", "is not the unit that handled the case"),
        ({"text": "好" * 501}, "text", "longer than 500 characters"),
        ({"rated_at": "2026-03-03T10:05:00"}, "rated_at", "has no UTC offset"),
        ({"attempt": "third"}, "attempt", "not 'first' or 'follow_up'"),
        ({"ip": "300.1.1.1"}, "ip", "not an IP address"),
        ({"tags": {"a": 1}}, "tags", "must be a list or a text"),
        ({"staff": "E999"}, "staff", "unknown employee number"),
    ],
)
def test_bad_input_is_refused_with_field_and_reason_and_nothing_is_written(rated_org, change, where, why):
    report = ingest(rating("BAD", **change))
    assert report.accepted == 0 and len(report.rejected) == 1
    rejection = report.rejected[0]
    assert rejection.where == "line 1" and rejection.reason.startswith(f"{where}: ")
    assert why in rejection.reason
    assert not Rating.objects.exists() and not Rectification.objects.exists()


def test_gbt_channel_codes_and_chinese_level_names_are_read(rated_org):
    report = ingest(
        rating("R1", channel="4", level="不满意"), rating("R2", case="C2", channel="短信", level="非常满意")
    )
    assert report.accepted == 2
    assert dict(Rating.objects.values_list("external_id", "channel")) == {"R1": "hall_tablet", "R2": "sms"}
    assert dict(Rating.objects.values_list("external_id", "level")) == {"R1": 2, "R2": 5}


def test_a_bad_rating_opens_a_follow_up_due_within_one_working_day(rated_org):
    # Given Tuesday 2026-03-03 10:05: revisit by the close of the next working day (as for "3 wd" limits).
    ingest(rating("R1", level=2), rating("R2", case="C2", level=1, real_name=False, rater_phone=None))
    real, anonymous = Rectification.objects.order_by("rating__external_id")
    assert real.state == "revisit_pending" and real.real_name
    assert real.revisit_due_at == dt.datetime(2026, 3, 4, 17, 30, tzinfo=SHANGHAI)
    assert anonymous.state == "triage_pending" and anonymous.revisit_due_at is None
    assert Rectification.objects.count() == 2  # good ratings open nothing


def test_scope_limits_what_an_api_user_may_send(rated_org):
    report = ingest(rating("R1", case=None, unit="WB"), rating("R2"), user=rated_org.head_a)
    assert report.accepted == 1
    assert report.rejected[0].reason == "unit: unknown unit 'WB'"


def test_default_ratings_are_off_by_default_then_marked_and_given_once(rated_org, settings, time_machine):
    from kaoping.ratings.services import ratings_default

    time_machine.move_to(dt.datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI))
    assert ratings_default() == 0  # off unless a province's rule switches it on
    settings.KAOPING_RATING_DEFAULT_DAYS = 7
    ingest(rating("R1"))  # C1 is rated, C2 (handled 2026-03-03 10:00) is not
    assert ratings_default(now=dt.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)) == 0  # 6 days 23 hours
    assert ratings_default() == 1
    assert ratings_default() == 0
    defaulted = Rating.objects.get(defaulted=True)
    assert defaulted.case is not None
    assert (defaulted.case.external_id, defaulted.level, defaulted.channel) == ("C2", 3, "default")
    assert defaulted.rated_at == dt.datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)
    assert verify_chain().ok
