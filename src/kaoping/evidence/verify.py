"""Walking the evidence chain: recompute every hash, then compare every logged object's current
state with the digest of its last entry."""

from __future__ import annotations

from dataclasses import dataclass, field

from kaoping.evidence.digest import GENESIS, chain_hash, digest
from kaoping.evidence.models import EvidenceEntry, EvidenceHead
from kaoping.evidence.registry import loader_for


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.reason}"


@dataclass
class Report:
    entries: int = 0
    objects: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def verify_chain(*, chunk_size: int = 5000) -> Report:
    report = Report()
    expected_seq = 1
    prev_hash = GENESIS
    # object (type, id) → (seq, action, digest) of its last entry
    last: dict[tuple[str, str], tuple[int, str, str]] = {}
    for entry in EvidenceEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
        report.entries += 1
        if entry.seq != expected_seq:
            report.problems.append(
                Problem(expected_seq, f"missing: the chain jumps from #{expected_seq - 1} to #{entry.seq}")
            )
        elif entry.prev_hash != prev_hash:
            report.problems.append(Problem(entry.seq, "does not link to the entry before it (prev_hash)"))
        elif chain_hash(entry.prev_hash, entry.body()) != entry.hash:
            report.problems.append(
                Problem(
                    entry.seq,
                    f"altered: its fields no longer match its hash ({entry.action} "
                    f"{entry.object_type}:{entry.object_id})",
                )
            )
        if report.problems:
            # Past the first break every later link is suspect; the first one is what matters.
            break
        expected_seq = entry.seq + 1
        prev_hash = entry.hash
        last[(entry.object_type, entry.object_id)] = (entry.seq, entry.action, entry.digest)

    if not report.problems:
        head = EvidenceHead.objects.filter(id=1).first()
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        if head_seq != expected_seq - 1 or head_hash != prev_hash:
            report.problems.append(
                Problem(
                    expected_seq,
                    f"missing: the chain ends at #{expected_seq - 1} but its head records #{head_seq}",
                )
            )

    by_type: dict[str, list[str]] = {}
    for type_name, object_id in last:
        by_type.setdefault(type_name, []).append(object_id)
    for type_name, object_ids in by_type.items():
        loader = loader_for(type_name)
        if loader is None:
            continue  # a record of an event (an import, a sweep), not of an object that lives on
        report.objects += len(object_ids)
        states = loader(object_ids)
        for object_id in object_ids:
            seq, action, logged = last[(type_name, object_id)]
            state = states.get(object_id)
            if state is None and action != "delete":
                report.problems.append(Problem(seq, f"{type_name}:{object_id} was deleted without an entry"))
            elif state is not None and digest(state) != logged:
                report.problems.append(
                    Problem(
                        seq,
                        f"{type_name}:{object_id} was changed behind the log's back "
                        f"(its stored state no longer matches this entry, its last)",
                    )
                )
    return report
