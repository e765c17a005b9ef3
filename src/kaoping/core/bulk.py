"""Helpers for bulk work (file imports) that are not about any one kind of record: pausing the
cyclic garbage collector, and the reader process that reads a file while the importer writes."""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


class Reader:
    """A spawned process that reads and validates a file for an import while this process writes.

    ``target`` is called with ``kwargs`` and ``out``, a bounded queue on which it puts each batch, a
    message (a str) if the file cannot be read, and finally None. ``get`` returns the next of these;
    should the process die without saying so (killed, out of memory), it returns a message instead
    of waiting for ever. Used as a context manager: the process is started on entry and reaped on
    exit, terminated if it is still running (the import failed on the writing side)."""

    def __init__(self, target: Callable[..., None], **kwargs: Any) -> None:
        context = multiprocessing.get_context("spawn")  # no forked copy of Django's connections
        self._queue: Any = context.Queue(maxsize=3)
        self._process = context.Process(target=target, kwargs={**kwargs, "out": self._queue}, daemon=True)

    def __enter__(self) -> Reader:
        self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()

    def get(self) -> Any:
        while True:
            try:
                return self._queue.get(timeout=1)
            except queue.Empty:
                if not self._process.is_alive():
                    return f"the reading process ended unexpectedly (exit code {self._process.exitcode})"


def readable_sqlite_file() -> str | None:
    """The SQLite database file, when a reader process may look things up in it itself: it sees what
    this connection sees only when this connection has nothing uncommitted (not inside a caller's
    transaction). None otherwise, or on another database."""
    from django.db import connection

    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    name = str(connection.settings_dict["NAME"])
    return name if Path(name).is_file() else None


_UTC = dt.UTC


def sqlite_instant(value: dt.datetime) -> str:
    """An aware instant as Django stores it on SQLite (UTC, no offset, microseconds only when not 0),
    written directly by the bulk writers: Django's adapter was a fifth of an import's time. Texts of
    this form sort as their instants do."""
    return value.astimezone(_UTC).replace(tzinfo=None).isoformat(" ")


def sqlite_instant_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else sqlite_instant(value)
