"""The national rating scale, its two code conventions, and the GB/T 39046-2020 channel list.

Pure Python: the level codes a source sends are read in the convention the source declares, never
guessed from the values. Inside Kaoping a level is stored as its *score*, higher is better
(5 = 非常满意 … 1 = 非常不满意), so averages and comparisons read naturally; the two conventions are
only ways of writing it down.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Level(IntEnum):
    VERY_SATISFIED = 5
    SATISFIED = 4
    BASIC = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def bad(self) -> bool:
        """不满意 and 非常不满意 are bad ratings (差评)."""
        return self <= Level.DISSATISFIED


LEVEL_LABELS = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASIC: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}
LEVEL_BY_LABEL = {label: level for level, label in LEVEL_LABELS.items()}


class Convention(StrEnum):
    GBT39046 = "gbt39046"  # 1 = 非常满意 … 5 = 非常不满意
    PROVINCIAL = "provincial"  # 1 = 非常不满意 … 5 = 非常满意


class CodeError(ValueError):
    pass


def read_level(value: object, convention: Convention) -> Level:
    """A level written as a code of ``convention`` (1–5, as a number or text) or as its Chinese label.

    The label is the same in both conventions, so it is always accepted."""
    key = value.strip() if isinstance(value, str) else value
    if type(key) is int or type(key) is str:
        found: Level | None = _LEVEL_READINGS[convention].get(key)
        if found is not None:
            return found
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise CodeError(f"{value!r} is neither a level code 1–5 nor a level name such as 满意")
        code = int(value.strip())
    elif isinstance(value, bool) or not isinstance(value, int):
        raise CodeError(f"{value!r} is not a level code 1–5")
    else:
        code = value
    raise CodeError(f"{code} is not a level code: codes run from 1 to 5")


def write_level(level: Level, convention: Convention) -> int:
    return 6 - int(level) if convention is Convention.GBT39046 else int(level)


def _readings(convention: Convention) -> dict[int | str, Level]:
    table: dict[int | str, Level] = {label: level for label, level in LEVEL_BY_LABEL.items()}
    for level in Level:
        code = write_level(level, convention)
        table[code] = table[str(code)] = level
    return table


# Every accepted spelling of a level, per convention: one dictionary look-up per rating.
_LEVEL_READINGS = {convention: _readings(convention) for convention in Convention}


class Channel(StrEnum):
    """GB/T 39046-2020 rating channels, plus the system's own default rating."""

    PC = "pc"
    MOBILE = "mobile"
    QR_CODE = "qr_code"
    HALL_TABLET = "hall_tablet"
    HALL_TERMINAL = "hall_terminal"
    PHONE = "phone"
    SMS = "sms"
    DEFAULT = "default"  # never sent by a source: set when an unrated case takes the default level


CHANNEL_LABELS = {
    Channel.PC: "PC端",
    Channel.MOBILE: "移动端",
    Channel.QR_CODE: "二维码",
    Channel.HALL_TABLET: "政务大厅平板电脑",
    Channel.HALL_TERMINAL: "政务大厅其他终端",
    Channel.PHONE: "电话",
    Channel.SMS: "短信",
    Channel.DEFAULT: "默认评价",
}
# The standard's channel codes 1–7 in its order, and the Chinese names, both map to ours.
CHANNEL_CODES = {
    "1": Channel.PC,
    "2": Channel.MOBILE,
    "3": Channel.QR_CODE,
    "4": Channel.HALL_TABLET,
    "5": Channel.HALL_TERMINAL,
    "6": Channel.PHONE,
    "7": Channel.SMS,
} | {label: channel for channel, label in CHANNEL_LABELS.items() if channel is not Channel.DEFAULT}
# The channels a citizen's own device reaches over the internet (R4.10: not from the centre's network).
PUBLIC_CHANNELS = frozenset({Channel.PC, Channel.MOBILE, Channel.QR_CODE})


_CHANNEL_READINGS: dict[str, Channel] = {
    c.value: c for c in Channel if c is not Channel.DEFAULT
} | CHANNEL_CODES


def read_channel(value: object) -> Channel:
    text = str(value).strip()
    found = _CHANNEL_READINGS.get(text)
    if found is not None:
        return found
    if text == Channel.DEFAULT.value:
        raise CodeError("'default' ratings are set by the system, not sent")
    allowed = ", ".join(c.value for c in Channel if c is not Channel.DEFAULT)
    raise CodeError(f"{text!r} is not a rating channel ({allowed}, or GB/T codes 1–7)")


class Attempt(StrEnum):
    FIRST = "first"
    FOLLOW_UP = "follow_up"  # 追评, after a rectification


ATTEMPT_CODES = {
    "1": Attempt.FIRST,
    "2": Attempt.FOLLOW_UP,
    "首次评价": Attempt.FIRST,
    "追加评价": Attempt.FOLLOW_UP,
}

TAGS = ("服务态度", "办事效率", "材料要求", "环境设施", "政策解释", "排队等候", "线上系统")
MAX_TEXT = 500
MAX_TAGS = 10
