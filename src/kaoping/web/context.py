"""Role-aware navigation for the base layout."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.core.permissions import user_roles
from kaoping.evidence.api import may_verify
from kaoping.hotline.views import may_see_hotline


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {"nav": []}
    items = [
        (_("首页"), reverse("home")),
        (_("办件"), reverse("cases:list")),
        (_("预警"), reverse("cases:warnings")),
        (_("今日概况"), reverse("cases:day")),
        (_("好差评"), reverse("ratings:figures")),
        (_("差评整改"), reverse("followup:list")),
        (_("多维测评"), reverse("reviews:campaign_list")),
        (_("考核"), reverse("assessment:list")),
        (_("目标与任务"), reverse("targets:table_list")),
        (_("单位"), reverse("org:unit_list")),
        (_("工作日历"), reverse("workcal:month")),
    ]
    if may_see_hotline(user):
        items.append((_("热线工单"), reverse("hotline:home")))
    if may_verify(user):
        items.append((_("存证核验"), reverse("evidence:verify")))
    if getattr(user, "is_staff", False):
        items.append((_("管理后台"), reverse("admin:index")))
    path = request.path
    # The active item is the one whose address is the longest prefix of this page's.
    matches = [url for _label, url in items if path == url or (url != "/" and path.startswith(url))]
    active = max(matches, key=len) if matches else None
    nav = [NavItem(label, url, url == active) for label, url in items]
    return {"nav": nav, "user_roles": sorted(user_roles(user))}
