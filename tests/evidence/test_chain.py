"""The evidence chain: every write appends; any change behind its back is found and named."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from kaoping.evidence.digest import GENESIS, chain_hash
from kaoping.evidence.models import EvidenceEntry, EvidenceHead
from kaoping.evidence.verify import verify_chain
from kaoping.org.models import RoleAssignment, Unit
from kaoping.org.services import unit_update


def test_each_write_service_appends_a_linked_entry(org):
    entries = list(EvidenceEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
        assert after.hash == chain_hash(before.hash, after.body())
    first = entries[0]
    assert (first.actor, first.action, first.object_type) == ("root", "org.unit_create", "org.unit")
    head = EvidenceHead.objects.get()
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)
    report = verify_chain()
    assert report.ok
    # Every unit and role assignment the fixture made is compared with its last entry.
    assert report.objects == Unit.objects.count() + RoleAssignment.objects.count()


def test_an_update_through_a_service_keeps_the_chain_valid(org):
    unit_update(actor=org.director, unit=org.dept_a, name="甲科（新）")
    report = verify_chain()
    assert report.ok, report.problems
    assert EvidenceEntry.objects.filter(action="org.unit_update", object_id=str(org.dept_a.pk)).exists()


def test_a_row_changed_behind_the_logs_back_is_found(org):
    Unit.objects.filter(pk=org.dept_b.pk).update(name="被篡改的科室")
    report = verify_chain()
    assert not report.ok
    last = EvidenceEntry.objects.filter(object_type="org.unit", object_id=str(org.dept_b.pk)).latest("seq")
    assert report.first_bad is not None
    assert report.first_bad.seq == last.seq
    assert f"org.unit:{org.dept_b.pk} was changed behind the log's back" in str(report.first_bad)


def raw_update(sql: str, params: list[str | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_entry_edited_in_the_database_is_named(org):
    raw_update("UPDATE evidence_evidenceentry SET actor = %s WHERE seq = %s", ["someone_else", 3])
    report = verify_chain()
    assert report.first_bad is not None
    assert report.first_bad.seq == 3
    assert "altered" in report.first_bad.reason


def test_an_entry_removed_from_the_middle_is_named(org):
    raw_update("DELETE FROM evidence_evidenceentry WHERE seq = %s", [4])
    report = verify_chain()
    assert report.first_bad is not None and report.first_bad.seq == 4
    assert "missing" in report.first_bad.reason


def test_entries_cut_off_the_end_are_found(org):
    last = EvidenceHead.objects.get().seq
    raw_update("DELETE FROM evidence_evidenceentry WHERE seq = %s", [last])
    report = verify_chain()
    assert report.first_bad is not None and report.first_bad.seq == last
    assert "head records" in report.first_bad.reason


def test_a_rehashed_forgery_still_breaks_the_next_link(org):
    # Someone edits entry 2 and recomputes its hash: entry 3 no longer links to it.
    entry = EvidenceEntry.objects.get(seq=2)
    entry.note = "forged"
    forged = chain_hash(entry.prev_hash, entry.body())
    raw_update("UPDATE evidence_evidenceentry SET note = %s, hash = %s WHERE seq = %s", ["forged", forged, 2])
    report = verify_chain()
    assert report.first_bad is not None and report.first_bad.seq == 3


def test_a_deleted_row_without_an_entry_is_found(org):
    raw_update("DELETE FROM org_roleassignment WHERE user_id = %s", [org.auditor.pk])
    report = verify_chain()
    assert not report.ok
    assert "was deleted without an entry" in str(report.first_bad)


def test_entries_refuse_update_and_delete_through_the_orm(org):
    entry = EvidenceEntry.objects.earliest("seq")
    entry.note = "x"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_the_nightly_task_reports_a_break(org, caplog):
    from kaoping.evidence.tasks import verify_evidence_chain

    assert verify_evidence_chain.call_local() is True
    Unit.objects.filter(pk=org.window_a.pk).update(active=False)
    assert verify_evidence_chain.call_local() is False
    assert "evidence chain BROKEN" in caplog.text
