"""Zuletzt geöffnete Akten: from the audit trail's reads, so the list survives a restart."""

from __future__ import annotations

import dataclasses

from kimdesk.casework.case_views import load_case
from kimdesk.casework.context import Context
from kimdesk.casework.retention import purge_client
from kimdesk.casework.views import open_client_file, recent_files
from kimdesk.models import AuditEntry
from tests.factories import make_case, make_person


def _forget_read_window(ctx: Context) -> None:
    """Move the recorded reads back in time, as if the files were opened long ago."""
    with ctx.vault.writing() as session:
        for entry in session.query(AuditEntry).filter(AuditEntry.action == "read"):
            entry.at = entry.at.replace(year=entry.at.year - 1)


def test_recent_files_are_the_newest_reads_of_the_user(ctx: Context) -> None:
    first, second, third = (make_person(ctx) for _ in range(3))
    case = make_case(ctx, third)
    assert recent_files(ctx) == []

    open_client_file(ctx, first.id)
    open_client_file(ctx, second.id)
    load_case(ctx, case.id)  # opening a Fall opens its person's Akte
    assert [r.client_id for r in recent_files(ctx)] == [third.id, second.id, first.id]
    assert recent_files(ctx)[0].display_name == third.display_name
    assert [r.client_id for r in recent_files(ctx, limit=2)] == [third.id, second.id]

    # A colleague's reads are hers; the list is per user.
    colleague = dataclasses.replace(ctx, user="Mehmet Yılmaz")
    open_client_file(colleague, first.id)
    assert [r.client_id for r in recent_files(colleague)] == [first.id]


def test_reopening_moves_a_file_to_the_top_and_a_purged_file_drops_out(ctx: Context) -> None:
    first, second = make_person(ctx), make_person(ctx)
    open_client_file(ctx, first.id)
    open_client_file(ctx, second.id)
    _forget_read_window(ctx)
    open_client_file(ctx, first.id)
    assert [r.client_id for r in recent_files(ctx)] == [first.id, second.id]

    with ctx.vault.writing() as session:
        purge_client(session, first.id)
    assert [r.client_id for r in recent_files(ctx)] == [second.id]
