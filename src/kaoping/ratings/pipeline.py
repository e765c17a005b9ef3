"""Reading and validating a rating file in a separate process (no Django: it only parses and checks).

``validate_file`` runs as the target of a spawned process and puts on ``out``, per batch,
``(drafts, rejected, rows_read)`` with ``drafts`` the valid records as ``rows.Draft`` (rows ready for
the INSERT but for the case and the moment of receipt) and ``rejected`` a list of (location, id,
reason); then ``None``. A failure to read the file is put as its message (a str).

With ``text_forms`` (SQLite) instants and tags are written as the database stores them, so the writer
only looks up cases and executes; otherwise they stay datetimes and lists for the writer to adapt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kaoping.core.errors import KaopingError
from kaoping.ratings.codes import Convention
from kaoping.ratings.files import read_rating_rows
from kaoping.ratings.ingest import Lookups, RecordError, validate
from kaoping.ratings.rows import Draft, draft, sqlite_instant, sqlite_tags


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
) -> None:
    lookups = Lookups(units=units, staff=staff)
    codes = Convention(convention)
    instant, tags = (sqlite_instant, sqlite_tags) if text_forms else (_same, _same)
    valid: list[Draft] = []
    rejected: list[tuple[str, str, str]] = []
    count = 0
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
                out.put((valid, rejected, batch))
                valid, rejected = [], []
        if valid or rejected or count % batch:
            out.put((valid, rejected, count % batch))
    except KaopingError as exc:
        out.put(exc.message)
    except Exception as exc:  # a damaged file must end the import with a message, not hang it
        out.put(f"could not be read: {exc}")
    out.put(None)
