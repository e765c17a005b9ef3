"""Writes to the organisation: one transaction and one evidence entry each."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.models import User as User_
from django.db import IntegrityError, transaction

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access
from kaoping.evidence.services import evidence_record
from kaoping.org.models import ALLOWED_CHILDREN, DepartmentKind, Role, RoleAssignment, Staff, Unit, UnitKind

_REGION_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def _invalid(what: str, why: str, where: str | None = None) -> KaopingError:
    return KaopingError(ErrorCode.INVALID, what=what, where=where, why=why)


def _validate_unit(
    *, code: str, kind: str, parent: Unit | None, region_code: str, department_kind: str
) -> None:
    if not code.strip():
        raise _invalid("unit", "a code is required")
    if kind not in UnitKind.values:
        raise _invalid("unit", f"kind {kind!r} is not one of {', '.join(UnitKind.values)}", code)
    if parent is None and kind != UnitKind.REGION:
        raise _invalid("unit", "only an administrative region may stand at the top of the tree", code)
    if parent is not None and kind not in ALLOWED_CHILDREN[parent.kind]:
        raise _invalid(
            "unit",
            f"a {UnitKind(kind).label} cannot be placed under the "
            f"{UnitKind(parent.kind).label} {parent.name}",
            code,
        )
    if kind == UnitKind.REGION and not _REGION_CODE.match(region_code):
        raise _invalid("unit", f"region code {region_code!r} must have 6, 9 or 12 digits", code)
    if kind != UnitKind.REGION and region_code:
        raise _invalid("unit", "only administrative regions carry a region code", code)
    if kind == UnitKind.DEPARTMENT and department_kind not in DepartmentKind.values:
        raise _invalid("unit", f"a department needs a kind: {', '.join(DepartmentKind.values)}", code)
    if kind != UnitKind.DEPARTMENT and department_kind:
        raise _invalid("unit", "only departments have a department kind", code)


def unit_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    region_code: str = "",
    department_kind: str = "",
) -> Unit:
    if parent is not None:
        require_unit_access(actor, parent, what="parent unit")
    elif not getattr(actor, "is_superuser", False):
        raise KaopingError(
            ErrorCode.FORBIDDEN,
            what="unit",
            where=code,
            why="only an administrator may create a top-level region",
        )
    _validate_unit(
        code=code, kind=kind, parent=parent, region_code=region_code, department_kind=department_kind
    )
    with transaction.atomic():
        if Unit.objects.filter(code=code).exists():
            raise _invalid("unit", "this code is already taken", code)
        unit = Unit(
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            region_code=region_code,
            department_kind=department_kind,
        )
        unit.save()
        evidence_record(actor=actor, action="org.unit_create", instance=unit)
    return unit


def unit_update(
    *,
    actor: User,
    unit: Unit,
    name: str | None = None,
    active: bool | None = None,
    department_kind: str | None = None,
) -> Unit:
    require_unit_access(actor, unit)
    with transaction.atomic():
        if name is not None:
            if not name.strip():
                raise _invalid("unit", "the name cannot be empty", unit.code)
            unit.name = name.strip()
        if active is not None:
            unit.active = active
        if department_kind is not None:
            _validate_unit(
                code=unit.code,
                kind=unit.kind,
                parent=unit.parent,
                region_code=unit.region_code,
                department_kind=department_kind,
            )
            unit.department_kind = department_kind
        unit.save()
        evidence_record(actor=actor, action="org.unit_update", instance=unit)
    return unit


def role_grant(*, actor: User, user: AbstractBaseUser, role: str, unit: Unit) -> RoleAssignment:
    require_unit_access(actor, unit, what="role assignment")
    if role not in Role.values:
        raise _invalid("role", f"{role!r} is not one of {', '.join(Role.values)}", unit.code)
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
        if created:
            evidence_record(actor=actor, action="org.role_grant", instance=assignment)
    return assignment


def staff_create(
    *, actor: User, unit: Unit, name: str, employee_no: str, user: User_ | None = None, devices: str = ""
) -> Staff:
    require_unit_access(actor, unit, what="staff member")
    if not name.strip() or not employee_no.strip():
        raise _invalid("staff member", "a name and an employee number are required", unit.code)
    try:
        with transaction.atomic():
            staff = Staff.objects.create(
                unit=unit,
                name=name.strip(),
                employee_no=employee_no.strip(),
                user=user,
                devices=",".join(d.strip() for d in devices.split(",") if d.strip()),
            )
            evidence_record(actor=actor, action="org.staff_create", instance=staff)
    except IntegrityError:
        raise _invalid(
            "staff member", f"employee number {employee_no!r} is already taken", unit.code
        ) from None
    return staff
