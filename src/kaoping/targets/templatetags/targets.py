"""Template helpers of the target and task pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any) -> str:
    """A user as the pages name them: full name, else username; "—" for nobody (e.g. a deleted account)."""
    if user is None:
        return "—"
    return str(user.get_full_name() or user.get_username())
