"""Quality findings (质检) against the hotline centre's people (R3.3): a monitor (or the hall manager, or
a director covering the hotline) records what a check found (a call taker's record error, an urge or
revisit not made as required, a verified complaint, a monitor's missed error check or inaccurate reply).
The ``hotline_staff`` scheme counts them (``assessment.hotline_metrics``).

``finding_record`` is the one write for a person at a time (one evidence entry each); ``findings_store``
stores a batch (the simulator, an import) with one evidence entry covering the digest of its keys,
idempotent by source and id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, scope_paths
from kaoping.evidence.services import Actor, evidence_append, evidence_record
from kaoping.hotline.models import FindingKind, QualityFinding, Ticket
from kaoping.org.models import Role, Staff, UnitKind

CHECKERS = frozenset({Role.MONITOR, Role.HALL_MANAGER, Role.CENTRE_DIRECTOR})


def _may_check(actor: User, staff: Staff) -> bool:
    if actor.is_authenticated and getattr(actor, "is_superuser", False):
        return True
    paths = scope_paths(actor, roles=CHECKERS)
    return any(staff.unit.path.startswith(path) for path in paths)


def finding_record(
    *,
    actor: User,
    staff: Staff,
    kind: FindingKind | str,
    note: str,
    found_at: dt.datetime | None = None,
    ticket: Ticket | None = None,
) -> QualityFinding:
    """Record one finding against a person of a hotline centre. Refused: a person outside a hotline
    centre, a checker without a monitor, hall manager or director role covering them, a ticket of
    another centre, an empty note, a naive or future instant."""
    if staff.unit.kind != UnitKind.HOTLINE_CENTRE:
        raise KaopingError(
            ErrorCode.INVALID, what="finding", where=staff.employee_no, why="is not staff of a hotline centre"
        )
    if not _may_check(actor, staff):
        raise KaopingError(
            ErrorCode.FORBIDDEN,
            what="finding",
            where=staff.employee_no,
            why="only a monitor, the hall manager or a director over the hotline records findings",
        )
    try:
        chosen = FindingKind(kind)
    except ValueError:
        why = f"{kind!r} is not one of {', '.join(FindingKind.values)}"
        raise KaopingError(ErrorCode.INVALID, what="finding", where="kind", why=why) from None
    if ticket is not None and ticket.centre_id != staff.unit_id:
        raise KaopingError(
            ErrorCode.INVALID, what="finding", where="ticket", why="belongs to another hotline centre"
        )
    text = note.strip()
    if not text:
        raise KaopingError(ErrorCode.INVALID, what="finding", where="note", why="say what was found")
    now = clock.now()
    when = found_at or now
    if when.tzinfo is None or when.utcoffset() is None:
        raise KaopingError(ErrorCode.INVALID, what="finding", where="found_at", why="has no UTC offset")
    if when > now:
        raise KaopingError(ErrorCode.INVALID, what="finding", where="found_at", why="lies in the future")
    with transaction.atomic():
        finding = QualityFinding.objects.create(
            centre_id=staff.unit_id,
            staff=staff,
            kind=chosen.value,
            ticket=ticket,
            found_at=when,
            found_by_id=actor.pk if actor.is_authenticated else None,
            note=text[:4000],
        )
        evidence_record(actor=actor, action="hotline.finding_record", instance=finding)
    return finding


@dataclass(frozen=True)
class FindingRow:
    """A finding to store in bulk: ``staff`` is the employee number, ``ticket`` the ticket's external id
    within ``source`` (or empty)."""

    source: str
    external_id: str
    staff: str
    kind: str
    found_at: dt.datetime
    note: str
    ticket: str = ""


def findings_store(*, actor: Actor, rows: Sequence[FindingRow]) -> int:
    """Store findings in one transaction with one evidence entry; those already stored (same source
    and id) are skipped. Unknown people or tickets, people outside a hotline centre, unknown kinds or
    naive instants refuse the whole batch (the callers are programs: the simulator, an import)."""
    if not rows:
        return 0
    people = {
        s.employee_no: s
        for s in Staff.objects.filter(employee_no__in={r.staff for r in rows}).select_related("unit")
    }
    tickets = dict(
        Ticket.objects.filter(
            source__in={r.source for r in rows}, external_id__in={r.ticket for r in rows if r.ticket}
        ).values_list("external_id", "pk")
    )
    problems = []
    for row in rows:
        person = people.get(row.staff)
        if person is None or person.unit.kind != UnitKind.HOTLINE_CENTRE:
            problems.append(f"{row.external_id}: {row.staff!r} is not staff of a hotline centre")
        if row.kind not in FindingKind.values:
            problems.append(f"{row.external_id}: kind {row.kind!r}")
        if row.found_at.utcoffset() is None:
            problems.append(f"{row.external_id}: found_at has no UTC offset")
        if row.ticket and row.ticket not in tickets:
            problems.append(f"{row.external_id}: unknown ticket {row.ticket!r}")
    if problems:
        raise KaopingError(ErrorCode.INVALID, what="findings", why="; ".join(problems[:10]))
    with transaction.atomic():
        stored = set(
            QualityFinding.objects.filter(
                source__in={r.source for r in rows}, external_id__in={r.external_id for r in rows}
            ).values_list("source", "external_id")
        )
        new = [
            QualityFinding(
                centre_id=people[r.staff].unit_id,
                staff=people[r.staff],
                kind=r.kind,
                ticket_id=tickets.get(r.ticket) if r.ticket else None,
                found_at=r.found_at,
                note=r.note,
                source=r.source,
                external_id=r.external_id,
            )
            for r in rows
            if (r.source, r.external_id) not in stored
        ]
        QualityFinding.objects.bulk_create(new, batch_size=1000)
        if new:
            keys = "\n".join(sorted(f"{f.source}\t{f.external_id}" for f in new))
            evidence_append(
                actor=actor,
                action="hotline.findings_store",
                object_type="hotline.findings_batch",  # not a row type: the log checks no row state
                object_id=new[0].source[:100],
                state={"count": len(new), "keys": hashlib.sha256(keys.encode()).hexdigest()},
            )
    return len(new)
