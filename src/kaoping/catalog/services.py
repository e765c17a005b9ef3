from __future__ import annotations

from django.db import transaction

from kaoping.catalog.models import MAX_NODES_PER_MATTER, Channel, Matter, MatterKind, MatterNode
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access
from kaoping.evidence.services import evidence_record
from kaoping.org.models import Unit
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.limits import Limit, LimitUnit


def matter_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str,
    owner: Unit,
    channels: list[str],
    limit: str | None = None,
) -> Matter:
    """Add a matter; ``limit`` ("5 wd", "2 wh" …) overrides the kind's default."""
    require_unit_access(actor, owner, what="matter")
    if kind not in MatterKind.values:
        raise KaopingError(
            ErrorCode.INVALID,
            what="matter",
            where=code,
            why=f"kind {kind!r} is not one of {', '.join(MatterKind.values)}",
        )
    unknown = [c for c in channels if c not in Channel.values]
    if unknown or not channels:
        raise KaopingError(
            ErrorCode.INVALID,
            what="matter",
            where=code,
            why=f"channels must be some of {', '.join(Channel.values)} (got {channels})",
        )
    parsed: Limit | None = None
    if limit:
        try:
            parsed = Limit.parse(limit)
        except CalendarError as exc:
            raise KaopingError(ErrorCode.INVALID, what="matter", where=code, why=str(exc)) from None
        if parsed.unit == LimitUnit.NATURAL_HOURS:
            raise KaopingError(
                ErrorCode.INVALID,
                what="matter",
                where=code,
                why="a handling limit is counted in working time (wmin, wh or wd)",
            )
    with transaction.atomic():
        if Matter.objects.filter(code=code).exists():
            raise KaopingError(ErrorCode.INVALID, what="matter", where=code, why="this code is already taken")
        matter = Matter.objects.create(
            code=code,
            name=name,
            kind=kind,
            owner=owner,
            channels=list(channels),
            limit_amount=parsed.amount if parsed else None,
            limit_unit=parsed.unit.value if parsed else "",
        )
        evidence_record(actor=actor, action="catalog.matter_create", instance=matter)
    return matter


def matter_node_add(
    *, actor: User, matter: Matter, code: str, name: str, position: int = 0, limit: str | None = None
) -> MatterNode:
    """Configure one of the matter's own nodes (R0.7: at most 42 per matter)."""
    require_unit_access(actor, matter.owner, what="matter node")
    parsed: Limit | None = None
    if limit:
        try:
            parsed = Limit.parse(limit)
        except CalendarError as exc:
            raise KaopingError(
                ErrorCode.INVALID, what="matter node", where=f"{matter.code}/{code}", why=str(exc)
            ) from None
    with transaction.atomic():
        if matter.nodes.count() >= MAX_NODES_PER_MATTER:
            raise KaopingError(
                ErrorCode.INVALID,
                what="matter node",
                where=f"{matter.code}/{code}",
                why=f"a matter has at most {MAX_NODES_PER_MATTER} nodes",
            )
        if matter.nodes.filter(code=code).exists():
            raise KaopingError(
                ErrorCode.INVALID,
                what="matter node",
                where=f"{matter.code}/{code}",
                why="this node code is already used by the matter",
            )
        node = MatterNode.objects.create(
            matter=matter,
            code=code,
            name=name,
            position=position,
            limit_amount=parsed.amount if parsed else None,
            limit_unit=parsed.unit.value if parsed else "",
        )
        evidence_record(actor=actor, action="catalog.matter_node_add", instance=node)
    return node
