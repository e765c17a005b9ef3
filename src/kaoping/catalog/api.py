from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from kaoping.catalog import selectors
from kaoping.catalog.models import Matter

router = Router(tags=["catalog"])


class MatterOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    owner_id: int
    handling_limit: str
    channels: list[str]

    @staticmethod
    def of(matter: Matter) -> MatterOut:
        return MatterOut(
            id=matter.pk,
            code=matter.code,
            name=matter.name,
            kind=matter.kind,
            owner_id=matter.owner_id,
            handling_limit=str(matter.handling_limit),
            channels=list(matter.channels),
        )


@router.get("/matters", response=list[MatterOut], summary="Matters owned by units in your scope")
def list_matters(request: HttpRequest, owner: int | None = None, kind: str | None = None) -> list[MatterOut]:
    return [MatterOut.of(m) for m in selectors.matter_list(user=request.user, owner_id=owner, kind=kind)]
