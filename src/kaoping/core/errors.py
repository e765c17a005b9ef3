"""Errors that reach users: a code, what was wrong, where, and why."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_DATE = "bad_date"
    BAD_DATETIME = "bad_datetime"
    NAIVE_DATETIME = "naive_datetime"
    OUT_OF_RANGE = "out_of_range"
    BAD_FILE = "bad_file"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    CALENDAR_NOT_LOADED = "calendar_not_loaded"


class KaopingError(Exception):
    """A refusal with a reason. ``where`` names the place (a line, a field) when there is one."""

    def __init__(self, code: ErrorCode, *, what: str, why: str, where: str | None = None) -> None:
        self.code = code
        self.what = what
        self.why = why
        self.where = where
        super().__init__(self.message)

    @property
    def message(self) -> str:
        place = f" ({self.where})" if self.where else ""
        return f"{self.what}{place}: {self.why}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code.value,
            "what": self.what,
            "where": self.where,
            "why": self.why,
            "message": self.message,
        }
