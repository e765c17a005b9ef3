"""Reading rating records from JSON Lines, CSV and XLSX: the case files' reader with the rating names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kaoping.cases.files import Row, read_rows
from kaoping.ratings.ingest import GBT_RATING_FIELDS, from_gbt


def read_rating_rows(path: Path, *, source: str) -> Iterator[Row]:
    return read_rows(path, source=source, what="rating file", gbt_fields=GBT_RATING_FIELDS, from_gbt=from_gbt)
