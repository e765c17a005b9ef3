"""Reading and validating a rating file in a separate process (no Django: it only parses and checks).

``validate_file`` runs as the target of a spawned process and puts on ``out``, per batch,
``(drafts, rejected, rows_read)`` with ``drafts`` the valid records as ``rows.Draft`` (rows ready for
the INSERT but for the case and the moment of receipt) and ``rejected`` a list of (location, id,
reason); then ``None``. A failure to read the file is put as its message (a str).

With ``text_forms`` (SQLite) instants and tags are written as the database stores them; otherwise they
stay datetimes and lists for the writer to adapt. With ``database`` (the SQLite file, when the writer
has nothing uncommitted) the cases the ratings name are looked up here too, on a read-only connection,
so the writer only checks the first ratings already stored (in its transaction) and executes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kaoping.core.bulk import gc_paused, sqlite_instant
from kaoping.core.errors import KaopingError
from kaoping.ratings.codes import Convention
from kaoping.ratings.files import read_rating_rows
from kaoping.ratings.ingest import Lookups, RecordError, validate
from kaoping.ratings.rows import Draft, draft, find_cases, resolved, sqlite_tags


def _same(value: Any) -> Any:
    return value


def validate_file(
    path: str,
    source: str,
    units: dict[str, int],
    staff: dict[str, int],
    convention: str,
    batch: int,
    out: Any,
    text_forms: bool = True,
    database: str | None = None,
    case_table: str = "",
) -> None:
    lookups = Lookups(units=units, staff=staff)
    cases = _case_finder(database, case_table)
    codes = Convention(convention)
    instant, tags = (sqlite_instant, sqlite_tags) if text_forms else (_same, _same)
    valid: list[Draft] = []
    rejected: list[tuple[str, str, str]] = []
    count = 0
    with gc_paused():  # a process of its own, making many short-lived objects without cycles
        try:
            for where, record, error in read_rating_rows(Path(path), source=source):
                count += 1
                if record is None:
                    rejected.append((where, "", error))
                else:
                    try:
                        valid.append(draft(where, validate(record, lookups, codes), instant, tags))
                    except RecordError as exc:
                        rejected.append((where, str(record.get("id", "")), str(exc)))
                if count % batch == 0:
                    out.put((cases(valid), rejected, batch))
                    valid, rejected = [], []
            if valid or rejected or count % batch:
                out.put((cases(valid), rejected, count % batch))
        except KaopingError as exc:
            out.put(exc.message)
        except Exception as exc:  # a damaged file must end the import with a message, not hang it
            out.put(f"could not be read: {exc}")
    out.put(None)


def _case_finder(database: str | None, table: str) -> Any:
    if database is None:
        return _same
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)

    def query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return db.execute(sql, params).fetchall()

    def look_up(drafts: list[Draft]) -> list[Draft]:
        return resolved(drafts, find_cases(drafts, query, table=table, mark="?"))

    return look_up
