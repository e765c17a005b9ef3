"""The names of the metrics an indicator scheme may use. Pure Python, no Django.

A scheme's indicator names a *metric*; the metrics layer computes its value for a unit and a period (or
an official enters it, for the ``manual:`` ones) and the engine applies the indicator's rule to it. Every
metric a scheme uses must be listed here (``KNOWN_METRICS``); ``schemes.validate`` refuses any other name.

Conventions for the values handed to the engine:

- ``%`` metrics are in percent, 0–100 (``96.5`` means 96.5 %), not fractions;
- ``count`` metrics are whole numbers of occurrences in the period (0 when nothing happened: a missing
  value means "no data", never zero);
- ``level`` metrics are level codes of a behaviourally anchored scale (R2.6), given as text;
- ``manual:<code>`` metrics are entered by officials with their evidence; the indicator may restrict the
  range an official may enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MANUAL_PREFIX = "manual:"


class MetricUnit(StrEnum):
    PERCENT = "%"
    COUNT = "count"
    MINUTES = "minutes"
    HOURS = "hours"
    TRIPS = "trips"
    CASES = "cases"
    SCORE = "score"
    LEVEL = "level"

    @property
    def suffix(self) -> str:
        """How a quantity in this unit is written in Chinese explanations (``96%``, ``25 分钟``)."""
        return UNIT_SUFFIXES[self]


UNIT_SUFFIXES: dict[MetricUnit, str] = {
    MetricUnit.PERCENT: "%",
    MetricUnit.COUNT: "次",
    MetricUnit.MINUTES: "分钟",
    MetricUnit.HOURS: "小时",
    MetricUnit.TRIPS: "次",
    MetricUnit.CASES: "件",
    MetricUnit.SCORE: "分",
    MetricUnit.LEVEL: "",
}


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    unit: MetricUnit
    higher_is_better: bool

    @property
    def manual(self) -> bool:
        return self.name.startswith(MANUAL_PREFIX)


def _m(name: str, label: str, unit: MetricUnit, higher_is_better: bool) -> MetricInfo:
    return MetricInfo(name=name, label=label, unit=unit, higher_is_better=higher_is_better)


P, N, MIN, H, LV = (
    MetricUnit.PERCENT,
    MetricUnit.COUNT,
    MetricUnit.MINUTES,
    MetricUnit.HOURS,
    MetricUnit.LEVEL,
)

_ALL: tuple[MetricInfo, ...] = (
    # Cases and their four timed nodes (R0.2, R0.4).
    _m("appointment_on_time_rate", "预约响应按时率", P, True),
    _m("acceptance_on_time_rate", "受理按时率", P, True),
    _m("handling_on_time_rate", "按时办结率", P, True),
    _m("delivery_on_time_rate", "结果送达按时率", P, True),
    _m("mean_wait_minutes", "平均等候时长", MIN, False),
    _m("p90_wait_minutes", "90% 群众等候时长", MIN, False),
    _m("overrun_count", "超时件数", N, False),
    _m("breaker_count", "超时熔断次数", N, False),
    _m("one_time_notice_rate", "一次性告知率", P, True),
    _m("trips_per_case", "群众跑动次数", MetricUnit.TRIPS, False),
    _m("resubmission_rate", "材料补正率", P, False),
    _m("immediate_share", "即办件占比", P, True),
    _m("cases_per_staff_day", "人均日办件量", MetricUnit.CASES, True),
    # Ratings (好差评) and their follow-up.
    _m("satisfaction_rate", "满意率", P, True),
    _m("good_rating_rate", "好评率", P, True),
    _m("bad_rating_rate", "差评率", P, False),
    _m("bad_rating_revisit_rate", "差评回访率", P, True),
    _m("rectification_rate", "整改率", P, True),
    _m("rectification_satisfaction_rate", "整改满意率", P, True),
    _m("complaint_count", "有效投诉件数", N, False),
    _m("complaint_handling_on_time_rate", "投诉处理及时率", P, True),
    _m("multi_rater_score", "多维评价得分", MetricUnit.SCORE, True),
    _m("inspection_error_rate", "抽查差错率", P, False),
    # Hotline (R3.1, R3.3, R3.4; GB/T 33358-2016).
    _m("call_answer_rate", "电话接通率", P, True),
    _m("answer_within_15s_rate", "15 秒接听率", P, True),
    _m("calls_handled", "接线量", N, True),
    _m("ticket_on_time_closure_rate", "工单按时办结率", P, True),
    _m("ticket_overdue_count", "超时未办结工单数", N, False),
    _m("ticket_extended_count", "延期办结工单数", N, False),
    _m("ticket_reopen_count", "退回重办工单数", N, False),
    _m("ticket_urge_rate", "督办率", P, False),
    _m("ticket_satisfaction_rate", "工单满意率", P, True),
    # The unit's first revisit agreeing with the centre's (R3.4; hotline_metrics says why).
    _m("first_revisit_rate", "承办单位初次回访一致率", P, True),
    _m("record_error_count", "受理信息差错数", N, False),
    _m("missed_urge_revisit_count", "督办回访未按要求次数", N, False),
    _m("staff_complaint_count", "群众有效投诉次数", N, False),
    _m("missed_error_check_count", "差错漏查次数", N, False),
    _m("reply_quality_error_count", "回复信息差错数", N, False),
    # Entered by officials, with evidence.
    _m("manual:it_fault_fix_hours", "系统故障修复时长", H, False),
    _m("manual:it_training_satisfaction", "员工 IT 培训满意度", P, True),
    _m("manual:salary_accuracy", "薪酬发放准确率", P, True),
    _m("manual:onboarding_satisfaction", "员工入职引导满意度", P, True),
    _m("manual:request_response_rate", "需求响应及时率", P, True),
    _m("manual:process_compliance_rate", "流程合规率", P, True),
    _m("manual:resolution_satisfaction", "问题解决满意度", P, True),
    _m("manual:contract_review_accuracy", "合同审核准确率", P, True),
    _m("manual:legal_risk_warning_rate", "法律风险预警及时率", P, True),
    _m("manual:budget_deviation", "预算编制偏差率", P, False),
    _m("manual:finance_consult_satisfaction", "财务咨询服务满意度", P, True),
    _m("manual:training_hours", "人均服务培训时长", H, True),
    _m("manual:training_pass_rate", "服务技能考核合格率", P, True),
    _m("manual:innovation_level", "服务创新等级", LV, True),
    _m("manual:major_incident", "重大服务事故", N, False),
    _m("manual:broken_promise", "违反服务承诺", N, False),
    _m("manual:data_leak", "泄露群众个人信息", N, False),
    _m("manual:commendations", "群众表扬（锦旗、表扬信）", N, True),
    _m("manual:discipline_violations", "违反劳动纪律", N, False),
    _m("manual:appearance_violations", "仪容仪表不合规", N, False),
    _m("manual:hygiene_violations", "环境卫生不合格", N, False),
    _m("manual:safety_violations", "安全隐患或违规", N, False),
    _m("manual:handover_violations", "工作交接不到位", N, False),
    _m("manual:meeting_absences", "未按要求参会或组织培训", N, False),
    _m("manual:archive_deficiencies", "档案整理不合格", N, False),
    _m("manual:publicity_shortfalls", "宣传工作未完成", N, False),
)

KNOWN_METRICS: dict[str, MetricInfo] = {info.name: info for info in _ALL}
KNOWN_METRIC_NAMES: frozenset[str] = frozenset(KNOWN_METRICS)


def is_manual(name: str) -> bool:
    return name.startswith(MANUAL_PREFIX)


def metric_label(name: str) -> str:
    info = KNOWN_METRICS.get(name)
    return info.label if info else name
