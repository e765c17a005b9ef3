"""Appending to the evidence log. Every write service calls ``evidence_append`` inside its
transaction, so the entry and the change it records commit together or not at all."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction

from kaoping.core import clock
from kaoping.evidence.digest import GENESIS, chain_hash, digest
from kaoping.evidence.models import EvidenceEntry, EvidenceHead
from kaoping.evidence.registry import Evidenced, object_type

Actor = AbstractBaseUser | AnonymousUser | str | None


def actor_fields(actor: Actor) -> tuple[str, int | None]:
    if actor is None:
        return "system", None
    if isinstance(actor, str):
        return actor, None
    if not actor.is_authenticated:
        return "anonymous", None
    return actor.get_username(), actor.pk


def evidence_append(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    state: dict[str, Any] | None,
    note: str = "",
) -> EvidenceEntry:
    """Append one entry whose digest is that of ``state`` (None for a deleted object)."""
    with transaction.atomic():
        head, _ = EvidenceHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": GENESIS}
        )
        name, actor_id = actor_fields(actor)
        entry = EvidenceEntry(
            seq=head.seq + 1,
            at=clock.now(),
            actor=name,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            digest=digest(state),
            note=note,
            prev_hash=head.hash,
        )
        # Database round trip precision: keep microseconds, drop nothing else.
        entry.hash = chain_hash(head.hash, entry.body())
        entry.save(force_insert=True)
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
        return entry


def evidence_record(*, actor: Actor, action: str, instance: Evidenced, note: str = "") -> EvidenceEntry:
    """Log the new state of a model instance that was just saved."""
    return evidence_append(
        actor=actor,
        action=action,
        object_type=object_type(instance),
        object_id=str(instance.pk),
        state=instance.evidence_state(),
        note=note,
    )


def evidence_record_delete(
    *, actor: Actor, model: type[models.Model], object_id: Any, note: str = ""
) -> EvidenceEntry:
    return evidence_append(
        actor=actor,
        action="delete",
        object_type=object_type(model),
        object_id=str(object_id),
        state=None,
        note=note,
    )
