"""Demo data for the assessment: the manual indicators the default schemes use, a month's values for
every window, department, handling unit and hotline call taker or monitor with their evidence, and the
published assessment of every complete month in the demo's span under the window, department and
hotline schemes.

Idempotent: codes are defined once, a month's values are entered once per unit, and a month already
assessed under a scheme is not assessed again."""

from __future__ import annotations

import datetime as dt
import random
import zlib

from django.contrib.auth.models import AbstractBaseUser

from kaoping.assessment.assess import Subject, scheme_by_code, subjects_for
from kaoping.assessment.metrics import MANUAL_PREFIX
from kaoping.assessment.models import Assessment, ManualCode, ManualEntry
from kaoping.assessment.services import (
    assessment_publish,
    assessment_run,
    manual_code_define,
    manual_entry_submit,
)

# code → (name, low, high, levels (best first), unit label): every manual metric of the default schemes.
MANUAL_CODES: dict[str, tuple[str, float | None, float | None, list[str] | None, str]] = {
    "innovation_level": ("服务创新等级", None, None, ["5", "3", "1"], ""),
    "training_pass_rate": ("服务技能考核合格率", 0, 100, None, "%"),
    "training_hours": ("人均服务培训时长", 0, 500, None, "小时"),
    "major_incident": ("重大服务事故", 0, 100, None, "起"),
    "broken_promise": ("失信违诺事件", 0, 100, None, "起"),
    "commendations": ("群众表扬", 0, 1000, None, "次"),
    "resolution_satisfaction": ("诉求解决满意度", 0, 100, None, "%"),
    "it_fault_fix_hours": ("系统故障平均修复时长", 0, 720, None, "小时"),
    "salary_accuracy": ("薪酬发放准确率", 0, 100, None, "%"),
    "it_training_satisfaction": ("信息化培训满意度", 0, 100, None, "%"),
    "onboarding_satisfaction": ("入职服务满意度", 0, 100, None, "%"),
    "request_response_rate": ("内部需求响应率", 0, 100, None, "%"),
    "process_compliance_rate": ("流程合规率", 0, 100, None, "%"),
    "contract_review_accuracy": ("合同审核准确率", 0, 100, None, "%"),
    "legal_risk_warning_rate": ("法律风险预警率", 0, 100, None, "%"),
    "budget_deviation": ("预算执行偏差率", 0, 100, None, "%"),
    "finance_consult_satisfaction": ("财务咨询满意度", 0, 100, None, "%"),
    # The hotline's (R3.3, R3.5): counts of occurrences in the month.
    "discipline_violations": ("违反劳动纪律", 0, 100, None, "次"),
    "appearance_violations": ("仪容仪表不合规", 0, 100, None, "次"),
    "hygiene_violations": ("环境卫生不合格", 0, 100, None, "次"),
    "safety_violations": ("安全隐患或违规", 0, 100, None, "次"),
    "handover_violations": ("工作交接不到位", 0, 100, None, "次"),
    "data_leak": ("泄露群众个人信息", 0, 100, None, "起"),
    "meeting_absences": ("未按要求参会或组织培训", 0, 100, None, "次"),
    "archive_deficiencies": ("档案整理不合格", 0, 100, None, "次"),
    "publicity_shortfalls": ("宣传工作未完成", 0, 100, None, "次"),
}
VIOLATIONS = frozenset(
    code
    for code in MANUAL_CODES
    if code.endswith(("_violations", "_absences", "_deficiencies", "_shortfalls"))
)

# How good a unit's month is, 0 (poor) … 1 (exemplary), by unit code; others 0.6. The demo's model
# window W-01 and its struggling W-03 (see sim.demo.WINDOW_SLIPPAGE) are scored alike by hand.
QUALITY = {
    "W-01": 0.95,
    "W-02": 0.75,
    "W-03": 0.2,
    "W-04": 0.55,
    "W-LJ-01": 0.8,
    "D-ZH": 0.85,
    "D-XX": 0.4,
    "HU-CG": 0.3,  # the demo's slow handling unit (sim.hotline_runner.BEHAVIOUR)
    "HU-RS": 0.95,
    "HT-04": 0.3,  # the careless call taker (sim.hotline_runner.ERROR_RATE)
}

