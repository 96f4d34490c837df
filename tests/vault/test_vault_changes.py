"""The vault reports which tables each committed unit of work wrote (issue 11)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from kimdesk.vault import KdfParams, create_vault
from kimdesk.vault.changes import written_table
from tests.vault.support import PASSWORD, write_probe


@pytest.mark.parametrize(("statement", "table"), [
    ('INSERT INTO clients (id, family_name) VALUES (?, ?)', "clients"),
    ('INSERT OR REPLACE INTO "sync_outbox" (seq) VALUES (?)', "sync_outbox"),
    ("UPDATE cases SET phase=? WHERE cases.id = ?", "cases"),
    ("  DELETE FROM deadlines WHERE deadlines.id IN (?)", "deadlines"),
    ("SELECT * FROM clients", None),
    ("PRAGMA wal_checkpoint(TRUNCATE)", None),
    ("CREATE TABLE probe(id INTEGER)", None),
    ("SAVEPOINT sa_savepoint_1", None),
])
def test_the_target_of_a_write_statement_is_recognised(statement: str, table: str | None) -> None:
    assert written_table(statement) == table


def test_subscribers_hear_the_written_tables_once_after_the_outer_commit(
        tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    reports: list[frozenset[str]] = []
    with vault:
        vault.subscribe(reports.append)
        with vault.writing() as session:
            write_probe(vault, "Olena")  # nested: a savepoint, not yet reported
            assert reports == []
            session.execute(text("CREATE TABLE IF NOT EXISTS other(id INTEGER PRIMARY KEY)"))
            session.execute(text("INSERT INTO other(id) VALUES (1)"))
        assert reports == [frozenset({"probe", "other"})]
        with vault.reading() as session:
            session.execute(text("SELECT count(*) FROM probe")).scalar_one()
        assert len(reports) == 1  # reads report nothing


def test_a_rolled_back_unit_of_work_reports_nothing(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    reports: list[frozenset[str]] = []
    with vault:
        write_probe(vault, "Olena")
        vault.subscribe(reports.append)
        with pytest.raises(RuntimeError), vault.writing():
            write_probe(vault, "Piotr")
            raise RuntimeError("use case refused")
        assert reports == []


def test_reports_arrive_on_the_committing_thread_and_unsubscribe_stops_them(
        tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    threads: list[str] = []
    with vault:
        unsubscribe = vault.subscribe(
            lambda tables: threads.append(threading.current_thread().name))
        worker = threading.Thread(target=write_probe, args=(vault, "Ayşe"), name="worker")
        worker.start()
        worker.join()
        assert threads == ["worker"]
        unsubscribe()
        write_probe(vault, "Mariam")
        assert threads == ["worker"]


def test_a_failing_subscriber_does_not_turn_a_commit_into_an_error(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    heard: list[frozenset[str]] = []

    def broken(tables: frozenset[str]) -> None:
        raise RuntimeError("listener bug")

    with vault:
        vault.subscribe(broken)
        vault.subscribe(heard.append)
        write_probe(vault, "Olena")
        assert heard == [frozenset({"probe"})]
