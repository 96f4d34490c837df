"""A vault written by the first release opens in this one: migrated, backed up, nothing lost."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from kimdesk.casework import audit
from kimdesk.casework.clients import find_clients
from kimdesk.casework.overview import counts
from kimdesk.casework.profile import context_for
from kimdesk.vault import migrate, open_vault

FIRST_RELEASE = Path(__file__).resolve().parents[1] / "data" / "first-release-vault"
PASSWORD = "erste-version-2026"  # documented in the README beside the vault
REVISION = "0001"  # the schema revision the first release wrote
# The bytes as the first release wrote them (README); a regenerated vault would prove nothing.
SHA256 = {
    "vault.db": "b674b02d8e65d2ed001a1f720309ec69e8321204963033ce579c3df300a87aab",
    "vault-header.json": "2d2baec552fd9ea602fcbf7d0aa7ecf3459cb280972189477005fd34de2ea806",
}


@pytest.fixture
def old_vault(tmp_path: Path) -> Path:
    """A copy of the first release's data directory; the original is never opened."""
    target = tmp_path / "vault"
    shutil.copytree(FIRST_RELEASE / "vault", target)
    return target


def test_the_test_data_is_what_the_first_release_wrote() -> None:
    for name, digest in SHA256.items():
        data = (FIRST_RELEASE / "vault" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert sorted(p.name for p in (FIRST_RELEASE / "vault").iterdir()) == sorted(SHA256)


def _backups(vault_dir: Path) -> list[Path]:
    folder = vault_dir / "backups"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_old_vault_is_migrated_and_its_backup_pruned_afterwards(old_vault: Path) -> None:
    # A copy left by an earlier migration still holds everyone, purged people included.
    (old_vault / "backups").mkdir(mode=0o700)
    stale = old_vault / "backups" / "vault-before-0000-20250101T000000Z.db"
    shutil.copy2(old_vault / "vault.db", stale)

    vault = open_vault(old_vault, PASSWORD)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
    finally:
        vault.close()
    if migrate.head_revision() == REVISION:
        # Nothing to migrate yet: an up-to-date vault is not copied, nor pruned.
        assert _backups(old_vault) == [stale]
        return
    # The copy taken before the migration served its purpose once the migration committed and
    # the database checked sound; neither it nor the older copy survives.
    assert (old_vault / "backups").is_dir(), "the copy was taken before migrating"
    assert _backups(old_vault) == []
    # A second opening finds nothing left to migrate and takes no further copy.
    open_vault(old_vault, PASSWORD).close()
    assert _backups(old_vault) == []


def test_old_vault_keeps_its_records(old_vault: Path) -> None:
    vault = open_vault(old_vault, PASSWORD)
    try:
        ctx = context_for(vault)
        assert (ctx.user, ctx.team) == ("Demo Case Managerin", "nord")
        result = counts(ctx)
        assert (result.clients, result.households) == (23, 4)
        assert (result.cases_open, result.cases_closed) == (8, 5)

        haidari = {h.display_name: h for h in find_clients(ctx, "haidari")}
        assert sorted(haidari) == ["Haidari, Jawad", "Haidari, Karim", "Haidari, Parwana",
                                   "Haidari, Sima", "Haidari, Soraya"]
        jawad = haidari["Haidari, Jawad"]
        assert (jawad.birth_date, jawad.municipality) == (date(1987, 12, 27), "kleve")
        # Transliteration-tolerant search works on the migrated data, too.
        assert [h.display_name for h in find_clients(ctx, "Borissow")] == ["Borisov, Georgi"]

        with vault.reading() as session:
            assert audit.verify(session, ctx.audit_key) == []
        assert vault.check_integrity() == []
    finally:
        vault.close()
