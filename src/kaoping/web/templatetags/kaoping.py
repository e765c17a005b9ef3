"""Small template helpers shared by the pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()

STATUS_LABELS = {
    "pending": "未开始",
    "on_time": "正常",
    "due_soon": "即将超时",
    "overdue": "超时",
    "paused": "暂停计时",
    "done_on_time": "按时完成",
    "done_late": "超时完成",
    "open": "在办",
    "closed": "办结",
    "due_soon_w": "即将超时",
    "breaker": "超时熔断",
}
CHANNEL_LABELS = {"window": "窗口办理", "online": "网上办理", "home_visit": "上门服务"}
PAUSE_LABELS = {"supplement": "补正", "expert_review": "专家评审", "hearing": "听证"}


@register.filter
def label(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def status_label(value: str) -> str:
    return _(STATUS_LABELS.get(value, value))


@register.filter
def channel_label(value: str) -> str:
    return _(CHANNEL_LABELS.get(value, value))


@register.filter
def pause_label(value: str) -> str:
    return _(PAUSE_LABELS.get(value, value))


EVENT_LABELS = {
    "appointment_made": "预约",
    "appointment_responded": "预约响应",
    "arrived": "到达窗口",
    "accepted": "受理",
    "handled": "办结",
    "delivered": "结果送达",
    "pause_started": "暂停计时",
    "pause_ended": "恢复计时",
    "extension_granted": "批准延期",
    "trip": "再次到场",
    "resubmission": "补正材料",
    "one_time_notice": "一次性告知",
    "node_started": "环节开始",
    "node_finished": "环节完成",
}


@register.filter
def event_label(value: str) -> str:
    return _(EVENT_LABELS.get(value, value))


@register.filter
def percent(value: float) -> str:
    return f"{value * 100:.0f}%"
