"""The two ways back in after a forgotten password: the printed recovery code and the county's
recovery key. Both set a new password; a wrong code or key opens nothing and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kimdesk.vault import VaultError, WrongPassword, keys, open_vault
from kimdesk.vault.store import HEADER_FILE, open_with_county_key, open_with_recovery_code
from tests.vault.support import (
    NAMES,
    NEW_PASSWORD,
    PASSWORD,
    ProbeTemplate,
    make_probe_vault,
    read_probe,
    sha256,
)


def _as_typed(code: str) -> str:
    """The code as someone types it from paper: lower case, spaces, letter O for zero, l for one."""
    return code.lower().replace("-", " ").replace("0", "o").replace("1", "l")


def _assert_new_password_only(vault_dir: Path) -> None:
    with pytest.raises(WrongPassword):
        open_vault(vault_dir, PASSWORD)
    with open_vault(vault_dir, NEW_PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)


def test_the_printed_code_as_typed_opens_the_vault_and_sets_a_new_password(
    vault_dir: Path, probe_template: ProbeTemplate
) -> None:
    code = probe_template.recovery_code
    assert len(code) == 32 and code.count("-") == 6  # 26 characters in groups of four
    typed = _as_typed(code)

    vault, new_code = open_with_recovery_code(vault_dir, typed, NEW_PASSWORD)
    with vault:
        assert read_probe(vault) == list(NAMES)
    _assert_new_password_only(vault_dir)
    # The used code was typed somewhere: it is replaced by a new one, which works in its place.
    assert new_code != code and keys.is_well_formed_recovery_code(new_code)
    with pytest.raises(WrongPassword, match="Wiederherstellungscode ist nicht richtig"):
        open_with_recovery_code(vault_dir, code, "Dritter-Versuch-Hanselaer")
    open_with_recovery_code(vault_dir, new_code, "Dritter-Versuch-Hanselaer")[0].close()


def test_a_code_pasted_with_typographic_dashes_works(
    vault_dir: Path, probe_template: ProbeTemplate
) -> None:
    pasted = probe_template.recovery_code.replace("-", " – ")
    open_with_recovery_code(vault_dir, pasted, NEW_PASSWORD)[0].close()
    _assert_new_password_only(vault_dir)


def test_the_code_still_works_after_the_password_was_changed(
    vault_dir: Path, probe_template: ProbeTemplate
) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.change_password(PASSWORD, "Zwischenzeit-Passwort-1")
    open_with_recovery_code(vault_dir, probe_template.recovery_code, NEW_PASSWORD)[0].close()
    _assert_new_password_only(vault_dir)


@pytest.mark.parametrize(
    "wrong_code",
    ["another well-formed code", "ABCD-EFGH", "Wiśniewska", ""],
)
def test_a_wrong_code_is_refused_and_changes_nothing(
    vault_dir: Path, probe_template: ProbeTemplate, wrong_code: str
) -> None:
    if wrong_code == "another well-formed code":
        wrong_code = keys.new_recovery_code()
        assert wrong_code != probe_template.recovery_code
    header_before = sha256(vault_dir / HEADER_FILE)
    with pytest.raises(WrongPassword, match="Wiederherstellungscode ist nicht richtig"):
        open_with_recovery_code(vault_dir, wrong_code, NEW_PASSWORD)
    assert sha256(vault_dir / HEADER_FILE) == header_before
    open_vault(vault_dir, PASSWORD).close()


# --- the county's recovery key ----------------------------------------------------------------


def test_the_county_key_restores_access_with_a_new_password(
    vault_dir: Path, probe_template: ProbeTemplate
) -> None:
    # County IT keeps the private key as PEM; the laptop was set up with the public one.
    pem = probe_template.county_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    county_key = keys.load_private_key_pem(pem)

    vault, _new_code = open_with_county_key(vault_dir, county_key, NEW_PASSWORD)
    with vault:
        assert read_probe(vault) == list(NAMES)
    _assert_new_password_only(vault_dir)
    # The new DB key is sealed for the county again: the key still works after the re-key.
    open_with_county_key(vault_dir, county_key, "Dritter-Versuch-Hanselaer")[0].close()


def test_another_private_key_is_refused(vault_dir: Path) -> None:
    header_before = sha256(vault_dir / HEADER_FILE)
    with pytest.raises(WrongPassword, match="passt nicht"):
        open_with_county_key(vault_dir, X25519PrivateKey.generate(), NEW_PASSWORD)
    assert sha256(vault_dir / HEADER_FILE) == header_before
    open_vault(vault_dir, PASSWORD).close()


def test_a_vault_made_without_county_key_says_so(tmp_path: Path) -> None:
    make_probe_vault(tmp_path / "vault")
    with pytest.raises(VaultError, match="keinen Wiederherstellungsschlüssel"):
        open_with_county_key(tmp_path / "vault", X25519PrivateKey.generate(), NEW_PASSWORD)


def test_the_county_public_key_is_read_from_pem() -> None:
    private = X25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert keys.load_public_key_pem(pem) == private.public_key()
