"""The vault's owner: set once at `kimdesk init`, read by every use case for team and name."""

from __future__ import annotations

from sqlalchemy import select

from kimdesk.casework import search
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import VaultProfile, new_id
from kimdesk.models.enums import Role
from kimdesk.reference import Reference, load_reference
from kimdesk.vault import Vault


def create_profile(vault: Vault, user_name: str, team: str, *, role: str = Role.CASE_MANAGER,
                   fte: float = 1.0, reference: Reference | None = None) -> VaultProfile:
    reference = reference or load_reference()
    user_name = user_name.strip()
    if not user_name:
        raise ValidationError("Bitte einen Namen für die Benutzerin/den Benutzer angeben.",
                              "user_name")
    if team not in {t.code for t in reference.teams}:
        known = ", ".join(t.code for t in reference.teams)
        raise ValidationError(f"Unbekanntes Team „{team}“ (möglich: {known}).", "team")
    if role not in {r.value for r in Role}:
        raise ValidationError("Unbekannte Rolle.", "role")
    if not 0 < fte <= 1:
        raise ValidationError("Der Stellenanteil (VZÄ) liegt zwischen 0 und 1.", "fte")
    with vault.writing() as session:
        if session.scalar(select(VaultProfile)) is not None:
            raise KimdeskError("Dieser Datentresor hat bereits ein Profil.")
        profile = VaultProfile(user_name=user_name, team=team, role=role, fte=fte,
                               device_id=new_id(), created_by=user_name, updated_by=user_name)
        session.add(profile)
        search.rebuild_index(session)  # marks the (empty) index as made by today's folding
        return profile


def load_profile(vault: Vault) -> VaultProfile:
    with vault.reading() as session:
        profile: VaultProfile | None = session.scalar(select(VaultProfile))
    if profile is None:
        raise KimdeskError("Der Datentresor hat noch kein Profil (kimdesk init).")
    return profile


def context_for(vault: Vault, reference: Reference | None = None) -> Context:
    """The context of the vault's owner, as the UI and the CLI use it."""
    profile = load_profile(vault)
    search.ensure_index_current(vault)
    return Context(vault=vault, user=profile.user_name, team=profile.team,
                   reference=reference or load_reference())
