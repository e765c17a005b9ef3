"""Helpers for bulk work (file imports) that are not about any one kind of record: pausing the
cyclic garbage collector, the reader process that reads a file while the importer writes, and
inserting many rows at once."""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import queue
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
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
    """Spawned processes that read and validate a file for an import while this process writes.

    ``target`` is called with ``kwargs`` and ``out``, a bounded queue on which it puts each batch, a
    message (a str) if the file cannot be read, and finally None. ``get`` returns the next of these;
    should a process die without saying so (killed, out of memory), it returns a message instead
    of waiting for ever. Used as a context manager: the processes are started on entry and reaped
    on exit, terminated if still running (the import failed on the writing side).

    ``nice`` lowers the processes' scheduling priority: when the writer is the slower side, it then
    gets a core whenever it can run, and the readers the time it leaves (a hotline import of 100,000
    tickets: 10.0 s → 9.2 s on two cores).

    With ``parts`` > 1, that many processes share the file, each called with ``part`` (its index,
    the number of parts) as well, and ``get`` takes their batches in turn; a part that has put None
    is done, and the rest come from the others. How the parts share the file is the target's: the
    hotline's reader gives batch k of the file to part k mod ``parts``, each part putting one batch
    for each of its batch numbers up to its last (an empty batch where the file had only blank
    lines), so the batches come in file order; the case reader shares the file by case, where the
    order between parts does not matter."""

    def __init__(self, target: Callable[..., None], *, parts: int = 1, nice: int = 0, **kwargs: Any) -> None:
        context = multiprocessing.get_context("spawn")  # no forked copy of Django's connections
        self._queues: list[Any] = [context.Queue(maxsize=3) for _ in range(parts)]
        self._processes = [
            context.Process(
                target=_run_niced,
                args=(target, nice),
                kwargs={**kwargs, "out": queue_, **({"part": (index, parts)} if parts > 1 else {})},
                daemon=True,
            )
            for index, queue_ in enumerate(self._queues)
        ]
        self._done = [False] * parts
        self._turn = 0

    def __enter__(self) -> Reader:
        for process in self._processes:
            process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()

    def get(self) -> Any:
        while not all(self._done):
            index = self._turn % len(self._queues)
            self._turn += 1
            if self._done[index]:
                continue
            item = self._next(index)
            if item is None:
                self._done[index] = True
                continue
            return item
        return None

    def _next(self, index: int) -> Any:
        process = self._processes[index]
        while True:
            try:
                return self._queues[index].get(timeout=1)
            except queue.Empty:
                if not process.is_alive():
                    return f"the reading process ended unexpectedly (exit code {process.exitcode})"


def _run_niced(target: Callable[..., None], nice: int, **kwargs: Any) -> None:
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    target(**kwargs)


def batch_owner(part: tuple[int, int], size: int) -> Callable[[int], bool]:
    """Whether row number n is in one of ``part``'s batches, batches being ``size`` numbers each."""
    index, parts = part
    return lambda number: (number // size) % parts == index


# Rows per INSERT statement at most: beyond a few hundred the statement's size gains nothing.
INSERT_ROWS = 500


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, conflict: str = ""
) -> int:
    """Insert ``rows`` with multi-row INSERT statements (up to ``INSERT_ROWS`` rows each) in the
    current transaction; return how many rows went in. ``conflict`` is appended to each statement
    (``ON CONFLICT (...) DO NOTHING``, say: then rows that would repeat a stored one are not counted).

    On SQLite this runs on the driver's own cursor: ``executemany`` steps one statement per row, and
    Django's cursor rewrites a statement's placeholders with a regular expression on every call;
    together that was half the time of inserting a million cases' events. (Not a gain everywhere: the
    ratings import, whose rows go through a partial unique index, was slower with it, 20.8 → 23.6 s.)"""
    from django.db import connection

    if not rows:
        return 0
    sqlite = connection.vendor == "sqlite"
    mark = "?" if sqlite else "%s"
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = f"({', '.join([mark] * len(columns))})"
    connection.ensure_connection()
    # Bound parameters per statement at most: SQLite's compiled-in limit (999 before 3.32), or
    # PostgreSQL's protocol limit.
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if sqlite else 65535
    per = max(1, min(INSERT_ROWS, limit // len(columns)))
    full = f"{head}{', '.join([one] * per)} {conflict}"
    inserted = 0
    # The driver's errors as Django's (IntegrityError …), as through Django's cursor.
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = connection.connection.cursor() if sqlite else wrapper
        try:
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                sql = full if len(chunk) == per else f"{head}{', '.join([one] * len(chunk))} {conflict}"
                cursor.execute(sql, tuple(chain.from_iterable(chunk)))
                inserted += cursor.rowcount
        finally:
            if sqlite:
                cursor.close()
    return inserted


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
_HOUR = dt.timedelta(hours=1)
# (date, hour, UTC offset) → the UTC text of that hour ("YYYY-MM-DD HH"), or "" when the offset is
# not whole hours (then minutes change too). A file's instants fall in few hours.
_HOURS: dict[tuple[int, int, int, int, dt.timedelta | None], str] = {}
_SIXTY = [f"{n:02d}" for n in range(60)]


def sqlite_instant(value: dt.datetime) -> str:
    """An aware instant as Django stores it on SQLite (UTC, no offset, microseconds only when not 0),
    written directly by the bulk writers: Django's adapter was a fifth of an import's time. Texts of
    this form sort as their instants do.

    Built from the UTC text of its hour, remembered, and its own minutes and seconds: a third of the
    cost of converting each instant (a million instants for 100,000 hotline tickets)."""
    key = (value.year, value.month, value.day, value.hour, value.utcoffset())
    hour = _HOURS.get(key)
    if hour is None:
        if len(_HOURS) >= 100_000:
            _HOURS.clear()
        offset = key[4]
        whole = offset is not None and not offset % _HOUR
        start = value.replace(minute=0, second=0, microsecond=0)
        hour = _HOURS[key] = start.astimezone(_UTC).isoformat(" ")[:13] if whole else ""
    if not hour:
        return value.astimezone(_UTC).isoformat(" ")[:-6]
    text = hour + ":" + _SIXTY[value.minute] + ":" + _SIXTY[value.second]
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def sqlite_instant_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else sqlite_instant(value)


_DAYS: dict[int, str] = {}  # days since 1970-01-01 → "YYYY-MM-DD "
_EPOCH_DAY = dt.date(1970, 1, 1)


def sqlite_epoch(epoch: int) -> str:
    """``sqlite_instant`` of an instant given as whole epoch seconds (the bulk evaluation's form)."""
    day, seconds = divmod(epoch, 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = (_EPOCH_DAY + dt.timedelta(days=day)).isoformat() + " "
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{text}{hours:02d}:{_SIXTY[minutes]}:{_SIXTY[seconds]}"


def sqlite_epochs(column: Any, missing: int) -> list[str | None]:
    """``sqlite_epoch`` of a column of epoch seconds (a numpy integer array), None where it holds
    ``missing``: formatted by numpy at once, a million instants in a fraction of a second."""
    import numpy as np

    values = np.asarray(column, dtype=np.int64)
    absent = values == missing
    seconds = np.where(absent, 0, values).astype("datetime64[s]")
    texts = np.datetime_as_string(seconds, unit="s").astype("<U19")  # four-digit years: no more
    texts.view(np.uint32).reshape(-1, 19)[:, 10] = ord(" ")  # "YYYY-MM-DDTHH:MM:SS" → Django's form
    out = texts.astype(object)
    out[absent] = None
    return list(out.tolist())
