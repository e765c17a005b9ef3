"""Access scoped by role and unit: a role held at a unit covers that unit and its whole subtree.

Every selector that reads unit-bound data filters with ``unit_scope_q``; every service that writes
checks ``require_unit_access``. Superusers see everything."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.org.models import PERSONAL_DATA_ROLES, WRITE_ROLES, Role, RoleAssignment, Unit

User = AbstractBaseUser | AnonymousUser


def _is_superuser(user: User) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def scope_paths(user: User, *, write: bool = False, roles: Iterable[Role] | None = None) -> list[str]:
    """Paths of the subtrees the user covers (for writing: only through a writing role)."""
    if not user.is_authenticated:
        return []
    cache_attr = "_kaoping_role_paths"
    assignments: list[tuple[str, str]] | None = getattr(user, cache_attr, None)
    if assignments is None:
        assignments = list(RoleAssignment.objects.filter(user_id=user.pk).values_list("role", "unit__path"))
        setattr(user, cache_attr, assignments)
    wanted = set(roles) if roles is not None else None
    return sorted(
        {
            path
            for role, path in assignments
            if (not write or role in WRITE_ROLES) and (wanted is None or role in wanted)
        }
    )


def user_roles(user: User) -> set[str]:
    scope_paths(user)
    return {role for role, _ in getattr(user, "_kaoping_role_paths", [])}


def unit_scope_q(user: User, *, field: str = "", write: bool = False) -> Q:
    """A filter on a unit foreign key (``field``, "" for Unit itself) to the user's scope."""
    if _is_superuser(user):
        return Q()
    prefix = f"{field}__" if field else ""
    paths = scope_paths(user, write=write)
    if not paths:
        return Q(pk__in=[])
    query = Q()
    for path in paths:
        query |= Q(**{f"{prefix}path__startswith": path})
    return query


def can_access_unit(user: User, unit: Unit, *, write: bool = False) -> bool:
    if _is_superuser(user):
        return True
    return any(unit.path.startswith(path) for path in scope_paths(user, write=write))


def require_unit_access(user: User, unit: Unit, *, write: bool = True, what: str = "unit") -> None:
    if not can_access_unit(user, unit, write=write):
        verb = "change" if write else "see"
        raise KaopingError(
            ErrorCode.FORBIDDEN,
            what=what,
            where=unit.code,
            why=f"your roles do not allow you to {verb} {unit.name}",
        )


def sees_personal_data(user: User, unit: Unit) -> bool:
    """Only roles that need it see phone numbers, ID numbers and names unmasked."""
    if _is_superuser(user):
        return True
    paths = scope_paths(user, roles=PERSONAL_DATA_ROLES)
    return any(unit.path.startswith(path) for path in paths)