SCHEMES = (
    "window",
    "department_external",
    "department_internal",
    "department_support",
    "hotline_unit",
    "hotline_staff",
)


def _value(code: str, quality: float, rng: random.Random) -> tuple[float | None, str]:
    """A plausible value of one manual indicator for a unit of the given quality: (value, level)."""
    q = min(1.0, max(0.0, quality + rng.uniform(-0.1, 0.1)))
    if code == "innovation_level":
        return None, "5" if q > 0.8 else "3" if q > 0.4 else "1"
    if code in ("major_incident", "broken_promise", "data_leak"):
        return 0.0, ""
    if code in VIOLATIONS:  # a few slips in a poor month, mostly none in a good one
        return float(max(0, round(rng.gauss(3 * (1 - q) - 0.5, 0.8)))), ""
    if code == "commendations":
        return float(round(q * 6)), ""
    if code == "training_hours":
        return round(1 + 2 * q, 1), ""
    if code == "it_fault_fix_hours":
        return round(4.5 - 3 * q, 1), ""
    if code == "budget_deviation":
        return round(9 - 7 * q, 1), ""
    return round(80 + 20 * q, 1), ""  # rates and satisfaction in percent


def _evidence(code: str, subject: Subject, month: str) -> str:
    name = MANUAL_CODES[code][0]
    return f"{subject.name}{month}{name}：据科室台账与抽查记录填报（演示数据）"


def complete_months(first: dt.date, last: dt.date) -> list[str]:
    """The calendar months lying wholly within first … last, as '2026-09'."""
    months: list[str] = []
    month = dt.date(first.year, first.month, 1)
    if month < first:
        month = (month + dt.timedelta(days=32)).replace(day=1)
    while True:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        if following - dt.timedelta(days=1) > last:
            return months
        months.append(f"{month:%Y-%m}")
        month = following


def load_demo_assessment(*, actor: AbstractBaseUser, months: list[str], seed: int = 1) -> list[Assessment]:
    """Manual codes, each unit's values for the months, and the published assessments."""
    for code, (name, low, high, levels, label) in MANUAL_CODES.items():
        if not ManualCode.objects.filter(code=code).exists():
            manual_code_define(
                actor=actor, code=code, name=name, low=low, high=high, levels=levels, unit_label=label
            )
    runs = []
    for month in months:
        start = dt.date.fromisoformat(f"{month}-01")
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        for code in SCHEMES:
            scheme = scheme_by_code(code)
            manual = sorted(
                {
                    i.metric.removeprefix(MANUAL_PREFIX)
                    for i in scheme.indicators
                    if i.metric.startswith(MANUAL_PREFIX)
                }
            )
            for subject in subjects_for(scheme):
                if ManualEntry.objects.filter(
                    unit=subject.unit, staff=subject.staff, code__in=manual, period_start=start
                ).exists():
                    continue
                rng = random.Random(seed * 1_000_003 + zlib.crc32(f"{subject.code}{month}".encode()))
                for name in manual:
                    value, level = _value(name, QUALITY.get(subject.code, 0.6), rng)
                    manual_entry_submit(
                        actor=actor,
                        unit=subject.unit,
                        staff=subject.staff,
                        code=name,
                        period_start=start,
                        period_end=end,
                        value=value,
                        level=level,
                        evidence=_evidence(name, subject, month),
                    )
            if Assessment.objects.filter(scheme__code=code, period=month).exists():
                continue
            run = assessment_run(actor=actor, scheme_code=code, period=month, reason="演示：月度考核")
            runs.append(assessment_publish(actor=actor, assessment=run))
    return runs
