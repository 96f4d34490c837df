"""Password quality: zxcvbn's estimate, explained in German, refuses guessable passwords when a
vault is created, its password changed or reset after a recovery; the demo vault is the one
explicit exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimdesk.errors import ValidationError
from kimdesk.vault import KdfParams, create_vault, open_vault
from kimdesk.vault.passwords import check_password_policy, estimate_strength
from kimdesk.vault.store import HEADER_FILE, open_with_recovery_code, vault_exists
from tests.vault.support import PASSWORD, ProbeTemplate, sha256

USER = "Anna Schmidt"
WEAK = ["aaaaaaaaaa", "passwort12", "Passwort123!", "Kennwort2026", "qwertzuiop",
        "1234567890", "kleve-kleve-kleve", "AnnaSchmidt", "annaschmidt1986"]


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_with_a_german_reason(password: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_password_policy(password, user_inputs=[USER])
    assert info.value.field == "password"
    message = info.value.message
    assert message.startswith("Das Passwort ist zu leicht zu erraten. Passwortstärke:")
    assert password not in message, "the message must not repeat the password"
    assert not any(word in message for word in ("guess", "Avoid", "password", "common"))


def test_the_explanation_names_the_weakness() -> None:
    assert "Wiederholungen" in estimate_strength("aaaaaaaaaa").explanation()
    assert "Ihren Namen" in estimate_strength("AnnaSchmidt1986", [USER]).explanation()
    assert "sehr stark" in estimate_strength("Niersufer-Goch-2026").explanation()


@pytest.mark.parametrize("password", [PASSWORD, "Schenkenschanz-1586!", "Fahrrad Wolke Kompass"])
def test_good_passwords_pass(password: str) -> None:
    check_password_policy(password, user_inputs=[USER])


def test_a_password_made_of_the_name_passes_without_the_name_but_not_with_it() -> None:
    check_password_policy("Schmidt-Anna-1986", user_inputs=[])  # looks random to zxcvbn
    with pytest.raises(ValidationError, match="Ihren Namen"):
        check_password_policy("Schmidt-Anna-1986", user_inputs=[USER])


def test_create_refuses_a_weak_password_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="zu leicht zu erraten"):
        create_vault(tmp_path / "vault", "passwort12", kdf=KdfParams.for_tests())
    with pytest.raises(ValidationError, match="Ihren Namen"):
        create_vault(tmp_path / "vault", "AnnaSchmidt77", kdf=KdfParams.for_tests(),
                     user_inputs=[USER])
    assert not vault_exists(tmp_path / "vault")


def test_the_demo_vault_may_use_its_fixed_weak_password(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        check_password_policy("demo-passwort")
    vault, _code = create_vault(tmp_path / "demo", "demo-passwort", kdf=KdfParams.for_tests(),
                                allow_weak_password=True)
    vault.close()
    open_vault(tmp_path / "demo", "demo-passwort").close()
    # The length rule holds even there.
    with pytest.raises(ValidationError, match="mindestens 10"):
        create_vault(tmp_path / "kurz", "demo", kdf=KdfParams.for_tests(),
                     allow_weak_password=True)


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "passwort12"])
def test_change_and_recovery_refuse_weak_passwords_and_change_nothing(
    vault_dir: Path, probe_template: ProbeTemplate, weak: str
) -> None:
    before = sha256(vault_dir / HEADER_FILE)
    with open_vault(vault_dir, PASSWORD) as vault, pytest.raises(ValidationError):
        vault.change_password(PASSWORD, weak)
    with open_vault(vault_dir, PASSWORD) as vault, pytest.raises(ValidationError):
        vault.change_password(PASSWORD, "AnnaSchmidt77", user_inputs=[USER], rekey=True)
    with pytest.raises(ValidationError):
        open_with_recovery_code(vault_dir, probe_template.recovery_code, weak)
    assert sha256(vault_dir / HEADER_FILE) == before
    open_vault(vault_dir, PASSWORD).close()
