"""Canonical JSON and SHA-256 digests: pure, no Django."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any

import orjson

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be digested")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot digest a {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(value, default=_default, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def texts_digest(texts: list[str]) -> str:
    """``digest(texts)`` of a list of texts, from orjson's bytes: the same canonical JSON (a test holds
    them equal), written a few times faster, for import batches digesting their keys."""
    return hashlib.sha256(orjson.dumps(texts)).hexdigest()


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """The entry's hash covers the previous entry's hash and every field of its own body."""
    return hashlib.sha256((prev_hash + "\n" + canonical_json(body)).encode()).hexdigest()
