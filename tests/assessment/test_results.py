"""Stored assessments: scheme versions in the database, runs and their evidence, publication, and the
three things that change a result after the fact: a veto, an exemption and a re-check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kaoping.assessment.models import (
    Assessment,
    AssessmentStatus,
    Exemption,
    RecheckStatus,
    SchemeStatus,
    SchemeVersion,
)
from kaoping.assessment.rollups import rollups_rebuild
from kaoping.assessment.services import (
    assessment_publish,
    assessment_run,
    exemption_approve,
    manual_code_define,
    manual_entry_submit,
    recheck_decide,
    recheck_request,
    scheme_draft_create,
    scheme_draft_update,
    scheme_publish,
    schemes_load_defaults,
)
from kaoping.core.errors import KaopingError
from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain
from tests.assessment.conftest import World, make_rating


def _ratings(world: World) -> None:
    """Window A: 95 of 100 ratings satisfied (−6 points on satisfaction); window B: all satisfied."""
    for n in range(100):
        make_rating(world.org.window_a, f"2026-03-{2 + n % 20:02d}T10:00", 5 if n >= 5 else 1)
    for n in range(50):
        make_rating(world.org.window_b, f"2026-03-{2 + n % 20:02d}T11:00", 5)
    rollups_rebuild(days=None)


def _actions(model: str, object_id: int) -> list[str]:
    return list(
        EvidenceEntry.objects.filter(object_type=model, object_id=str(object_id))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_default_schemes_are_stored_published_and_loading_them_again_changes_nothing(world: World):
    stored = SchemeVersion.objects.filter(status=SchemeStatus.PUBLISHED)
    assert set(stored.values_list("code", flat=True)) >= {"window", "department_internal", "hotline_staff"}
    assert schemes_load_defaults(actor=world.org.admin) == []
    window = stored.get(code="window")
    window.document = window.document.replace("target: 98", "target: 90")
    with pytest.raises(ValueError, match="cannot change"):
        window.save()


def test_a_draft_lists_every_error_and_publishing_retires_the_old_version(world: World):
    director = world.org.director
    old = SchemeVersion.objects.get(code="window", status=SchemeStatus.PUBLISHED)
    draft = scheme_draft_create(actor=director, base=old)
    assert (draft.version, draft.status) == (old.version + 1, SchemeStatus.DRAFT)
    broken = draft.document.replace("metric: satisfaction_rate", "metric: no_such_metric").replace(
        "weight: 15", "weight: 14"
    )
    with pytest.raises(KaopingError) as refused:
        scheme_draft_update(actor=director, draft=draft, text=broken)
    assert "no_such_metric" in str(refused.value) and "100" in str(refused.value)  # both errors at once
    raised = draft.document.replace("target: 98", "target: 99", 1)
    scheme_draft_update(actor=director, draft=draft, text=raised)
    with pytest.raises(KaopingError, match="centre director"):
        scheme_publish(actor=world.org.head_a, draft=draft)
    scheme_publish(actor=director, draft=draft)
    old.refresh_from_db()
    assert old.status == SchemeStatus.RETIRED
    run = assessment_run(actor=director, scheme_code="window", period="2026-03")
    assert run.scheme == draft  # every result names the version it came from
    assert run.results.get(unit__code="WA").lines[0]["target"] == "99"
    with pytest.raises(KaopingError, match="published"):
        scheme_draft_update(actor=director, draft=draft, text=raised)


def test_a_run_stores_every_units_result_with_its_evidence_and_is_reproducible(world: World):
    _ratings(world)
    director = world.org.director
    first = assessment_run(actor=director, scheme_code="window", period="2026-03")
    results = {r.unit.code: r for r in first.results.select_related("unit")}
    assert set(results) >= {"WA", "WB", "WC"}
    satisfaction = next(line for line in results["WA"].lines if line["indicator"] == "satisfaction")
    assert satisfaction["value"] == "95.0000" and satisfaction["deducted"] == "6.00"
    assert satisfaction["deductions"][0]["key"] == "shortfall"
    assert _actions("assessment.assessment", first.pk) == ["assessment.run"]
    second = assessment_run(actor=director, scheme_code="window", period="2026-03")
    assert second.results_digest == first.results_digest  # same version and data: same numbers
    first.refresh_from_db()
    assert first.status == AssessmentStatus.SUPERSEDED
    assert verify_chain().ok
    # A stored result changed behind the log's back is found by the chain's verification.
    tampered = second.results.get(unit__code="WA")
    tampered.total = Decimal("99.00")
    tampered.save()
    assert not verify_chain().ok


def test_only_the_director_runs_and_publishes(world: World):
    with pytest.raises(KaopingError, match="centre director"):
        assessment_run(actor=world.org.head_a, scheme_code="window", period="2026-03")
    run = assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")
    with pytest.raises(KaopingError, match="centre director"):
        assessment_publish(actor=world.org.staff_a, assessment=run)
    assessment_publish(actor=world.org.director, assessment=run)
    with pytest.raises(KaopingError, match="only the latest computed run"):
        assessment_publish(actor=world.org.director, assessment=run)


def test_a_veto_fails_the_unit_whatever_its_score_and_is_logged(world: World):
    _ratings(world)
    director = world.org.director
    before = assessment_run(actor=director, scheme_code="window", period="2026-03").results.get(
        unit__code="WB"
    )
    assert not before.vetoed
    manual_code_define(actor=world.org.admin, code="major_incident", name="重大服务事故", low=0, high=100)
    entry = manual_entry_submit(
        actor=director,
        unit=world.org.window_b,
        code="major_incident",
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
        value=1,
        evidence="3月12日群众投诉引发舆情，经调查属实",
    )
    assert _actions("assessment.manualentry", entry.pk) == ["assessment.manual_entry_submit"]
    after = assessment_run(actor=director, scheme_code="window", period="2026-03").results.get(
        unit__code="WB"
    )
    assert after.vetoed and after.grade == "fail" and before.grade != "fail"
    veto = next(line for line in after.lines if line["indicator"] == "major_incident")
    assert veto["vetoed"] and "否决" in veto["explanation"]


def test_an_exemption_cancels_one_deduction_in_later_runs_and_is_logged(world: World):
    _ratings(world)
    director = world.org.director
    run = assessment_run(actor=director, scheme_code="window", period="2026-03")
    before = run.results.get(unit__code="WA")
    with pytest.raises(KaopingError, match="no such deduction"):
        exemption_approve(
            actor=director, result=before, indicator="satisfaction", deduction_key="nope", reason="x"
        )
    with pytest.raises(KaopingError, match="centre director"):
        exemption_approve(
            actor=world.org.head_a,
            result=before,
            indicator="satisfaction",
            deduction_key="shortfall",
            reason="x",
        )
    exemption = exemption_approve(
        actor=director,
        result=before,
        indicator="satisfaction",
        deduction_key="shortfall",
        reason="系统升级导致评价器故障，差评集中于故障时段",
    )
    assert _actions("assessment.exemption", exemption.pk) == ["assessment.exemption_approve"]
    before.refresh_from_db()  # the stored run never changes
    after = assessment_run(actor=director, scheme_code="window", period="2026-03").results.get(
        unit__code="WA"
    )
    # The 6 points come back on the line; the total is rescaled over the weight that has data.
    line = next(line for line in after.lines if line["indicator"] == "satisfaction")
    assert (line["points"], line["deducted"]) == ("15.00", "0") and after.total > before.total
    assert line["exempted"][0]["key"] == "shortfall" and line["exempted"][0]["approver"] == director.username
    assert Exemption.objects.count() == 1


def test_a_recheck_is_asked_for_in_time_and_a_changed_outcome_republishes(world: World, settings):
    _ratings(world)
    director, head = world.org.director, world.org.head_a
    run = assessment_run(actor=director, scheme_code="window", period="2026-03")
    original = run.results.get(unit__code="WA")
    with pytest.raises(KaopingError, match="only a published result"):
        recheck_request(actor=head, result=original, reason="满意率统计有误")
    assessment_publish(actor=director, assessment=run)
    with pytest.raises(KaopingError):
        recheck_request(actor=world.org.head_b, result=original, reason="不是本科室")  # outside B's scope
    recheck = recheck_request(actor=head, result=original, reason="差评集中于评价器故障时段")
    with pytest.raises(KaopingError, match="already waiting"):
        recheck_request(actor=head, result=original, reason="再次申请")
    # Nothing in the data changed: "changed" is refused, and nothing is stored.
    with pytest.raises(KaopingError, match="same result"):
        recheck_decide(actor=director, recheck=recheck, changed=True, outcome="更正")
    run.refresh_from_db()
    assert run.status == AssessmentStatus.PUBLISHED
    exemption_approve(
        actor=director,
        result=original,
        indicator="satisfaction",
        deduction_key="shortfall",
        reason="评价器故障",
    )
    decided = recheck_decide(actor=director, recheck=recheck, changed=True, outcome="核实属实，予以免责")
    assert decided.status == RecheckStatus.CHANGED and decided.new_result is not None
    assert decided.new_result.total > original.total
    run.refresh_from_db()
    assert run.status == AssessmentStatus.SUPERSEDED
    assert decided.new_result.assessment.status == AssessmentStatus.PUBLISHED
    assert _actions("assessment.recheck", recheck.pk) == [
        "assessment.recheck_request",
        "assessment.recheck_decide",
    ]
    with pytest.raises(KaopingError, match="already decided"):
        recheck_decide(actor=director, recheck=recheck, changed=False, outcome="维持")


def test_a_recheck_after_the_working_days_allowed_is_refused(world: World, settings):
    from kaoping.core import clock

    run = assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")
    assessment_publish(actor=world.org.director, assessment=run)
    Assessment.objects.filter(pk=run.pk).update(published_at=clock.now() - dt.timedelta(days=30))
    run.refresh_from_db()
    with pytest.raises(KaopingError, match="time to ask for a re-check ended"):
        recheck_request(actor=world.org.head_a, result=run.results.get(unit__code="WA"), reason="晚了")
