"""Public rating pages (no login), reached by a window's QR poster or a case's one-time link.

Phone-sized, no JavaScript needed. Abuse is held off without a CAPTCHA: a device cookie and the
client address are rate-limited (counted from the stored ratings themselves, so every worker agrees),
case links are signed and usable once, and a cross-site form post is refused by its Origin header.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kaoping.cases.models import Case
from kaoping.core import clock
from kaoping.core.errors import KaopingError
from kaoping.org.models import Unit, UnitKind
from kaoping.ratings.codes import LEVEL_LABELS, TAGS, Channel, Convention
from kaoping.ratings.models import PUBLIC_SOURCE, Rating
from kaoping.ratings.services import rating_submit

DEVICE_COOKIE = "kp_dev"
LINK_SALT = "kaoping.ratings.link"


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        choices=[(int(level), label) for level, label in LEVEL_LABELS.items()],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评价等级", "invalid_choice": "请选择评价等级"},
    )
    tags = forms.MultipleChoiceField(
        choices=[(t, t) for t in TAGS], required=False, widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
        error_messages={"max_length": "评价内容不能超过500字"},
    )
    phone = forms.RegexField(
        regex=r"^1[3-9]\d{9}$",
        required=False,
        error_messages={"invalid": "请填写11位手机号码，或留空匿名评价"},
    )


def client_address(request: HttpRequest) -> str:
    """The citizen's address: the peer, or behind a trusted proxy the last address it was given."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(settings.KAOPING_TRUSTED_PROXIES)
    if peer in trusted:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        for address in reversed(forwarded):
            if address not in trusted:
                peer = address
                break
    try:
        return str(ipaddress.ip_address(peer))
    except ValueError:
        return ""


def _device(request: HttpRequest) -> tuple[str, bool]:
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value, False
    return secrets.token_hex(16), True


def _with_device(response: HttpResponse, device: str, new: bool) -> HttpResponse:
    if new:
        response.set_cookie(DEVICE_COOKIE, device, max_age=3600 * 24 * 365, httponly=True, samesite="Lax")
    return response


def _cross_site(request: HttpRequest) -> bool:
    """A browser sends Origin with every cross-site POST: refuse posts made from other sites' pages."""
    origin = str(request.META.get("HTTP_ORIGIN") or "")
    if not origin:
        return False  # not a browser's cross-site post (or a very old browser)
    if origin == "null":
        return True
    return origin.split("://", 1)[-1] != request.get_host()


def _rate_limited(device: str, address: str, now: dt.datetime) -> bool:
    recent = Rating.objects.filter(source=PUBLIC_SOURCE)
    by_device = recent.filter(device=device, rated_at__gte=now - dt.timedelta(hours=1))
    if by_device.count() >= int(settings.KAOPING_RATE_LIMIT_DEVICE_HOUR):
        return True
    if not address:
        return False
    by_address = recent.filter(ip=address, rated_at__gte=now - dt.timedelta(minutes=10))
    return by_address.count() >= int(settings.KAOPING_RATE_LIMIT_ADDRESS_10MIN)


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, f"ratings/public/{template}", context, status=status)


def _submit(
    request: HttpRequest, form: RatingForm, *, unit: Unit, record: dict[str, Any], device: str
) -> HttpResponse | None:
    """Store the rating, or return the page that says why not (None: stored)."""
    now = clock.now()
    address = client_address(request)
    if _rate_limited(device, address, now):
        return _page(request, "message.html", {"title": "评价过于频繁", "text": "请稍后再试。"}, status=429)
    data = form.cleaned_data
    record.update(
        {
            "source": PUBLIC_SOURCE,
            "level": data["level"],
            "tags": data["tags"],
            "text": data["text"],
            "rater_kind": "person",
            "real_name": bool(data["phone"]),
            "rater_phone": data["phone"] or None,
            "rated_at": now.isoformat(),
            "device": device,
            "ip": address or None,
        }
    )
    try:
        rating_submit(record=record, unit=unit, convention=Convention.PROVINCIAL, now=now)
    except KaopingError as exc:
        if exc.where in ("link", "case"):
            return _page(
                request,
                "message.html",
                {"title": "已评价", "text": "这项服务已经评价过了，感谢您的参与。"},
                409,
            )
        form.add_error(None, exc.message)
        return _page(request, "rate.html", {"form": form, "unit": unit}, status=400)
    return None


