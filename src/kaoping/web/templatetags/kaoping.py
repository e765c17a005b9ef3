"""Small template helpers shared by the pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from kaoping.cases.labels import EVENT_LABELS, PAUSE_LABELS, STATUS_LABELS
from kaoping.catalog.models import Channel

register = template.Library()


@register.filter
def label(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def status_label(value: str) -> str:
    return _(STATUS_LABELS.get(value, value))


@register.filter
def channel_label(value: str) -> str:
    return _(Channel(value).label) if value in Channel.values else value


@register.filter
def pause_label(value: str) -> str:
    return _(PAUSE_LABELS.get(value, value))


@register.filter
def event_label(value: str) -> str:
    return _(EVENT_LABELS.get(value, value))


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage; "—" when there is nothing to divide (no ratings, no cases)."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def followup_state(value: str) -> str:
    from kaoping.followup.workflow import STATE_LABELS, State

    return _(STATE_LABELS[State(value)]) if value in State.__members__.values() else value
