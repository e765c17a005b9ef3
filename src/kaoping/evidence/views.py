from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kaoping.evidence.api import may_verify
from kaoping.evidence.models import EvidenceEntry
from kaoping.evidence.verify import verify_chain


@login_required
def verify_view(request: HttpRequest) -> HttpResponse:
    if not may_verify(request.user):
        raise PermissionDenied("auditors only")
    report = verify_chain()
    latest = EvidenceEntry.objects.order_by("-seq")[:20]
    return render(request, "evidence/verify.html", {"report": report, "latest": latest})
