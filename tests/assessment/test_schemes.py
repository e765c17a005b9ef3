"""Schemes as data: the defaults, validation listing every error, YAML round-trips, the content hash."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.assessment import metric_names
from kaoping.assessment.metric_names import KNOWN_METRIC_NAMES, KNOWN_METRICS, MetricUnit
from kaoping.assessment.rules import Anchored, Bands, Bonus, PartialStep, PerOccurrence, TargetLinear, Veto
from kaoping.assessment.schemes import (
    CATEGORY_RANGES,
    DEFAULT_FILES,
    WINDOW_PROCESS_MIN,
    Category,
    ErrorCode,
    Grade,
    GradeThresholds,
    InvalidSchemeError,
    SchemeStyle,
    UnitType,
    content_hash,
    default_scheme_texts,
    default_schemes,
    dump_yaml,
    load_yaml,
    parse_scheme,
    read_scheme,
    to_dict,
    to_json_dict,
    validate,
)

D = Decimal


def minimal() -> dict[str, Any]:
    """A small valid weighted department scheme: outcome 45, process 35, development 15, veto 5."""
    return {
        "code": "dept_test",
        "name": "测试方案",
        "version": 1,
        "unit_type": "department:external_service",
        "period_type": "quarter",
        "indicators": [
            {
                "code": "satisfaction",
                "name": "群众满意率",
                "dimension": "satisfaction",
                "category": "outcome",
                "weight": 45,
                "metric": "satisfaction_rate",
                "rule": {"kind": "target_linear", "target": 98, "step": 1, "points_per_step": 2},
            },
            {
                "code": "on_time",
                "name": "按时办结率",
                "dimension": "timeliness",
                "category": "process",
                "weight": 35,
                "metric": "handling_on_time_rate",
                "rule": {"kind": "target_linear", "target": 100, "step": 1, "points_per_step": 1},
            },
            {
                "code": "innovation",
                "name": "服务创新",
                "dimension": "innovation",
                "category": "development",
                "weight": 15,
                "metric": "manual:innovation_level",
                "rule": {
                    "kind": "anchored",
                    "levels": [
                        {"level": 5, "label": "主动提出并实施", "points": 15},
                        {"level": 1, "label": "未参与", "points": 0},
                    ],
                },
            },
            {
                "code": "incident",
                "name": "重大服务事故",
                "dimension": "safety",
                "category": "veto",
                "weight": 5,
                "metric": "manual:major_incident",
                "rule": {"kind": "veto"},
            },
        ],
    }


def codes(errors) -> set[tuple[str, ErrorCode]]:
    return {(error.path, error.code) for error in errors}


# --- the defaults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DEFAULT_FILES)
def test_every_default_scheme_validates_with_no_error(name):
    text = default_scheme_texts()[name]
    assert validate(load_yaml(text), KNOWN_METRIC_NAMES) == []
    scheme = read_scheme(text)
    assert {indicator.metric for indicator in scheme.indicators} <= KNOWN_METRIC_NAMES


@pytest.mark.parametrize("name", DEFAULT_FILES)
def test_default_files_are_stored_in_canonical_form(name):
    text = default_scheme_texts()[name]
    assert dump_yaml(read_scheme(text)) == text


def test_defaults_cover_every_unit_type():
    schemes = default_schemes()
    assert {scheme.unit_type for scheme in schemes.values()} == set(UnitType)
    assert {scheme.style for scheme in schemes.values()} == set(SchemeStyle)


def test_window_default_gives_process_at_least_forty_percent():
    window = default_schemes()["window"]
    weights = window.category_weights()
    assert weights[Category.PROCESS] >= WINDOW_PROCESS_MIN
    assert sum(w for c, w in weights.items() if c is not Category.BONUS) == D(100)


@pytest.mark.parametrize("code", ["department_internal", "department_external", "department_support"])
def test_department_defaults_follow_r21_ranges(code):
    weights = default_schemes()[code].category_weights()
    for category, (low, high) in CATEGORY_RANGES.items():
        assert low <= weights[category] <= high, category


def test_department_defaults_carry_r22_example_targets():
    schemes = default_schemes()

    def target(scheme: str, indicator: str) -> Decimal:
        rule = schemes[scheme].indicator(indicator).rule
        assert isinstance(rule, TargetLinear)
        return rule.target

    assert target("department_internal", "it_fault_fix") == D(2)
    assert target("department_internal", "salary_accuracy") == D(100)
    assert target("department_external", "immediate_share") == D(70)
    assert target("department_external", "trips") == D(1)
    assert target("department_external", "call_answer") == D(85)
    assert target("department_support", "budget_deviation") == D(5)
    innovation = schemes["department_internal"].indicator("innovation").rule
    assert isinstance(innovation, Anchored)
    assert [level.points for level in innovation.levels] == [D(20), D(10), D(0)]


def test_hotline_staff_default_is_a_deduction_scheme_with_roles_and_incentive():
    staff = default_schemes()["hotline_staff"]
    assert staff.style is SchemeStyle.DEDUCTION
    assert staff.role_codes == ("call_taker", "monitor")
    assert staff.incentive is not None and staff.incentive.award_min_score == D(80)
    common = {i.code for i in staff.indicators if not i.roles}
    assert {"discipline", "appearance", "hygiene", "safety", "handover", "complaints"} <= common
    assert staff.indicator("call_volume").roles == ("call_taker",)
    assert staff.indicator("error_checks").roles == ("monitor",)


def test_known_metrics_are_unique_and_well_formed():
    assert len(KNOWN_METRICS) == len(metric_names._ALL)
    for name, info in KNOWN_METRICS.items():
        assert info.name == name
        assert info.label
        assert info.manual == name.startswith("manual:")
    assert KNOWN_METRICS["manual:innovation_level"].unit is MetricUnit.LEVEL
    assert not KNOWN_METRICS["mean_wait_minutes"].higher_is_better


# --- validation -----------------------------------------------------------------------------------


def test_minimal_document_is_valid_and_parses():
    scheme = parse_scheme(minimal())
    assert scheme.style is SchemeStyle.WEIGHTED
    assert scheme.full_score == D(100)
    assert scheme.grades == GradeThresholds()
    rule = scheme.indicator("satisfaction").rule
    assert isinstance(rule, TargetLinear) and rule.partial is PartialStep.WHOLE
    levels = scheme.indicator("innovation").rule
    assert isinstance(levels, Anchored) and levels.levels[0].level == "5"


def test_several_independent_mistakes_are_all_listed():
    doc = minimal()
    doc["colour"] = "red"
    del doc["name"]
    doc["version"] = "one"
    doc["indicators"][0]["rule"]["step"] = 0
    doc["indicators"][1]["metric"] = "speed_of_light"
    doc["indicators"][2]["code"] = "satisfaction"
    doc["indicators"][3]["dimension"] = "luck"
    errors = validate(doc)
    assert codes(errors) >= {
        ("colour", ErrorCode.UNKNOWN_FIELD),
        ("name", ErrorCode.MISSING),
        ("version", ErrorCode.WRONG_TYPE),
        ("indicators[0].rule.step", ErrorCode.INVALID_VALUE),
        ("indicators[1].metric", ErrorCode.UNKNOWN_METRIC),
        ("indicators[0].code", ErrorCode.DUPLICATE),
        ("indicators[2].code", ErrorCode.DUPLICATE),
        ("indicators[3].dimension", ErrorCode.INVALID_VALUE),
    }
    with pytest.raises(InvalidSchemeError) as refused:
        parse_scheme(doc)
    assert refused.value.errors == errors
    assert "indicators[1].metric" in str(refused.value)


def test_weights_must_add_up_to_the_full_score():
    doc = minimal()
    doc["indicators"][0]["weight"] = 40
    assert codes(validate(doc)) == {("indicators", ErrorCode.WEIGHT_SUM)}
    assert "合计 95 分" in validate(doc)[0].reason


def test_bonus_sits_outside_the_hundred():
    doc = minimal()
    doc["indicators"].append(
        {
            "code": "praise",
            "name": "群众表扬",
            "dimension": "satisfaction",
            "category": "bonus",
            "weight": 5,
            "metric": "manual:commendations",
            "rule": {"kind": "bonus", "points_per_unit": 1},
        }
    )
    assert validate(doc) == []


def test_r21_category_ranges():
    doc = minimal()
    doc["indicators"][0]["weight"] = 55  # outcome 55 %
    doc["indicators"][1]["weight"] = 25  # process 25 %
    errors = validate(doc)
    assert codes(errors) == {("indicators", ErrorCode.CATEGORY_SHARE)}
    reasons = " ".join(error.reason for error in errors)
    assert "结果性指标（outcome）占 55%" in reasons
    assert "过程性指标（process）占 25%" in reasons


def test_department_process_above_forty_percent_breaks_r21():
    doc = minimal()
    doc["indicators"][0]["weight"] = 40
    doc["indicators"][1]["weight"] = 45
    doc["indicators"][2]["weight"] = 10
    doc["indicators"][2]["rule"]["levels"][0]["points"] = 10
    assert codes(validate(doc)) == {("indicators", ErrorCode.CATEGORY_SHARE)}


def test_window_scheme_is_held_to_r41_instead_of_r21_process_range():
    doc = minimal()
    doc["unit_type"] = "window"
    doc["indicators"][0]["weight"] = 40
    doc["indicators"][1]["weight"] = 45
    doc["indicators"][2]["weight"] = 10
    doc["indicators"][2]["rule"]["levels"][0]["points"] = 10
    assert validate(doc) == []  # process 45 %: fine for a window (R4.1), too much for a department (R2.1)
    low = minimal()
    low["unit_type"] = "window"
    assert codes(validate(low)) == {("indicators", ErrorCode.WINDOW_PROCESS_SHARE)}  # process 35 % < 40 %


def test_deduction_style_is_validated_by_its_own_rules():
    doc: dict[str, Any] = {
        "code": "staff_test",
        "name": "扣分制",
        "version": 2,
        "unit_type": "hotline_staff",
        "period_type": "month",
        "style": "deduction",
        "incentive": {"base": 500, "award_min_score": 80},
        "indicators": [
            {
                "code": "discipline",
                "name": "劳动纪律",
                "dimension": "conduct",
                "category": "process",
                "weight": 10,
                "metric": "manual:discipline_violations",
                "rule": {"kind": "per_occurrence", "points_per_occurrence": 2},
            },
            {
                "code": "complaints",
                "name": "群众投诉",
                "dimension": "satisfaction",
                "category": "outcome",
                "weight": 20,
                "metric": "staff_complaint_count",
                "rule": {"kind": "per_occurrence", "points_per_occurrence": 5, "cap": 15},
            },
        ],
    }
    assert validate(doc) == []  # caps add up to 30, no R2.1 ranges
    scheme = parse_scheme(doc)
    assert scheme.incentive is not None and scheme.incentive.base == D(500)
    bad = copy.deepcopy(doc)
    bad["indicators"][1]["rule"]["cap"] = 25
    bad["indicators"][0]["weight"] = 120
    bad["incentive"]["award_min_score"] = 150
    assert codes(validate(bad)) == {
        ("indicators[1].rule.cap", ErrorCode.INVALID_VALUE),
        ("indicators[0].weight", ErrorCode.INVALID_VALUE),
        ("incentive.award_min_score", ErrorCode.INVALID_VALUE),
    }


def test_roles_and_incentive_belong_to_deduction_schemes():
    doc = minimal()
    doc["roles"] = {"call_taker": "受理员"}
    doc["incentive"] = {"base": 100}
    doc["indicators"][0]["roles"] = ["call_taker"]
    assert codes(validate(doc)) == {
        ("roles", ErrorCode.NOT_IN_STYLE),
        ("incentive", ErrorCode.NOT_IN_STYLE),
        ("indicators[0].roles", ErrorCode.NOT_IN_STYLE),
    }


def test_indicator_roles_must_be_declared():
    doc = parse_and_dump("hotline_staff")
    doc["indicators"][5]["roles"] = ["hall_manager"]
    assert codes(validate(doc)) == {("indicators[5].roles[0]", ErrorCode.INVALID_VALUE)}


def parse_and_dump(code: str) -> dict[str, Any]:
    return to_dict(default_schemes()[code])


def test_category_and_rule_must_agree():
    doc = minimal()
    doc["indicators"][3]["rule"] = {"kind": "per_occurrence", "points_per_occurrence": 5}
    doc["indicators"][0]["rule"] = {"kind": "bonus", "points_per_unit": 1}
    found = codes(validate(doc))
    assert ("indicators[3].rule", ErrorCode.INCONSISTENT) in found
    assert ("indicators[0].rule", ErrorCode.INCONSISTENT) in found


def test_rule_must_fit_the_metric():
    doc = minimal()
    doc["indicators"][0]["rule"]["direction"] = "lower_better"
    doc["indicators"][1]["rule"] = {"kind": "per_occurrence", "points_per_occurrence": 1}
    assert codes(validate(doc)) == {
        ("indicators[0].rule.direction", ErrorCode.METRIC_MISMATCH),
        ("indicators[1].metric", ErrorCode.METRIC_MISMATCH),
    }


def test_rule_parameters_are_checked():
    doc = minimal()
    doc["indicators"][0]["rule"] = {
        "kind": "bands",
        "bands": [{"min": 90, "points": 30}, {"min": 95, "points": 45}, {"max": 1, "points": 1}],
    }
    doc["indicators"][1]["rule"]["partial"] = "sometimes"
    doc["indicators"][1]["rule"]["extra"] = 1
    doc["indicators"][2]["rule"]["levels"][1]["level"] = "5"
    found = codes(validate(doc))
    assert found >= {
        ("indicators[0].rule.bands[0].points", ErrorCode.INVALID_VALUE),  # the best band must give 45
        ("indicators[0].rule.bands[1]", ErrorCode.ORDER),
        ("indicators[0].rule.bands[1].points", ErrorCode.ORDER),
        ("indicators[0].rule.bands[2].max", ErrorCode.UNKNOWN_FIELD),
        ("indicators[0].rule.bands[2].min", ErrorCode.MISSING),
        ("indicators[1].rule.partial", ErrorCode.INVALID_VALUE),
        ("indicators[1].rule.extra", ErrorCode.UNKNOWN_FIELD),
        ("indicators[2].rule.levels[1].level", ErrorCode.DUPLICATE),
    }


def test_anchored_top_level_must_give_full_weight():
    doc = minimal()
    doc["indicators"][2]["rule"]["levels"][0]["points"] = 12
    assert codes(validate(doc)) == {("indicators[2].rule.levels[0].points", ErrorCode.INVALID_VALUE)}


def test_grades_must_descend_and_manual_range_needs_a_manual_metric():
    doc = minimal()
    doc["grades"] = {"excellent": 80, "good": 85, "pass": 70}
    doc["indicators"][0]["manual_range"] = [0, 100]
    doc["indicators"][2]["manual_range"] = [10, 1]
    assert codes(validate(doc)) == {
        ("grades", ErrorCode.ORDER),
        ("indicators[0].manual_range", ErrorCode.INCONSISTENT),
        ("indicators[2].manual_range", ErrorCode.ORDER),
    }


def test_wrong_shapes_are_reported_not_raised():
    assert codes(validate([])) == {("", ErrorCode.WRONG_TYPE)}  # type: ignore[arg-type]
    doc = minimal()
    doc["indicators"] = {"a": 1}
    assert codes(validate(doc)) == {("indicators", ErrorCode.WRONG_TYPE)}
    doc["indicators"] = [None, "x"]
    assert codes(validate(doc)) == {
        ("indicators[0]", ErrorCode.WRONG_TYPE),
        ("indicators[1]", ErrorCode.WRONG_TYPE),
    }
    doc["indicators"] = []
    assert codes(validate(doc)) == {("indicators", ErrorCode.INVALID_VALUE)}


def test_known_metrics_can_be_extended_by_the_caller():
    doc = minimal()
    doc["indicators"][1]["metric"] = "manual:queue_fairness"
    assert codes(validate(doc)) == {("indicators[1].metric", ErrorCode.UNKNOWN_METRIC)}
    assert validate(doc, KNOWN_METRIC_NAMES | {"manual:queue_fairness"}) == []


def test_validate_accepts_a_parsed_scheme():
    assert validate(parse_scheme(minimal())) == []


# Each mutation breaks one thing in its own place and is reported at a known path with a known code.
MUTATIONS: dict[str, tuple[Any, tuple[str, ErrorCode]]] = {
    "unknown_top": (lambda d: d.update(owner="x"), ("owner", ErrorCode.UNKNOWN_FIELD)),
    "period": (lambda d: d.update(period_type="fortnight"), ("period_type", ErrorCode.INVALID_VALUE)),
    "code": (lambda d: d.update(code="Bad Code"), ("code", ErrorCode.INVALID_VALUE)),
    "version": (lambda d: d.update(version=0), ("version", ErrorCode.INVALID_VALUE)),
    "share": (lambda d: d.update(min_assessable_share=0), ("min_assessable_share", ErrorCode.INVALID_VALUE)),
    "step": (
        lambda d: d["indicators"][0]["rule"].update(step=-1),
        ("indicators[0].rule.step", ErrorCode.INVALID_VALUE),
    ),
    "target": (
        lambda d: d["indicators"][1]["rule"].update(target="high"),
        ("indicators[1].rule.target", ErrorCode.WRONG_TYPE),
    ),
    "servqual": (
        lambda d: d["indicators"][1].update(servqual="beauty"),
        ("indicators[1].servqual", ErrorCode.INVALID_VALUE),
    ),
    "level_label": (
        lambda d: d["indicators"][2]["rule"]["levels"][1].update(label=""),
        ("indicators[2].rule.levels[1].label", ErrorCode.INVALID_VALUE),
    ),
    "veto_metric": (
        lambda d: d["indicators"][3].update(metric="no_such_metric"),
        ("indicators[3].metric", ErrorCode.UNKNOWN_METRIC),
    ),
    "name": (lambda d: d["indicators"][3].pop("name"), ("indicators[3].name", ErrorCode.MISSING)),
}


@settings(max_examples=60)
@given(chosen=st.sets(st.sampled_from(sorted(MUTATIONS)), min_size=1))
def test_validation_reports_every_independent_mistake(chosen):
    doc = minimal()
    for name in chosen:
        MUTATIONS[name][0](doc)
    found = codes(validate(doc))
    expected = {MUTATIONS[name][1] for name in chosen}
    assert expected <= found
    assert len(found) == len(expected)


# --- numbers, YAML and the hash -------------------------------------------------------------------


def test_numbers_are_exact_decimals_whatever_their_form():
    doc = minimal()
    doc["indicators"][0]["rule"]["points_per_step"] = 0.1
    doc["indicators"][0]["rule"]["target"] = "97.50"
    doc["indicators"][1]["weight"] = D("35.0")
    scheme = parse_scheme(doc)
    rule = scheme.indicator("satisfaction").rule
    assert isinstance(rule, TargetLinear)
    assert rule.points_per_step == D("0.1")
    assert str(rule.target) == "97.5"
    assert str(scheme.indicator("on_time").weight) == "35"


def test_booleans_are_not_numbers():
    doc = minimal()
    doc["indicators"][0]["weight"] = True
    assert ("indicators[0].weight", ErrorCode.WRONG_TYPE) in codes(validate(doc))


def test_yaml_reads_decimals_exactly_and_round_trips():
    text = dump_yaml(minimal()).replace("points_per_step: 2", "points_per_step: 0.123456789012345678901")
    scheme = read_scheme(text)
    rule = scheme.indicator("satisfaction").rule
    assert isinstance(rule, TargetLinear)
    assert rule.points_per_step == D("0.123456789012345678901")
    canonical = dump_yaml(scheme)
    assert read_scheme(canonical) == scheme
    assert dump_yaml(read_scheme(canonical)) == canonical


def test_yaml_errors_are_refused():
    with pytest.raises(InvalidSchemeError) as refused:
        load_yaml("code: [unclosed")
    assert refused.value.errors[0].code is ErrorCode.SYNTAX
    with pytest.raises(InvalidSchemeError):
        load_yaml("- just\n- a list\n")


def test_json_storage_round_trip():
    for scheme in default_schemes().values():
        assert parse_scheme(to_json_dict(scheme)) == scheme


def test_content_hash_ignores_form_and_version_but_not_content():
    scheme = parse_scheme(minimal())
    reordered = dict(reversed(list(minimal().items())))
    reordered["indicators"][0]["weight"] = 45.0
    reordered["grades"] = {"excellent": 90, "good": 80, "pass": 70}
    assert content_hash(reordered) == content_hash(scheme)
    bumped = minimal() | {"version": 7}
    assert content_hash(bumped) == content_hash(scheme)
    changed = minimal()
    changed["indicators"][0]["rule"]["target"] = 97
    assert content_hash(changed) != content_hash(scheme)
    assert len(content_hash(scheme)) == 64


def test_default_hashes_differ():
    hashes = {content_hash(scheme) for scheme in default_schemes().values()}
    assert len(hashes) == len(DEFAULT_FILES)


def test_parsed_rules_have_the_right_kinds():
    window = default_schemes()["window"]
    kinds = {type(indicator.rule) for indicator in window.indicators}
    assert kinds == {TargetLinear, Bands, PerOccurrence, Anchored, Veto, Bonus}


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (D(100), Grade.EXCELLENT),
        (D(90), Grade.EXCELLENT),
        (D("89.99"), Grade.GOOD),
        (D(80), Grade.GOOD),
        (D("79.99"), Grade.PASS),
        (D(70), Grade.PASS),
        (D("69.99"), Grade.FAIL),
        (D(0), Grade.FAIL),
    ],
)
def test_r17_grade_boundaries(total, grade):
    assert GradeThresholds().grade(total) is grade
    assert grade.label in {"优秀", "良好", "合格", "不合格"}
