"""Writes for rectifications: opening them for bad ratings and moving them along the workflow.

Every step goes through ``workflow.transition`` (an illegal step is refused with the reason), runs in
one transaction, and leaves one evidence-log entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction

from kaoping.assessment.rollups import ratings_mark_dirty_where
from kaoping.cases.evaluation import Calendars
from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, require_unit_access
from kaoping.evidence.services import evidence_append
from kaoping.followup.models import Rectification, RectificationKind
from kaoping.followup.workflow import (
    Action,
    State,
    TransitionError,
    Triage,
    Verdict,
    check_rectify_days,
    initial_state,
    transition,
)
from kaoping.org.models import Unit
from kaoping.workcal.limits import Limit, LimitUnit


def rectifications_open_for_ratings(*, rating_ids: Sequence[int], now: dt.datetime) -> int:
    """Open a follow-up for each of these bad ratings (called inside the ingesting transaction).

    Real-name ratings must be revisited within the revisit limit in working time, counted from the
    moment the rating was given."""
    from kaoping.ratings.models import Rating

    limit = Limit.parse(settings.KAOPING_FOLLOWUP_REVISIT_LIMIT)
    ratings = list(
        Rating.objects.filter(pk__in=rating_ids, rectification__isnull=True).values_list(
            "pk", "unit_id", "real_name", "rated_at"
        )
    )
    units = Unit.objects.in_bulk({unit_id for _, unit_id, _, _ in ratings})
    calendars = Calendars()
    zone = clock.local_zone()
    rows = []
    for pk, unit_id, real_name, rated_at in ratings:
        due = limit.due(calendars.of(units[unit_id]), rated_at.astimezone(zone)).at if real_name else None
        rows.append(
            (
                RectificationKind.BAD_RATING.value,
                unit_id,
                pk,
                initial_state(real_name=real_name).value,
                real_name,
                now,
                due,
            )
        )
    # One prepared INSERT over the batch: opened inside million-row rating imports.
    adapt = connection.ops.adapt_datetimefield_value
    table = Rectification._meta.db_table
    columns = (
        "kind, unit_id, rating_id, state, real_name, opened_at, revisit_due_at, revisit_note, triage, "
        + ("explanation, rectification_note, verdict")
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', '', '', '')",
            [(*row[:5], adapt(row[5]), adapt(row[6]) if row[6] else None) for row in rows],
        )
    return len(rows)


def _when(at: dt.datetime | None) -> dt.datetime:
    """When a step happened: now, or earlier when it is recorded after the fact (never in the future)."""
    now = clock.now()
    if at is None:
        return now
    if at.tzinfo is None or at > now:
        raise KaopingError(
            ErrorCode.INVALID, what="rectification", where="at", why="must be an aware past instant"
        )
    return at


def _step(
    *,
    actor: User,
    rectification: Rectification,
    action: Action,
    changes: dict[str, object],
    note: str = "",
    at: dt.datetime | None = None,
) -> Rectification:
    require_unit_access(actor, rectification.unit, what="rectification")
    with transaction.atomic():
        locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
        try:
            new_state = transition(State(locked.state), action)
        except TransitionError as exc:
            raise KaopingError(
                ErrorCode.INVALID, what="rectification", where=f"#{locked.pk}", why=str(exc)
            ) from None
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.state = new_state.value
        locked.handled_by = actor  # type: ignore[assignment]
        if new_state is State.CLOSED:
            locked.closed_at = _when(at)
        locked.save()
        if locked.rating_id is not None:  # the assessment rollups count follow-ups on the rating's day
            ratings_mark_dirty_where("id = %s", [locked.rating_id])
        evidence_append(
            actor=actor,
            action=f"followup.{action.value}",
            object_type="followup.rectification",
            object_id=str(locked.pk),
            state={
                "state": locked.state,
                "rating": locked.rating_id,
                **{k: str(v) for k, v in changes.items()},
            },
            note=note[:200],
        )
    return locked


def _required(text: str, field: str) -> str:
    value = text.strip()
    if not value:
        raise KaopingError(ErrorCode.INVALID, what="rectification", where=field, why="is required")
    return value


def rectification_revisit(
    *, actor: User, rectification: Rectification, note: str, at: dt.datetime | None = None
) -> Rectification:
    """The citizen was called back: what they said."""
    return _step(
        actor=actor,
        rectification=rectification,
        action=Action.REVISIT,
        changes={"revisited_at": _when(at), "revisit_note": _required(note, "revisit_note")},
        at=at,
    )


def rectification_triage(
    *,
    actor: User,
    rectification: Rectification,
    triage: Triage,
    note: str,
    days: int | None = None,
    at: dt.datetime | None = None,
) -> Rectification:
    """Fix at once (note = what was done), complex (a limit of ``days`` working days within the
    configured range), or no legal basis (note = the explanation given to the citizen)."""
    text = _required(note, "note")
    now = _when(at)
    if triage is Triage.FIX_NOW:
        changes: dict[str, object] = {"triage": triage.value, "rectified_at": now, "rectification_note": text}
        action = Action.FIX_NOW
    elif triage is Triage.COMPLEX:
        default, low, high = settings.KAOPING_FOLLOWUP_RECTIFY_DAYS
        chosen = default if days is None else days
        try:
            check_rectify_days(chosen, low=low, high=high)
        except ValueError as exc:
            raise KaopingError(
                ErrorCode.OUT_OF_RANGE, what="rectification", where="days", why=str(exc)
            ) from None
        calendar = Calendars().of(rectification.unit)
        due = Limit(chosen, LimitUnit.WORKING_DAYS).due(calendar, now).at
        changes = {"triage": triage.value, "rectify_due_at": due, "rectification_note": text}
        action = Action.COMPLEX
    else:
        changes = {"triage": triage.value, "explanation": text}
        action = Action.NO_BASIS
    return _step(actor=actor, rectification=rectification, action=action, changes=changes, at=at)


def rectification_rectify(
    *, actor: User, rectification: Rectification, note: str, at: dt.datetime | None = None
) -> Rectification:
    return _step(
        actor=actor,
        rectification=rectification,
        action=Action.RECTIFY,
        changes={"rectified_at": _when(at), "rectification_note": _required(note, "rectification_note")},
        at=at,
    )


def rectification_verdict(
    *, actor: User, rectification: Rectification, verdict: Verdict, at: dt.datetime | None = None
) -> Rectification:
    """The citizen's verdict on the fix, as the revisiting official recorded it."""
    return _step(
        actor=actor,
        rectification=rectification,
        action=Action.VERDICT,
        changes={"verdict": verdict.value, "verdict_at": _when(at)},
        at=at,
    )
