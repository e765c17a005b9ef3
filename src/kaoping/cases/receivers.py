"""When a year's arrangement changes, provisional deadlines are recomputed in the background."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from kaoping.workcal.signals import calendar_changed


@receiver(calendar_changed)
def recompute_provisional(sender: Any, years: list[int], **kwargs: Any) -> None:
    from kaoping.cases.tasks import recompute_provisional_cases

    recompute_provisional_cases()