@csrf_exempt  # no session or login is involved; the Origin check and rate limits guard the post
@require_http_methods(["GET", "POST"])
def window_rate_view(request: HttpRequest, code: str) -> HttpResponse:
    """The page a window's QR poster opens: rate the window's service."""
    unit = Unit.objects.filter(code=code, kind=UnitKind.WINDOW, active=True).first()
    if unit is None:
        return _page(request, "message.html", {"title": "未找到该窗口", "text": "请核对二维码。"}, status=404)
    device, new = _device(request)
    if request.method == "POST":
        if _cross_site(request):
            return _page(
                request, "message.html", {"title": "请求无效", "text": "请在本页面提交评价。"}, status=403
            )
        form = RatingForm(request.POST)
        if form.is_valid():
            record = {"id": uuid.uuid4().hex, "unit": unit.code, "channel": Channel.QR_CODE.value}
            failed = _submit(request, form, unit=unit, record=record, device=device)
            if failed is not None:
                return _with_device(failed, device, new)
            return _with_device(redirect("rate:thanks"), device, new)
        return _with_device(
            _page(request, "rate.html", {"form": form, "unit": unit}, status=400), device, new
        )
    return _with_device(_page(request, "rate.html", {"form": RatingForm(), "unit": unit}), device, new)


def rating_link(case: Case, *, channel: Channel = Channel.MOBILE) -> str:
    """A signed one-time link path for rating this case (sent by SMS or printed on the receipt)."""
    token = signing.dumps(
        {"c": case.pk, "ch": channel.value, "n": uuid.uuid4().hex}, salt=LINK_SALT, compress=True
    )
    return f"/r/c/{token}/"


@csrf_exempt  # as above: the signed one-time token is the credential
@require_http_methods(["GET", "POST"])
def case_rate_view(request: HttpRequest, token: str) -> HttpResponse:
    max_age = dt.timedelta(days=settings.KAOPING_RATING_LINK_DAYS)
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=max_age)
        case = Case.objects.select_related("unit", "matter").get(pk=int(payload["c"]))
        channel = Channel(payload["ch"])
        nonce = str(payload["n"])
    except signing.SignatureExpired:
        return _page(
            request, "message.html", {"title": "链接已过期", "text": "评价链接已超过有效期。"}, status=410
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, Case.DoesNotExist):
        return _page(
            request,
            "message.html",
            {"title": "链接无效", "text": "请使用短信或回执中的完整链接。"},
            status=400,
        )
    if Rating.objects.filter(source=PUBLIC_SOURCE, external_id=f"link:{nonce}").exists():
        return _page(
            request, "message.html", {"title": "已评价", "text": "这项服务已经评价过了，感谢您的参与。"}, 409
        )
    device, new = _device(request)
    context: dict[str, Any] = {"unit": case.unit, "case": case}
    if request.method == "POST":
        if _cross_site(request):
            return _page(
                request, "message.html", {"title": "请求无效", "text": "请在本页面提交评价。"}, status=403
            )
        form = RatingForm(request.POST)
        if form.is_valid():
            record = {
                "id": f"link:{nonce}",
                "case": case.external_id,
                "case_source": case.source,
                "channel": channel.value,
            }
            failed = _submit(request, form, unit=case.unit, record=record, device=device)
            if failed is not None:
                return _with_device(failed, device, new)
            return _with_device(redirect("rate:thanks"), device, new)
        return _with_device(_page(request, "rate.html", {**context, "form": form}, status=400), device, new)
    return _with_device(_page(request, "rate.html", {**context, "form": RatingForm()}), device, new)


def thanks_view(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "message.html",
        {"title": "感谢您的评价", "text": "您的评价已提交，我们会认真改进。", "ok": True},
    )
