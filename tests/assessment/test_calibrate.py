"""R0.3 calibration from stored published runs: shares per quarter (months grouped) or per period, a raise
proposed after three quarters above 90 % and put into a new draft version, a remediation item below
60 %, director-only writes with evidence entries, the page and the command."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from kaoping.assessment.assess import parse_period
from kaoping.assessment.calibrate import (
    calibration_draft,
    calibration_for,
    calibration_settings,
    indicator_history,
    met,
    remediation_close,
    remediation_open,
    span_of,
)
from kaoping.assessment.calibration import PeriodShare, ProposalKind
from kaoping.assessment.models import (
    Assessment,
    AssessmentResult,
    AssessmentStatus,
    RemediationItem,
    SchemeStatus,
    SchemeVersion,
)
from kaoping.assessment.rules import TargetLinear
from kaoping.assessment.schemes import dump_yaml, load_yaml
from kaoping.assessment.services import (
    scheme_draft_create,
    scheme_draft_update,
    scheme_publish,
    schemes_load_defaults,
)
from kaoping.cli import main
from kaoping.core.errors import KaopingError
from kaoping.evidence.models import EvidenceEntry
from kaoping.org.models import Unit
from kaoping.org.services import unit_create
from kaoping.workcal.calendar import SHANGHAI
from tests.factories import OrgTree

UNITS = 10
MONTHS = [f"2026-{m:02d}" for m in range(1, 10)]  # 2026-Q1 … 2026-Q3


@dataclass
class Setup:
    org: OrgTree
    units: list[Unit]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def setup(org: OrgTree, time_machine: Any) -> Setup:
    time_machine.move_to(at("2026-11-05T10:00"))  # 2026-Q3 is over, 2026-Q4 is running
    schemes_load_defaults(actor=org.admin)
    units = [
        unit_create(actor=org.admin, code=f"W{n:02d}", name=f"窗口{n}", kind="window", parent=org.dept_a)
        for n in range(UNITS)
    ]
    return Setup(org, units)


def line(indicator: str, *, ok: bool, assessable: bool = True) -> dict[str, Any]:
    return {
        "indicator": indicator,
        "assessable": assessable,
        "points": ("10.00" if ok else "7.50") if assessable else None,
        "max_points": "10",
        "deductions": [] if ok else [{"key": "x", "amount": "2.50"}],
    }


def publish(
    s: Setup,
    period: str,
    met_counts: dict[str, int],
    *,
    status: AssessmentStatus = AssessmentStatus.PUBLISHED,
    version: SchemeVersion | None = None,
    unassessable: tuple[str, ...] = (),
) -> Assessment:
    """A stored run of the window scheme: the first ``met_counts[code]`` units met each indicator, the
    others lost points; ``unassessable`` indicators have no data for anyone."""
    parsed = parse_period(period)
    run = Assessment.objects.create(
        scheme=version or SchemeVersion.objects.get(code="window", status=SchemeStatus.PUBLISHED),
        period=parsed.text,
        period_start=parsed.start,
        period_end=parsed.end,
        status=status,
        computed_at=at("2026-11-01T09:00"),
        computed_by="test",
        published_at=at("2026-11-01T10:00") if status == AssessmentStatus.PUBLISHED else None,
        results_digest="0" * 64,
        units=len(s.units),
    )
    AssessmentResult.objects.bulk_create(
        AssessmentResult(
            assessment=run,
            unit=unit,
            total=Decimal(90),
            explanation="",
            lines=[line(code, ok=n < count) for code, count in met_counts.items()]
            + [line(code, ok=False, assessable=False) for code in unassessable],
        )
        for n, unit in enumerate(s.units)
    )
    return run


def three_quarters(s: Setup) -> None:
    """satisfaction: 29/30, 30/30, 30/30 (raise); wait_time: 50 % throughout (remediation);
    handling_on_time: all met but its target is already 100 %; acceptance_on_time: 80 % (nothing);
    bad_rating: no data. 2026-10 (the running quarter) would break every run if it counted."""
    for month in MONTHS:
        satisfaction = 9 if month == "2026-02" else 10
        publish(
            s,
            month,
            {"satisfaction": satisfaction, "wait_time": 5, "handling_on_time": 10, "acceptance_on_time": 8},
            unassessable=("bad_rating",),
        )
    publish(s, "2026-10", {"satisfaction": 0, "wait_time": 10, "handling_on_time": 0})
    # Neither a superseded nor a merely computed run counts.
    publish(s, "2026-03", {"satisfaction": 0}, status=AssessmentStatus.SUPERSEDED)
    publish(s, "2026-06", {"satisfaction": 0}, status=AssessmentStatus.COMPUTED)


def test_met_means_assessable_and_no_point_lost():
    assert met(line("x", ok=True)) and not met(line("x", ok=False))
    assert not met(line("x", ok=True, assessable=False))


def test_months_are_grouped_into_their_quarter_other_periods_stand_alone():
    assert (span_of("2026-08").text, span_of("2026-08").end) == ("2026-Q3", dt.date(2026, 9, 30))
    assert span_of("2026-12").text == "2026-Q4"
    assert span_of("2026-Q2").text == "2026-Q2" and span_of("2026-H1").text == "2026-H1"
    assert span_of("2026").end == dt.date(2026, 12, 31)


def test_shares_per_quarter_are_unit_months_met_over_unit_months_assessed(setup: Setup):
    three_quarters(setup)
    history = indicator_history("window")
    assert history["satisfaction"] == [
        PeriodShare("2026-Q1", 29, 30),
        PeriodShare("2026-Q2", 30, 30),
        PeriodShare("2026-Q3", 30, 30),
    ]
    assert [(p.period, p.met, p.assessed) for p in history["wait_time"]] == [
        ("2026-Q1", 15, 30),
        ("2026-Q2", 15, 30),
        ("2026-Q3", 15, 30),
    ]
    assert [p.assessed for p in history["bad_rating"]] == [0, 0, 0]  # no data: no share
    assert "commendations" not in history  # a bonus has no standard to meet
    # The running quarter only when asked for; a selection of periods by month or by quarter.
    running = indicator_history("window", closed_only=False)["satisfaction"]
    assert running[-1] == PeriodShare("2026-Q4", 0, 10)
    assert indicator_history("window", ["2026-Q2", "2026-07"])["satisfaction"] == [
        PeriodShare("2026-Q2", 30, 30),
        PeriodShare("2026-Q3", 10, 10),
    ]


def test_proposals_a_raise_after_three_quarters_above_90_and_remediation_below_60(setup: Setup):
    three_quarters(setup)
    found = calibration_for("window")
    kinds = {p.indicator: p.kind for p in found.proposals}
    assert kinds == {
        "satisfaction": ProposalKind.RAISE_STANDARD,
        "handling_on_time": ProposalKind.RAISE_STANDARD,
        "wait_time": ProposalKind.REMEDIATION,
    }
    satisfaction = found.row("satisfaction")
    assert satisfaction is not None and satisfaction.raisable and satisfaction.change is not None
    assert "96.67%、100%、100%，均高于 90%" in satisfaction.proposal.explanation  # type: ignore[union-attr]
    assert satisfaction.change.after == (Decimal(100),)  # 98 × 1.05 capped at 100 %
    handling = found.row("handling_on_time")
    assert handling is not None and not handling.raisable  # already 100 %: nothing to raise
    assert [c.counted for c in satisfaction.cells] == [True, True, True, False]


def test_the_settings_come_from_kaoping_calibration():
    with override_settings(KAOPING_CALIBRATION={"raise_above": 95, "raise_by": "8", "remediate_periods": 1}):
        found = calibration_settings()
        assert (found.raise_above, found.raise_by, found.remediate_periods) == (Decimal(95), Decimal(8), 1)
    with override_settings(KAOPING_CALIBRATION={"raise_by": 20, "typo": 1}):
        with pytest.raises(ImproperlyConfigured) as info:
            calibration_settings()
        assert "unknown key 'typo'" in str(info.value)
    with (
        override_settings(KAOPING_CALIBRATION={"raise_by": 20}),
        pytest.raises(ImproperlyConfigured, match="5%–10%"),
    ):
        calibration_settings()


def test_the_draft_raises_the_chosen_standard_and_the_published_version_stays(setup: Setup):
    three_quarters(setup)
    published = SchemeVersion.objects.get(code="window", status=SchemeStatus.PUBLISHED)
    before = published.document
    draft = calibration_draft(actor=setup.org.director, scheme_code="window", indicators=["satisfaction"])
    assert draft.status == SchemeStatus.DRAFT and draft.version == published.version + 1
    rule = draft.scheme().indicator("satisfaction").rule
    assert isinstance(rule, TargetLinear) and rule.target == Decimal(100)
    assert draft.scheme().indicator("wait_time").rule == published.scheme().indicator("wait_time").rule
    published.refresh_from_db()
    assert published.document == before and published.status == SchemeStatus.PUBLISHED
    entry = EvidenceEntry.objects.filter(action="assessment.calibration_draft", object_id=str(draft.pk)).get()
    assert "R0.3" in entry.note and "目标由 98% 提高到 100%" in entry.note

    # Refusals, all at once: nothing proposed, nothing to raise, not an indicator.
    with pytest.raises(KaopingError) as info:
        calibration_draft(
            actor=setup.org.director,
            scheme_code="window",
            indicators=["wait_time", "handling_on_time", "nope"],
        )
    why = info.value.why
    assert "wait_time: no raise" in why and "handling_on_time: 目标已为 100%" in why and "nope:" in why

    # Once the raised version is published, the periods scored under the old target say nothing
    # about the new one: no raise proposed again; unchanged indicators keep their history.
    scheme_publish(actor=setup.org.director, draft=draft)
    history = indicator_history("window")
    assert history["satisfaction"] == [] and len(history["wait_time"]) == 3
    assert "satisfaction" not in {p.indicator for p in calibration_for("window").proposals}


def test_below_60_percent_opens_a_remediation_item_with_its_evidence(setup: Setup):
    three_quarters(setup)
    item = remediation_open(
        actor=setup.org.director, scheme_code="window", indicator="wait_time", note="查找等候过长原因"
    )
    assert (item.status, item.periods, item.shares) == ("open", "2026-Q2、2026-Q3", "50%、50%")
    assert "低于 60%，建议启动专项整改" in item.explanation and item.indicator_name
    assert EvidenceEntry.objects.filter(
        action="assessment.remediation_open", object_type="assessment.remediationitem", object_id=str(item.pk)
    ).exists()
    with pytest.raises(KaopingError, match="already open"):
        remediation_open(actor=setup.org.director, scheme_code="window", indicator="wait_time")
    # Without a proposal the director must say why.
    with pytest.raises(KaopingError, match="say in the note why"):
        remediation_open(actor=setup.org.director, scheme_code="window", indicator="acceptance_on_time")
    other = remediation_open(
        actor=setup.org.director, scheme_code="window", indicator="acceptance_on_time", note="群众反映多"
    )
    assert (other.periods, other.shares, other.explanation) == ("2026-Q2、2026-Q3", "80%、80%", "")
    closed = remediation_close(actor=setup.org.director, item=item, outcome="已增设窗口")
    assert closed.status == "closed" and closed.closed_by_id == setup.org.director.pk
    assert EvidenceEntry.objects.filter(action="assessment.remediation_close").count() == 1
    with pytest.raises(KaopingError, match="already closed"):
        remediation_close(actor=setup.org.director, item=item, outcome="again")


def test_only_the_director_calibrates(setup: Setup):
    three_quarters(setup)
    for user in (setup.org.head_a, setup.org.staff_a):
        with pytest.raises(KaopingError, match="only the centre director"):
            calibration_draft(actor=user, scheme_code="window", indicators=["satisfaction"])
        with pytest.raises(KaopingError, match="only the centre director"):
            remediation_open(actor=user, scheme_code="window", indicator="wait_time", note="x")
    assert not RemediationItem.objects.exists()
    assert SchemeVersion.objects.filter(code="window").count() == 1


def test_a_quarterly_scheme_is_calibrated_per_period(setup: Setup):
    director = setup.org.director
    base = SchemeVersion.objects.get(code="window", status=SchemeStatus.PUBLISHED)
    draft = scheme_draft_create(actor=director, base=base)
    document = load_yaml(draft.document)
    document["period_type"] = "quarter"
    scheme_publish(
        actor=director, draft=scheme_draft_update(actor=director, draft=draft, text=dump_yaml(document))
    )
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        publish(setup, quarter, {"satisfaction": 10})
    assert indicator_history("window")["satisfaction"] == [
        PeriodShare("2026-Q1", 10, 10),
        PeriodShare("2026-Q2", 10, 10),
        PeriodShare("2026-Q3", 10, 10),
    ]
    assert not calibration_for("window").quarterly_from_months


# -- the page and the command ---------------------------------------------------------------------


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_shares_and_proposals_and_makes_the_draft(setup: Setup):
    three_quarters(setup)
    director = client_for(setup.org.director)
    page = director.get("/assessment/calibration/?scheme=window")
    assert page.status_code == 200
    text = page.content.decode()
    assert "提高标准" in text and "专项整改" in text and "目标由 98% 提高到 100%" in text
    assert "96.7%" in text and "29/30" in text and "未结束" in text
    assert 'name="indicator" value="satisfaction" checked' in text
    assert 'value="handling_on_time" checked' not in text  # nothing to raise
    assert 'data-testid="remediation-wait_time"' in text
    assert "指标校准" in director.get("/assessment/").content.decode()

    created = director.post(
        "/assessment/calibration/draft/", {"scheme": "window", "indicator": ["satisfaction"]}
    )
    draft = SchemeVersion.objects.get(code="window", status=SchemeStatus.DRAFT)
    assert created.status_code == 302 and created.headers["Location"] == f"/assessment/schemes/{draft.pk}/"
    refused = director.post("/assessment/calibration/draft/", {"scheme": "window"}, follow=True)
    assert "choose at least one indicator" in refused.content.decode()

    opened = director.post(
        "/assessment/calibration/remediation/", {"scheme": "window", "indicator": "wait_time", "note": "排查"}
    )
    assert (
        opened.status_code == 302 and opened.headers["Location"] == "/assessment/calibration/?scheme=window"
    )
    item = RemediationItem.objects.get()
    listed = director.get("/assessment/calibration/?scheme=window").content.decode()
    assert "已有进行中的专项整改" in listed and "排查" in listed
    assert 'data-testid="remediation-wait_time"' not in listed
    director.post(f"/assessment/calibration/remediation/{item.pk}/close/", {"outcome": "完成"})
    item.refresh_from_db()
    assert item.status == "closed"


def test_the_page_and_its_actions_are_the_directors(setup: Setup):
    three_quarters(setup)
    head = client_for(setup.org.head_a)
    assert head.get("/assessment/calibration/?scheme=window").status_code == 403
    assert (
        head.post(
            "/assessment/calibration/draft/", {"scheme": "window", "indicator": "satisfaction"}
        ).status_code
        == 403
    )
    assert "指标校准" not in head.get("/assessment/").content.decode()
    assert Client().get("/assessment/calibration/").status_code == 302  # to the login page


def test_the_command_prints_the_proposals(setup: Setup, capsys: Any):
    three_quarters(setup)
    assert main(["calibrate", "--scheme", "window"]) == 0
    out = capsys.readouterr().out
    assert "raise_standard" in out and "remediation" in out and "目标由 98% 提高到 100%" in out
    assert main(["calibrate", "--scheme", "window", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["indicator"]: p["kind"] for p in data["proposals"]} == {
        "handling_on_time": "raise_standard",
        "satisfaction": "raise_standard",
        "wait_time": "remediation",
    }
    assert data["history"]["satisfaction"][0] == {
        "period": "2026-Q1",
        "met": 29,
        "assessed": 30,
        "share": str(Decimal(29) * 100 / Decimal(30)),
        "counted": True,
    }
    assert main(["calibrate", "--scheme", "nope"]) == 2


def test_the_page_reads_in_english(setup: Setup, english: Any):
    three_quarters(setup)
    director = client_for(setup.org.director)
    director.post("/i18n/setlang/", {"language": "en"})
    page = director.get("/assessment/calibration/?scheme=window").content.decode()
    assert "Calibration" in page and "Create a draft version with the selected raises" in page
    assert "raised by 5%" in page and "unit-months" in page and "not over" in page
