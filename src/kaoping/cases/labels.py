"""Chinese labels of case statuses, pauses and events (message ids for the English catalogue)."""

from __future__ import annotations

from kaoping.catalog.models import TimedNode

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
    "late": "曾超时",
    "breaker": "超时熔断",
}
# The status filter of the case list, in the order it is offered.
STATUS_FILTERS = ("open", "closed", "on_time", "due_soon", "overdue", "late", "paused", "breaker")
PAUSE_LABELS = {"supplement": "补正", "expert_review": "专家评审", "hearing": "听证"}
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

# The four timed nodes of R0.4 by code.
NODE_LABELS = dict(TimedNode.choices)
