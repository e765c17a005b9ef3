"""The one validation path for case records, whatever brought them (API, file, simulator).

``validate`` turns a raw record (a dict of strings or JSON values) into a ``CaseRecord`` or an
``EventRecord``, or raises ``RecordError`` saying which field is wrong and why. Lookups of codes
(matters, units, staff) are passed in as dicts so a whole file is validated with no query per row.
GB/T 39046-2020 field names are mapped to ours by ``from_gbt``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from kaoping.cases.deadlines import EventKind, PauseKind
from kaoping.workcal.calendar import CalendarError
from kaoping.workcal.limits import Limit

CHANNELS = ("window", "online", "home_visit")
APPLICANT_KINDS = ("person", "legal_entity")
MAX_ID = 80
MAX_TEXT = 500


class RecordError(ValueError):
    def __init__(self, field: str, why: str) -> None:
        self.field = field
        self.why = why
        super().__init__(f"{field}: {why}" if field else why)


class CaseRecord(NamedTuple):
    source: str
    external_id: str
    matter_id: int
    unit_id: int
    staff_id: int | None
    channel: str
    applicant_kind: str
    received_at: dt.datetime
    applicant_name: str
    applicant_phone: str
    applicant_id_number: str


class EventRecord(NamedTuple):
    source: str
    external_id: str
    case_external_id: str
    kind: EventKind
    at: dt.datetime
    node: str
    detail: dict[str, str]


@dataclass(frozen=True)
class Lookups:
    matters: Mapping[str, tuple[int, int, tuple[str, ...]]]  # code → (id, owner unit id, channels)
    units: Mapping[str, int]  # code → id
    staff: Mapping[str, int]  # employee number → id
    # The working-time calendar's span: an instant outside it cannot be timed (None: not checked).
    span: tuple[dt.datetime, dt.datetime] | None = None  # [first, end)


def _text(record: Mapping[str, Any], name: str, *, required: bool = True, limit: int = MAX_ID) -> str:
    value = record.get(name)
    if type(value) is str:  # the common case first: a file import validates millions of fields
        text = value.strip()
        if text and len(text) <= limit:
            return text
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(name, "is required")
        return ""
    if not isinstance(value, str | int):
        raise RecordError(name, f"must be text, not {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit:
        raise RecordError(name, f"is longer than {limit} characters")
    return text


def parse_instant(value: Any, name: str) -> dt.datetime:
    if type(value) is str:  # the common case first: ISO 8601 text with its offset
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    if isinstance(value, dt.datetime):
        instant = value
    else:
        text = _text({name: value}, name)
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError:
            raise RecordError(name, f"{text!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise RecordError(name, f"{instant.isoformat()} has no UTC offset (e.g. +08:00)")
    return instant


def _choice(record: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = _text(record, name)
    if value not in allowed:
        raise RecordError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def validate(record: Mapping[str, Any], lookups: Lookups) -> CaseRecord | EventRecord:
    kind = _text(record, "type")
    if kind == "case":
        return _case(record, lookups)
    if kind == "event":
        return _event(record, lookups)
    raise RecordError("type", f"{kind!r} is not 'case' or 'event'")


def _case(record: Mapping[str, Any], lookups: Lookups) -> CaseRecord:
    source, external_id = _text(record, "source", limit=40), _text(record, "id")
    matter_code = _text(record, "matter")
    if matter_code not in lookups.matters:
        raise RecordError("matter", f"unknown matter {matter_code!r}")
    matter_id, _, matter_channels = lookups.matters[matter_code]
    unit_code = _text(record, "unit")
    if unit_code not in lookups.units:
        raise RecordError("unit", f"unknown unit {unit_code!r}")
    channel = _choice(record, "channel", CHANNELS)
    if channel not in matter_channels:
        raise RecordError("channel", f"matter {matter_code} is not offered through {channel!r}")
    staff_code = _text(record, "staff", required=False)
    if staff_code and staff_code not in lookups.staff:
        raise RecordError("staff", f"unknown employee number {staff_code!r}")
    return CaseRecord(  # positional: keywords cost twice as much per record
        source,
        external_id,
        matter_id,
        lookups.units[unit_code],
        lookups.staff[staff_code] if staff_code else None,
        channel,
        _choice(record, "applicant_kind", APPLICANT_KINDS),
        _within(parse_instant(record.get("received_at"), "received_at"), "received_at", lookups),
        _text(record, "applicant_name", required=False, limit=100),
        _text(record, "applicant_phone", required=False, limit=30),
        _text(record, "applicant_id_number", required=False, limit=30),
    )


_EVENT_KINDS = {kind.value: kind for kind in EventKind}


def _within(instant: dt.datetime, name: str, lookups: Lookups) -> dt.datetime:
    span = lookups.span
    # The common case first, by the year alone (a year's margin covers any offset): comparing aware
    # instants converts both to UTC.
    if span is None or span[0].year + 1 < instant.year < span[1].year - 1:
        return instant
    if not span[0] <= instant < span[1]:
        raise RecordError(
            name,
            f"{instant.isoformat()} is outside the working-time calendar's span "
            f"({span[0].year}–{span[1].year - 1})",
        )
    return instant


def _event(record: Mapping[str, Any], lookups: Lookups) -> EventRecord:
    raw_kind = _text(record, "event")
    kind = _EVENT_KINDS.get(raw_kind)
    if kind is None:
        raise RecordError("event", f"{raw_kind!r} is not a known event kind")
    node = _text(record, "node", required=kind in (EventKind.NODE_STARTED, EventKind.NODE_FINISHED), limit=40)
    detail: dict[str, str] = {}
    if kind is EventKind.PAUSE_STARTED:
        detail["pause_kind"] = _choice(record, "pause_kind", tuple(p.value for p in PauseKind))
    if kind is EventKind.EXTENSION_GRANTED:
        detail["approver"] = _text(record, "approver", limit=100)  # required: no approver, no extension
        detail["reason"] = _text(record, "reason", limit=MAX_TEXT)
        limit = _text(record, "limit")
        try:
            Limit.parse(limit)
        except CalendarError as exc:
            raise RecordError("limit", str(exc)) from None
        detail["limit"] = limit
    return EventRecord(  # positional, as CaseRecord
        _text(record, "source", limit=40),
        _text(record, "id", limit=120),
        _text(record, "case"),
        kind,
        _within(parse_instant(record.get("at"), "at"), "at", lookups),
        node,
        detail,
    )


# GB/T 39046-2020 names of the fields we read (办件信息), and the standard's codes for some values.
GBT_CASE_FIELDS = {
    "办件编号": "id",
    "事项编码": "matter",
    "受理单位编码": "unit",
    "办理渠道": "channel",
    "申请人类型": "applicant_kind",
    "申请人名称": "applicant_name",
    "申请人证件号码": "applicant_id_number",
    "联系电话": "applicant_phone",
    "收件时间": "received_at",
    "经办人工号": "staff",
    "来源系统": "source",
}
GBT_VALUES = {
    "channel": {
        "窗口": "window",
        "网上": "online",
        "网上办理": "online",
        "上门": "home_visit",
        "1": "window",
        "2": "online",
        "3": "home_visit",
    },
    "applicant_kind": {"自然人": "person", "法人": "legal_entity", "1": "person", "2": "legal_entity"},
}


def from_gbt(record: Mapping[str, Any], *, default_source: str) -> dict[str, Any]:
    """A case record with GB/T 39046-2020 field names, in our names."""
    mapped: dict[str, Any] = {"type": "case", "source": default_source}
    for name, value in record.items():
        ours = GBT_CASE_FIELDS.get(name)
        if ours is None:
            continue
        if ours in GBT_VALUES and isinstance(value, str):
            value = GBT_VALUES[ours].get(value.strip(), value)
        mapped[ours] = value
    return mapped


# -- the fast path of a file's common records ----------------------------------------------------

CASE_FIELDS = frozenset(
    (
        "type",
        "source",
        "id",
        "matter",
        "unit",
        "channel",
        "applicant_kind",
        "received_at",
        "staff",
        "applicant_name",
        "applicant_phone",
        "applicant_id_number",
    )
)
EVENT_FIELDS = frozenset(("type", "source", "id", "case", "event", "at", "node"))
# The kinds whose records carry no detail (a pause's kind, an extension's approver …).
_PLAIN_KINDS = {
    kind.value: kind.value
    for kind in EventKind
    if kind not in (EventKind.PAUSE_STARTED, EventKind.EXTENSION_GRANTED)
}
_NODE_KINDS = frozenset((EventKind.NODE_STARTED.value, EventKind.NODE_FINISHED.value))
_MINUTES_SECONDS = frozenset(f":{minute:02d}:{second:02d}" for minute in range(60) for second in range(60))
_HOUR = dt.timedelta(hours=1)
_LAST_SECOND = dt.timedelta(minutes=59, seconds=59)


def _stripped(value: Any, limit: int) -> str | None:
    """``_text``'s common case: a str that is not blank and within the limit, stripped; else None."""
    if type(value) is not str:
        return None
    text = value.strip()
    return text if text and len(text) <= limit else None


