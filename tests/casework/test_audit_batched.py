"""The audit trail written in batches: a write transaction keeps the entries it appends and
inserts them in one statement before it commits. The chain must come out exactly as if each
entry had been written at once: dense numbers, every MAC right, reads inside the transaction
see the entries, and a savepoint that rolls back takes its entries (and only those) with it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kimdesk.casework import audit
from kimdesk.casework.context import Context
from kimdesk.models import AuditEntry
from kimdesk.models.changelog import RecordState


def _append(ctx: Context, session: Session, action: str, client_id: str | None = None
            ) -> None:
    audit.append(session, ctx.audit_key, actor=ctx.user, action=action, client_id=client_id,
                 entity="clients", entity_id="c" * 32, detail={"fields": ["first_name"]})


def _trail(ctx: Context) -> list[tuple[int, str]]:
    with ctx.vault.reading() as session:
        return [(e.seq, e.action) for e in
                session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def _verify(ctx: Context) -> list[audit.ChainProblem]:
    with ctx.vault.reading() as session:
        return audit.verify(session, ctx.audit_key)


def test_many_entries_of_one_transaction_form_one_intact_chain(ctx: Context) -> None:
    with ctx.vault.writing() as session:
        for number in range(40):
            _append(ctx, session, "update" if number % 2 else "read")
        audit.append_many(session, ctx.audit_key, ctx.user,
                          [audit.NewEntry("import", None, "clients", str(n)) for n in range(5)])
    with ctx.vault.writing() as session:
        _append(ctx, session, "export")
    trail = _trail(ctx)
    assert [seq for seq, _ in trail] == list(range(1, 47))
    assert [action for _, action in trail][-6:] == ["import"] * 5 + ["export"]
    assert _verify(ctx) == []


def test_entries_are_not_in_the_database_before_the_commit_but_reads_see_them(
        ctx: Context) -> None:
    with ctx.vault.writing() as session:
        _append(ctx, session, "create", "a" * 32)
        _append(ctx, session, "read", "a" * 32)
        # Core SQL behind the session's back does not see the journal ...
        raw = session.connection().exec_driver_sql("SELECT count(*) FROM audit_entries")
        assert raw.scalar() == 0
        # ... the application's reads do: an ORM statement on the trail writes it first.
        assert [e.action for e in session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == "a" * 32))] == ["create", "read"]
        assert audit.count(session) == 2
        assert audit.head(session) is not None
        _append(ctx, session, "update", "a" * 32)
        assert session.scalar(select(func.max(AuditEntry.seq))) == 3
    assert [seq for seq, _ in _trail(ctx)] == [1, 2, 3]
    assert _verify(ctx) == []


def test_a_rolled_back_savepoint_takes_its_entries_and_only_those(ctx: Context) -> None:
    with ctx.vault.writing() as session:
        _append(ctx, session, "create")
        with pytest.raises(RuntimeError), ctx.vault.writing():
            _append(ctx, session, "update")
            raise RuntimeError("use case failed")
        _append(ctx, session, "read")
    assert _trail(ctx) == [(1, "create"), (2, "read")]
    assert _verify(ctx) == []


def test_a_savepoint_that_wrote_older_entries_and_rolled_back_keeps_the_older_ones(
        ctx: Context) -> None:
    with ctx.vault.writing() as session:
        _append(ctx, session, "create")  # still in the journal when the savepoint begins
        with pytest.raises(RuntimeError), ctx.vault.writing():
            _append(ctx, session, "update")
            assert audit.count(session) == 2  # writes both inside the savepoint
            raise RuntimeError("use case failed")
        with ctx.vault.writing():  # a savepoint that succeeds
            _append(ctx, session, "read")
        _append(ctx, session, "export")
    assert _trail(ctx) == [(1, "create"), (2, "read"), (3, "export")]
    assert _verify(ctx) == []


def test_a_rolled_back_transaction_leaves_nothing_and_the_next_continues_the_chain(
        ctx: Context) -> None:
    with ctx.vault.writing() as session:
        _append(ctx, session, "create")
    with pytest.raises(RuntimeError), ctx.vault.writing() as session:
        _append(ctx, session, "update")
        assert audit.count(session) == 2
        raise RuntimeError("use case failed")
    with ctx.vault.writing() as session:
        _append(ctx, session, "read")
    assert _trail(ctx) == [(1, "create"), (2, "read")]
    assert _verify(ctx) == []


def test_entries_removed_in_the_transaction_are_not_chained_to(ctx: Context) -> None:
    """A purge removes entries and appends its own in one transaction: the new entry follows
    the newest entry that is left, as it did when every append read the chain's end."""
    with ctx.vault.writing() as session:
        for _ in range(3):
            _append(ctx, session, "update", "b" * 32)
    with ctx.vault.writing() as session:
        _append(ctx, session, "read", "b" * 32)  # seq 4, pending
        session.execute(delete(AuditEntry).where(AuditEntry.seq.in_([3, 4])))
        audit.append(session, ctx.audit_key, actor=ctx.user, action="purge", client_id=None,
                     detail={"removed_seqs": [3, 4]})
    assert _trail(ctx) == [(1, "update"), (2, "update"), (3, "purge")]
    with ctx.vault.reading() as session:
        purge = session.get(AuditEntry, 3)
        second = session.get(AuditEntry, 2)
        assert purge is not None and second is not None and purge.prev_mac == second.mac
    assert _verify(ctx) == []


def test_a_failed_flush_in_a_savepoint_keeps_the_entries_from_before_it(ctx: Context) -> None:
    with ctx.vault.writing() as session:
        _append(ctx, session, "create")
        session.add(RecordState(record_id="r" * 32, kind="clients", max_hlc="0"))
        session.flush()
        with pytest.raises(IntegrityError), ctx.vault.writing():
            _append(ctx, session, "update")
            session.add(RecordState(record_id="r" * 32, kind="clients", max_hlc="1"))
            session.flush()  # the same primary key: fails, the savepoint rolls back
        _append(ctx, session, "read")
    assert _trail(ctx) == [(1, "create"), (2, "read")]
    assert _verify(ctx) == []
