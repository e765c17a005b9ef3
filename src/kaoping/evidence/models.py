"""The evidence log (R0.9): append-only, hash-chained."""

from __future__ import annotations

from typing import Any

from django.db import models

from kaoping.evidence.digest import GENESIS


class EvidenceEntry(models.Model):
    """One write, as it happened. ``hash`` covers ``prev_hash`` and every other field."""

    seq = models.BigIntegerField("序号", primary_key=True)
    at = models.DateTimeField("时间")
    actor = models.CharField("操作人", max_length=150)
    actor_id = models.BigIntegerField("操作人编号", null=True, blank=True)
    action = models.CharField("动作", max_length=80)
    object_type = models.CharField("对象类型", max_length=80)
    object_id = models.CharField("对象编号", max_length=120)
    digest = models.CharField("状态摘要", max_length=64)
    note = models.TextField("说明", blank=True)
    prev_hash = models.CharField("前一哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        verbose_name = "存证记录"
        verbose_name_plural = "存证记录"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "actor_id": self.actor_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "digest": self.digest,
            "note": self.note,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("evidence entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("evidence entries are append-only")


class EvidenceHead(models.Model):
    """The chain's tip. Locked (SELECT … FOR UPDATE) by every append so entries are numbered in
    one order; also lets ``verify`` notice entries cut off the end of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = "存证链头"
        verbose_name_plural = "存证链头"
