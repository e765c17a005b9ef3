"""Sent when a year's arrangement changes, so provisional deadlines can be recomputed.

Receivers (the cases app, later) get ``years``: the years whose working days may have moved."""

from django.dispatch import Signal

calendar_changed = Signal()
