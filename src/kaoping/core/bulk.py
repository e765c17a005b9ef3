"""Helpers for bulk work (file imports) that are not about any one kind of record."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a bulk job.

    A file import allocates millions of short-lived dicts and tuples; each allocation burst makes the
    collector walk every live container, and with a batch or two of records alive that walk cost a
    quarter to a third of an import. The records hold no reference cycles, so reference counting
    frees them anyway; the collector runs again (and catches up) when the block ends.

    The switch is process-wide: meant for the command line's file imports (and their reader
    processes), not for a request in a threaded web server."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
