"""Back into a vault after a forgotten password, and password changes with a new key.

The use cases the lock screen and the CLI share. A recovery (printed code or the county's
private key, on the laptop itself, never over the network) always re-keys the vault: the old
password, old copies of the header, backups and the used code stop working, and the caller
shows the new recovery code once. The new password must pass the strength check, with the
vault owner's name counted as easy to guess.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from kimdesk.casework.profile import load_profile
from kimdesk.vault import Vault
from kimdesk.vault.passwords import check_password_policy
from kimdesk.vault.store import unlock_with_county_key, unlock_with_recovery_code


def _reset(vault: Vault, new_password: str,
           county_public_key: X25519PublicKey | None) -> tuple[Vault, str]:
    try:
        user = load_profile(vault).user_name
        code = vault.reset_password(new_password, user_inputs=[user],
                                    county_public_key=county_public_key)
    except BaseException:
        vault.close()
        raise
    return vault, code


def recover_with_code(data_dir: Path, code: str, new_password: str, *,
                      county_public_key: X25519PublicKey | None = None) -> tuple[Vault, str]:
    """Open with the printed recovery code and set ``new_password`` (and a new key).

    Returns the open vault and the new recovery code. A wrong code or a weak password changes
    nothing. ``county_public_key`` (the installation profile's) is added or kept on the vault.
    """
    check_password_policy(new_password)  # the cheap part first; the name is checked inside
    return _reset(unlock_with_recovery_code(data_dir, code), new_password, county_public_key)


def recover_with_county_key(data_dir: Path, private_key: X25519PrivateKey, new_password: str,
                            *, county_public_key: X25519PublicKey | None = None
                            ) -> tuple[Vault, str]:
    """County IT: open with the county's private recovery key and set ``new_password``."""
    check_password_policy(new_password)
    return _reset(unlock_with_county_key(data_dir, private_key), new_password, county_public_key)


def change_password(vault: Vault, old_password: str, new_password: str, *, rekey: bool = False,
                    county_public_key: X25519PublicKey | None = None) -> str | None:
    """A new password for the open vault; with ``rekey`` a new key, returning the new code."""
    user = load_profile(vault).user_name
    return vault.change_password(old_password, new_password, user_inputs=[user], rekey=rekey,
                                 county_public_key=county_public_key)
