from __future__ import annotations

from django.db.models import QuerySet

from kaoping.catalog.models import Matter
from kaoping.core.permissions import User, unit_scope_q


def matter_list(*, user: User, owner_id: int | None = None, kind: str | None = None) -> QuerySet[Matter]:
    matters = Matter.objects.filter(unit_scope_q(user, field="owner")).select_related("owner")
    if owner_id is not None:
        matters = matters.filter(owner_id=owner_id)
    if kind:
        matters = matters.filter(kind=kind)
    return matters.order_by("code")
