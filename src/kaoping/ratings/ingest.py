"""The one validation path for rating records, whatever brought them (public page, API, file, simulator).

``validate`` turns a raw record into a ``RatingRecord`` or raises ``RecordError`` naming the field and
the reason. Level codes are read in the convention the caller declares for the source. Which case a
rating belongs to is resolved later, per batch, by the service (one query per batch, not per row).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from kaoping.cases.ingest import RecordError, parse_instant
from kaoping.ratings.codes import (
    ATTEMPT_CODES,
    MAX_TAGS,
    MAX_TEXT,
    Attempt,
    CodeError,
    Convention,
    read_channel,
    read_level,
)

__all__ = ["GBT_RATING_FIELDS", "Lookups", "RatingRecord", "RecordError", "from_gbt", "validate"]

RATER_KINDS = {"person": "person", "legal_entity": "legal_entity", "自然人": "person", "法人": "legal_entity"}
RATER_KIND_CODES = {"1": "person", "2": "legal_entity"}
_TRUE = {"true", "1", "yes", "y", "是", "实名"}
_FALSE = {"false", "0", "no", "n", "否", "匿名", ""}
_TAG_SPLIT = re.compile(r"[、,，;；|]")


class RatingRecord(NamedTuple):  # a tuple: a million of them are built per import
    source: str
    external_id: str
    case_source: str
    case_external_id: str
    unit_id: int | None
    staff_id: int | None
    level: int  # the score: 5 = 非常满意 … 1 = 非常不满意 (plain values: records cross processes)
    channel: str  # a Channel value
    attempt: str  # an Attempt value
    rater_kind: str
    real_name: bool
    rater_name: str
    rater_phone: str
    rater_id_number: str
    text: str
    tags: tuple[str, ...]
    rated_at: dt.datetime
    device: str
    ip: str | None


@dataclass(frozen=True)
class Lookups:
    units: Mapping[str, int]  # code → id
    staff: Mapping[str, int]  # employee number → id


def _text(record: Mapping[str, Any], name: str, limit: int = 80, required: bool = False) -> str:
    # Positional arguments and exact type checks: called some fifteen million times per import.
    value = record.get(name)
    if type(value) is str:
        text = value.strip()
    elif value is None:
        if required:
            raise RecordError(name, "is required")
        return ""
    elif type(value) is int:
        text = str(value)
    else:
        raise RecordError(name, f"must be text, not {type(value).__name__}")
    if len(text) > limit:
        raise RecordError(name, f"is longer than {limit} characters ({len(text)})")
    if required and not text:
        raise RecordError(name, "is required")
    return text


def _flag(record: Mapping[str, Any], name: str, default: bool) -> bool:
    value = record.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(name, f"{value!r} is not true or false")


def _tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        parts = [part.strip() for part in _TAG_SPLIT.split(value)]
    elif isinstance(value, list):
        if not all(isinstance(part, str) for part in value):
            raise RecordError("tags", "must be a list of texts")
        parts = [part.strip() for part in value]
    else:
        raise RecordError("tags", f"must be a list or a text, not {type(value).__name__}")
    tags = tuple(dict.fromkeys(part for part in parts if part))
    if len(tags) > MAX_TAGS:
        raise RecordError("tags", f"at most {MAX_TAGS} tags, not {len(tags)}")
    if any(len(tag) > 20 for tag in tags):
        raise RecordError("tags", "a tag is longer than 20 characters")
    return tags


_ATTEMPTS = {a.value: a for a in Attempt} | ATTEMPT_CODES


def validate(record: Mapping[str, Any], lookups: Lookups, convention: Convention) -> RatingRecord:
    source = _text(record, "source", 40, True)
    external_id = _text(record, "id", 80, True)
    case_external_id = _text(record, "case")
    unit_code = _text(record, "unit", 40)
    if not case_external_id and not unit_code:
        raise RecordError("unit", "is required when the rating is not of a case")
    if unit_code and unit_code not in lookups.units:
        raise RecordError("unit", f"unknown unit {unit_code!r}")
    staff_code = _text(record, "staff", 40)
    if staff_code and staff_code not in lookups.staff:
        raise RecordError("staff", f"unknown employee number {staff_code!r}")
    raw_level = record.get("level")
    if raw_level is None:
        raise RecordError("level", "is required")
    try:
        level = read_level(raw_level, convention)
    except CodeError as exc:
        raise RecordError("level", f"{exc} (codes read as {convention.value})") from None
    try:
        channel = read_channel(_text(record, "channel", 20, True))
    except CodeError as exc:
        raise RecordError("channel", str(exc)) from None
    attempt_text = _text(record, "attempt", 20) or "first"
    attempt = _ATTEMPTS.get(attempt_text)
    if attempt is None:
        raise RecordError("attempt", f"{attempt_text!r} is not 'first' or 'follow_up'")
    if attempt is Attempt.FOLLOW_UP and not case_external_id:
        raise RecordError("attempt", "a follow-up rating (追评) belongs to a case: 'case' is missing")
    kind_text = _text(record, "rater_kind", 20) or "person"
    rater_kind = RATER_KINDS.get(kind_text) or RATER_KIND_CODES.get(kind_text)
    if rater_kind is None:
        raise RecordError("rater_kind", f"{kind_text!r} is not 'person' or 'legal_entity'")
    phone = _text(record, "rater_phone", 30)
    real_name = _flag(record, "real_name", bool(phone))
    text = _text(record, "text", MAX_TEXT)
    ip_text = _text(record, "ip", 45)
    if ip_text:
        try:
            ip_text = str(ipaddress.ip_address(ip_text))
        except ValueError:
            raise RecordError("ip", f"{ip_text!r} is not an IP address") from None
    tags = record.get("tags")
    return RatingRecord(
        source,
        external_id,
        _text(record, "case_source", 40),
        case_external_id,
        lookups.units[unit_code] if unit_code else None,
        lookups.staff[staff_code] if staff_code else None,
        int(level),
        channel.value,
        attempt.value,
        rater_kind,
        real_name,
        _text(record, "rater_name", 100) if real_name else "",
        phone if real_name else "",
        _text(record, "rater_id_number", 30) if real_name else "",
        text,
        _tags(tags) if tags else (),
        _instant(record.get("rated_at")),
        _text(record, "device"),
        ip_text or None,
    )


def _instant(value: Any) -> dt.datetime:
    if value is None or value == "":
        raise RecordError("rated_at", "is required")
    return parse_instant(value, "rated_at")


# GB/T 39046-2020 names of the rating fields (评价信息) we read.
GBT_RATING_FIELDS = {
    "评价编号": "id",
    "办件编号": "case",
    "评价渠道": "channel",
    "评价人类型": "rater_kind",
    "评价人姓名": "rater_name",
    "评价人电话": "rater_phone",
    "评价人证件号码": "rater_id_number",
    "评价时间": "rated_at",
    "评价次数": "attempt",
    "评价等级": "level",
    "评价内容": "text",
    "评价标签": "tags",
    "评价对象编码": "unit",
    "被评价人工号": "staff",
    "是否实名": "real_name",
    "终端编号": "device",
    "来源系统": "source",
}


def from_gbt(record: Mapping[str, Any], *, default_source: str) -> dict[str, Any]:
    """A rating record with GB/T 39046-2020 field names, in our names."""
    mapped: dict[str, Any] = {"type": "rating", "source": default_source}
    for name, value in record.items():
        ours = GBT_RATING_FIELDS.get(name)
        if ours is not None:
            mapped[ours] = value
    return mapped
