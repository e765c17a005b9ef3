"""Hand-made cases, ratings and follow-ups for the metrics and rollup tests (stored directly, with
their derived fields as given, so each expected value can be worked out by hand)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any, TypedDict

import pytest

from kaoping.assessment.services import schemes_load_defaults
from kaoping.cases.models import Case
from kaoping.catalog.models import Matter
from kaoping.catalog.services import matter_create
from kaoping.followup.models import Rectification
from kaoping.org.models import Staff, Unit
from kaoping.org.services import staff_create, unit_create
from kaoping.ratings.models import Rating
from kaoping.workcal.calendar import SHANGHAI
from tests.factories import OrgTree


class Span(TypedDict):
    start: dt.date
    end: dt.date


MARCH: Span = {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31)}
_ids = itertools.count(1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@dataclass
class World:
    org: OrgTree
    immediate: Matter
    committed: Matter
    e1: Staff
    e2: Staff
    e3: Staff
    empty: Unit  # a window with no records at all


@pytest.fixture
def world(org: OrgTree, calendar_db: Any) -> World:
    immediate = matter_create(
        actor=org.admin,
        code="M-IMM",
        name="即办事项",
        kind="immediate",
        owner=org.window_a,
        channels=["window"],
    )
    committed = matter_create(
        actor=org.admin,
        code="M-COM",
        name="承诺事项",
        kind="committed",
        owner=org.window_a,
        channels=["window", "online"],
    )
    staff = [
        staff_create(actor=org.admin, unit=unit, name=name, employee_no=no)
        for unit, name, no in (
            (org.window_a, "甲", "E1"),
            (org.window_a, "乙", "E2"),
            (org.window_b, "丙", "E3"),
        )
    ]
    empty = unit_create(actor=org.admin, code="WC", name="丙窗口", kind="window", parent=org.dept_b)
    schemes_load_defaults(actor=org.admin)  # what `kaoping setup` does
    e1, e2, e3 = staff
    return World(org, immediate, committed, e1, e2, e3, empty)


def make_case(
    world: World,
    unit: Unit,
    received: str,
    *,
    immediate: bool = False,
    staff: Staff | None = None,
    channel: str = "window",
    **fields: Any,
) -> Case:
    return Case.objects.create(
        source="t",
        external_id=f"C{next(_ids)}",
        matter=world.immediate if immediate else world.committed,
        unit=unit,
        staff=staff,
        channel=channel,
        applicant_kind="person",
        received_at=at(received),
        **fields,
    )


def make_rating(
    unit: Unit,
    rated: str,
    level: int,
    *,
    defaulted: bool = False,
    excluded: bool = False,
    real_name: bool = False,
    case: Case | None = None,
) -> Rating:
    return Rating.objects.create(
        source="t",
        external_id=f"R{next(_ids)}",
        unit=unit,
        case=case,
        level=level,
        channel="default" if defaulted else "hall_tablet",
        rater_kind="person",
        real_name=real_name,
        rated_at=at(rated),
        received_at=at(rated),
        defaulted=defaulted,
        excluded=excluded,
    )


def make_followup(
    rating: Rating,
    *,
    revisited: bool = False,
    triage: str = "",
    rectified: bool = False,
    verdict: str = "",
) -> Rectification:
    return Rectification.objects.create(
        kind="bad_rating",
        unit=rating.unit,
        rating=rating,
        state="triage_pending",
        real_name=rating.real_name,
        opened_at=rating.rated_at,
        revisited_at=rating.rated_at if revisited else None,
        triage=triage,
        rectified_at=rating.rated_at if rectified else None,
        verdict=verdict,
    )
