"""The demo's officials work through follow-ups with the services, in the simulated past."""

from __future__ import annotations

import datetime as dt

import pytest

from kaoping.core.errors import KaopingError
from kaoping.evidence.verify import verify_chain
from kaoping.followup.models import Rectification
from kaoping.followup.services import rectification_revisit
from kaoping.ratings.codes import Convention
from kaoping.ratings.services import ratings_ingest
from kaoping.sim.followups import work_followups
from kaoping.workcal.calendar import SHANGHAI
from tests.ratings.conftest import rating


def test_follow_ups_are_worked_with_past_times_and_logged(rated_org, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 3, 11, 0, tzinfo=SHANGHAI))  # the ratings arrive as given
    records = [
        ("1", rating("R1", level=1)),
        ("2", rating("R2", case="C2", level=2, real_name=False, rater_phone=None)),
    ]
    ratings_ingest(actor="t", records=records, label="t", convention=Convention.PROVINCIAL)
    now = dt.datetime(2026, 4, 30, 12, 0, tzinfo=SHANGHAI)
    time_machine.move_to(now)
    steps = work_followups(actor=rated_org.admin, seed=3, now=now)
    rects = list(Rectification.objects.order_by("rating__external_id"))
    assert steps >= 2 and all(r.state != "revisit_pending" or r.revisited_at is None for r in rects)
    for r in rects:
        for when in (r.revisited_at, r.rectified_at, r.verdict_at, r.closed_at):
            assert when is None or r.opened_at <= when <= now
    assert rects[1].revisited_at is None  # anonymous: nobody to call back
    assert verify_chain().ok


def test_a_step_cannot_be_recorded_in_the_future(rated_org):
    ratings_ingest(
        actor="t", records=[("1", rating("R1", level=1))], label="t", convention=Convention.PROVINCIAL
    )
    rect = Rectification.objects.get()
    future = dt.datetime(2100, 1, 1, tzinfo=SHANGHAI)
    with pytest.raises(KaopingError, match="aware past instant"):
        rectification_revisit(actor=rated_org.admin, rectification=rect, note="x", at=future)
