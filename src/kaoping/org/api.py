from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from kaoping.org import selectors

router = Router(tags=["org"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    region_code: str
    department_kind: str
    depth: int
    active: bool


@router.get("/units", response=list[UnitOut], summary="Units in your scope")
def list_units(request: HttpRequest, kind: str | None = None, parent: int | None = None) -> list[UnitOut]:
    return [UnitOut.from_orm(u) for u in selectors.unit_list(user=request.user, kind=kind, parent=parent)]


@router.get("/units/{unit_id}", response=UnitOut, summary="One unit in your scope")
def get_unit(request: HttpRequest, unit_id: int) -> UnitOut:
    return UnitOut.from_orm(selectors.unit_get(user=request.user, unit_id=unit_id))
