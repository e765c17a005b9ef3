from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import user_roles
from kaoping.evidence.verify import verify_chain
from kaoping.org.models import Role

router = Router(tags=["evidence"])


class VerifyOut(Schema):
    ok: bool
    entries: int
    objects: int
    first_bad: str | None
    problems: list[str]


def may_verify(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False)) or Role.AUDITOR in user_roles(user)  # type: ignore[arg-type]


@router.get("/verify", response=VerifyOut, summary="Walk the evidence chain (auditors)")
def verify(request: HttpRequest) -> VerifyOut:
    if not may_verify(request.user):
        raise KaopingError(ErrorCode.FORBIDDEN, what="evidence verification", why="auditors only")
    report = verify_chain()
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        objects=report.objects,
        first_bad=str(report.first_bad) if report.first_bad else None,
        problems=[str(p) for p in report.problems[:100]],
    )
