"""Pages of multi-rater reviews: campaigns and results for officials, the questionnaire for raters.

The questionnaire is public (reached by a one-time token, no login), works without JavaScript and is
laid out for a phone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kaoping.core.errors import KaopingError
from kaoping.reviews import selectors, services
from kaoping.reviews.models import GROUP_CHOICES, CampaignStatus, RecheckOutcome, ReviewCampaign
from kaoping.reviews.scoring import MAX_LEVEL, MIN_LEVEL
from kaoping.reviews.services import InvitationError, TokenProblem

TOKEN_MESSAGES = {
    TokenProblem.UNKNOWN: (
        gettext_lazy("链接无效"),
        gettext_lazy("没有找到这份问卷邀请，请核对链接是否完整，或联系发放问卷的工作人员。"),
    ),
    TokenProblem.USED: (
        gettext_lazy("问卷已提交"),
        gettext_lazy("这个链接已经提交过问卷，每个链接只能使用一次。感谢您的参与！"),
    ),
    TokenProblem.NOT_OPEN: (
        gettext_lazy("测评未开放"),
        gettext_lazy("本次测评尚未开始或已经结束，目前不能填写。"),
    ),
}
TOKEN_STATUS = {TokenProblem.UNKNOWN: 404, TokenProblem.USED: 410, TokenProblem.NOT_OPEN: 403}


def _campaign(request: HttpRequest, campaign_id: int) -> ReviewCampaign:
    try:
        return selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    except KaopingError:
        raise Http404("no such campaign in your scope") from None


@login_required
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.campaign_list(user=request.user)
    return render(request, "reviews/campaign_list.html", {"campaigns": campaigns})


@login_required
def campaign_detail_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    results = selectors.campaign_results(user=request.user, campaign=campaign)
    return render(
        request,
        "reviews/campaign_detail.html",
        {
            "campaign": campaign,
            "results": results,
            "groups": GROUP_CHOICES,
            "units": campaign.units.order_by("path"),
            "items": campaign.questionnaire.items.all(),
            "open": campaign.status == CampaignStatus.OPEN,
            "draft": campaign.status == CampaignStatus.DRAFT,
        },
    )


def _action(request: HttpRequest, campaign: ReviewCampaign, action: str) -> None:
    try:
        if action == "open":
            services.campaign_open(actor=request.user, campaign=campaign)
            messages.success(request, _("测评已开始，可以发放邀请链接。"))
        else:
            services.campaign_close(actor=request.user, campaign=campaign)
            messages.success(request, _("测评已结束，结果已定稿。"))
    except KaopingError as exc:
        messages.error(request, exc.message)


@login_required
@require_POST
def campaign_open_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    _action(request, _campaign(request, campaign_id), "open")
    return redirect("reviews:detail", campaign_id)


@login_required
@require_POST
def campaign_close_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    _action(request, _campaign(request, campaign_id), "close")
    return redirect("reviews:detail", campaign_id)


@login_required
@require_POST
@never_cache
def invitations_issue_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Issue invitations and show their links this once (they are not stored)."""
    campaign = _campaign(request, campaign_id)
    unit = campaign.units.filter(pk=_int(request.POST.get("unit"))).first()
    group = request.POST.get("group", "")
    try:
        if unit is None:
            raise Http404("no such unit in this campaign")
        tokens = services.invitations_issue(
            actor=request.user,
            campaign=campaign,
            unit=unit,
            group=group,
            count=_int(request.POST.get("count")),
        )
    except KaopingError as exc:
        messages.error(request, exc.message)
        return redirect("reviews:detail", campaign_id)
    links = [request.build_absolute_uri(reverse("reviews:respond", args=[token])) for token in tokens]
    return render(
        request,
        "reviews/invitations.html",
        {"campaign": campaign, "unit": unit, "group": dict(GROUP_CHOICES)[group], "links": links},
    )


@login_required
@require_POST
def response_recheck_view(request: HttpRequest, campaign_id: int, response_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    try:
        response = selectors.response_get(user=request.user, campaign=campaign, response_id=response_id)
    except KaopingError:
        raise Http404("no such response") from None
    outcome = request.POST.get("outcome", "")
    try:
        services.response_recheck(
            actor=request.user, response=response, outcome=outcome, reason=request.POST.get("reason", "")
        )
    except KaopingError as exc:
        messages.error(request, exc.message)
    else:
        if outcome == RecheckOutcome.EXCLUDED:
            messages.success(request, _("已剔除该答卷，结果已重新计算。"))
        else:
            messages.success(request, _("已保留该答卷。"))
    return redirect("reviews:detail", campaign_id)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


# --- public ------------------------------------------------------------------------------------------


def _token_error(request: HttpRequest, problem: TokenProblem) -> HttpResponse:
    title, text = TOKEN_MESSAGES[problem]
    return render(
        request,
        "reviews/token_error.html",
        {"title": title, "text": text, "problem": problem.value},
        status=TOKEN_STATUS[problem],
    )


@never_cache
def respond_view(request: HttpRequest, token: str) -> HttpResponse:
    """The questionnaire of one invitation (GET) and its submission (POST); no login."""
    try:
        invitation = services.invitation_for_token(token)
    except InvitationError as exc:
        return _token_error(request, exc.problem)
    items = list(invitation.campaign.questionnaire.items.all())
    chosen: dict[int, int] = {}
    missing: set[int] = set()
    status = 200
    if request.method == "POST":
        for item in items:
            value = _int(request.POST.get(f"item_{item.pk}"))
            if MIN_LEVEL <= value <= MAX_LEVEL:
                chosen[item.pk] = value
            else:
                missing.add(item.pk)
        if not missing:
            try:
                services.response_submit(token=token, answers=chosen)
            except InvitationError as exc:
                return _token_error(request, exc.problem)
            except KaopingError:
                # The questionnaire changed under the rater's feet: show it again.
                missing = {item.pk for item in items}
            else:
                return redirect("reviews:thanks")
        status = 400
    return render(
        request,
        "reviews/respond.html",
        {
            "campaign": invitation.campaign,
            "unit": invitation.unit,
            "group": invitation.get_group_display(),
            "items": [(item, chosen.get(item.pk), item.pk in missing) for item in items],
            "missing": len(missing),
        },
        status=status,
    )


def thanks_view(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/thanks.html")
