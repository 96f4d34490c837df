"""The audit trail is anchored outside the vault (issue 13): whoever knows the password can cut
off or rewrite the Protokoll and re-chain it, but the next sync compares the trail with the
heads the server kept and reports both."""

from __future__ import annotations

from sqlalchemy import delete, select

from kimdesk.casework import audit, clients
from kimdesk.casework.context import Context
from kimdesk.models import AuditEntry
from kimdesk.server import admin
from kimdesk.server.tables import audit_anchors
from tests.factories import make_person
from tests.sync.team import Team


def _rewrite_and_rechain(ctx: Context, seq: int) -> None:
    """What an insider with the password can do: change an entry, then recompute every MAC from
    there on with the audit key (derived from the DB key), so the chain verifies again."""
    with ctx.vault.writing() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.seq >= seq)
                                       .order_by(AuditEntry.seq)))
        prev = session.scalar(select(AuditEntry.mac).where(AuditEntry.seq < seq)
                              .order_by(AuditEntry.seq.desc()).limit(1)) or audit.GENESIS
        entries[0].actor = "jemand anderes"
        for entry in entries:
            entry.prev_mac = prev
            entry.mac = audit._mac(ctx.audit_key, entry, entry.at)
            prev = entry.mac


def _truncate(ctx: Context, count: int) -> None:
    with ctx.vault.writing() as session:
        newest = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())
                                      .limit(count)))
        session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(newest)))


def _head(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        head = audit.head(session)
    assert head is not None
    return head[0]


def test_a_clean_trail_syncs_without_findings_and_the_server_holds_only_its_head(
        devices, team: Team) -> None:
    (anna,) = devices(1)
    team.join(anna)
    make_person(anna, first_name="Olena", last_name="Kovalenko")
    first = team.sync(anna)
    second = team.sync(anna)
    assert first.audit_problems == [] and second.audit_problems == []
    with team.db.read() as conn:
        stored = conn.execute(select(audit_anchors.c.seq, audit_anchors.c.mac)).all()
        columns = set(audit_anchors.c.keys())
    assert stored and all(len(mac) == 64 for _seq, mac in stored)
    assert columns == {"id", "device_id", "seq", "mac", "created_at"}  # no content at all
    with anna.vault.reading() as session:
        assert audit.verify(session, anna.audit_key) == []


def test_truncating_two_entries_and_rewriting_one_are_both_reported_at_the_next_sync(
        devices, team: Team) -> None:
    (anna,) = devices(1)
    team.join(anna)
    person = make_person(anna, first_name="Mariam", last_name="Haddad")
    team.sync(anna)
    rewritten = _head(anna)  # anchored by this sync
    clients.update_client(anna, person.id, {"phone": "02821 123456"})
    clients.update_client(anna, person.id, {"phone": "02821 654321"})
    team.sync(anna)
    cut_off = _head(anna)  # anchored too; the two newest entries will be cut off

    _truncate(anna, 2)
    _rewrite_and_rechain(anna, rewritten)
    with anna.vault.reading() as session:
        assert audit.verify(session, anna.audit_key) == []  # inside the vault: unnoticed

    report = team.sync(anna)

    assert f"truncated:{cut_off}" in report.audit_problems
    assert f"altered:{rewritten}" in report.audit_problems
    assert any("Protokoll dieses Geräts" in note for note in report.notes)
    (entry,) = [e for e in admin.audit_entries(team.db) if e.action == "audit_trail_tampered"]
    assert set(entry.detail["problems"]) >= {f"truncated:{cut_off}", f"altered:{rewritten}"}


def test_entries_a_purge_removed_are_no_finding(devices, team: Team) -> None:
    (anna,) = devices(1)
    team.join(anna)
    make_person(anna, first_name="Zofia", last_name="Wiśniewska")
    team.sync(anna)
    anchored = _head(anna)
    # a purge under the retention rules removes the person's entries and lists them
    with anna.vault.writing() as session:
        removed = [anchored]
        session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(removed)))
        audit.append(session, anna.audit_key, actor=anna.user, action="purge", client_id=None,
                     detail={"removed_seqs": removed})
    report = team.sync(anna)
    assert report.audit_problems == []