def _or_default(value: Any, default: str) -> Any:
    return default if value is None or value == "" else value


def _optional(value: Any, limit: int) -> str | None:
    """An optional field's text: "" when absent or empty (as ``files`` cleans a record), else as
    ``_stripped``."""
    return "" if value is None or value == "" else _stripped(value, limit)


class FastPath:
    """``validate`` and the row a file reader builds from it (``pipeline.case_item``'s row and
    ``pipeline.event_row``, instants in SQLite's text form), in one step for the records a file
    mostly holds: every field a stripped str of the record's own kind, instants written as
    ``YYYY-MM-DDTHH:MM:SS+HH:MM`` with a whole-hour offset, no detail. Anything else gives None, and
    the caller takes the general path (``files`` cleaning, then ``validate``), which accepts or
    rejects it with its reason. A third of a reader's time went to validating record by record.

    Codes are checked once per combination (a file repeats few), instants once per hour of theirs
    (then only their minutes and seconds)."""

    def __init__(self, lookups: Lookups, source: str) -> None:
        self.lookups, self.source = lookups, source
        self._hours: dict[str, str] = {}  # date, hour and offset → the UTC hour, "" for the general path
        # matter, unit, channel, staff and applicant kind (None: not a stripped text) → their ids
        self._codes: dict[tuple[str | None, ...], tuple[int, int, int | None] | None] = {}

    def instant(self, value: Any) -> str | None:
        """``sqlite_instant(parse_instant(value))``, when it is within the calendar's span."""
        if type(value) is not str or len(value) != 25:
            return None
        tail = value[13:19]
        if tail not in _MINUTES_SECONDS:
            return None
        key = value[:13] + value[19:]
        hour = self._hours.get(key)
        if hour is None:
            if len(self._hours) >= 100_000:
                self._hours.clear()
            hour = self._hours[key] = self._hour(key, value)
        return hour + tail if hour else None

    def _hour(self, key: str, value: str) -> str:
        """The UTC hour of the instants with this key, when ``value`` (one of them) is read as the
        key says; else ""."""
        try:
            start = dt.datetime.fromisoformat(f"{key[:13]}:00:00{key[13:]}")
            instant = dt.datetime.fromisoformat(value)
        except ValueError:
            return ""
        offset = start.utcoffset()
        if offset is None or offset % _HOUR or instant.utcoffset() != offset:
            return ""
        if instant != start.replace(minute=int(value[14:16]), second=int(value[17:19])):
            return ""
        try:  # the whole hour in the span, or its instants are checked one by one
            _within(start, "", self.lookups)
            _within(start + _LAST_SECOND, "", self.lookups)
        except RecordError:
            return ""
        return start.astimezone(dt.UTC).isoformat(" ")[:13]

    def case(self, record: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """A case record's row (``pipeline.case_item``'s), or None."""
        if not record.keys() <= CASE_FIELDS:
            return None
        get = record.get
        source = _stripped(_or_default(get("source"), self.source), 40)
        external_id = _stripped(get("id"), MAX_ID)
        received = self.instant(get("received_at"))
        name = _optional(get("applicant_name"), 100)
        phone = _optional(get("applicant_phone"), 30)
        id_number = _optional(get("applicant_id_number"), 30)
        if (
            source is None
            or external_id is None
            or received is None
            or name is None
            or phone is None
            or id_number is None
        ):
            return None
        codes = (
            _stripped(get("matter"), MAX_ID),
            _stripped(get("unit"), MAX_ID),
            _stripped(get("channel"), MAX_ID),
            _optional(get("staff"), MAX_ID),
            _stripped(get("applicant_kind"), MAX_ID),
        )
        try:
            ids = self._codes[codes]
        except KeyError:
            ids = self._codes[codes] = None if None in codes else self._ids(*codes)  # type: ignore[arg-type]
        if ids is None:
            return None
        return (source, external_id, *ids, codes[2], codes[4], name, phone, id_number, received)

    def _ids(
        self, matter: str, unit: str, channel: str, staff: str, applicant_kind: str
    ) -> tuple[int, int, int | None] | None:
        lookups = self.lookups
        found = lookups.matters.get(matter)
        if (
            found is None
            or unit not in lookups.units
            or channel not in CHANNELS
            or channel not in found[2]
            or (staff and staff not in lookups.staff)
            or applicant_kind not in APPLICANT_KINDS
        ):
            return None
        return found[0], lookups.units[unit], lookups.staff[staff] if staff else None

    def event(self, record: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
        """An event record's case id and row (``pipeline.event_row``'s), or None."""
        if not record.keys() <= EVENT_FIELDS:
            return None
        get = record.get
        kind = get("event")
        kind = _PLAIN_KINDS.get(kind) if type(kind) is str else None
        source = _stripped(_or_default(get("source"), self.source), 40)
        external_id = _stripped(get("id"), 120)
        case_id = _stripped(get("case"), MAX_ID)
        at = self.instant(get("at"))
        node = (_stripped if kind in _NODE_KINDS else _optional)(get("node"), 40)
        if kind is None or source is None or external_id is None or case_id is None:
            return None
        if at is None or node is None:
            return None
        return case_id, (source, external_id, kind, at, node, "{}")
