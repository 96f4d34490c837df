"""The county scope (issue 15): the Kreis-Tresor, a vault of its own for county-wide coordination.

A coordinator's laptop holds, next to the team vault, a second normal KIMdesk vault in
``<data_dir>/kreis/``: the *Kreis-Tresor*. Its profile names the team ``kreis``; it is enrolled
in the team ``kreis`` on the county server like any team vault, so the team key of ``kreis`` is
the county coordination key (HPKE envelopes to the ``kreis`` member devices, epochs, rotation on
revocation: the sync code as it is). It holds only county-scope coordination data: Erkenntnisse
and anonymised Fallrekonstruktionen a team coordinator released, generative Themen,
Projektgruppen, the Lenkungsgruppe, Kommunale Vereinbarungen and structural activities. It has
no client, case, contact, document or consent row, and a guard on its database connection
refuses any write of such a table (:class:`CountyScopeError`): nothing of a case can ever be
synced under the county key, by construction rather than by a routing rule.

One password unlocks both: the Kreis-Tresor's password is a 256-bit secret derived from the
team vault's own derivation root (see :func:`_county_password`), so it never has to be typed,
stored in a file or synced, and whoever can open the team vault (password, recovery code,
county recovery key) can open the Kreis-Tresor, and nobody else.

Releases ("An den Kreis weitergeben") copy a team finding or reconstruction into the Kreis-Tresor
after the pseudonymisation checks ran again against every person of the team vault; a refused
release names the field to rewrite and changes nothing. Releasing again updates the county copy:
what the county knows is what a coordinator released.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.casework.common import add_recorded, load, update_recorded
from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for, load_profile
from kimdesk.casework.pseudonymise import VaultChecker
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import (
    Case,
    CaseReconstruction,
    Client,
    Finding,
    GenerativeTheme,
    Household,
    VaultProfile,
    new_id,
)
from kimdesk.models.changelog import SYNCED_TABLES
from kimdesk.models.enums import Role
from kimdesk.vault import KdfParams, Vault, create_vault, open_vault
from kimdesk.vault.changes import written_table
from kimdesk.vault.store import vault_exists

COUNTY_TEAM = "kreis"  # the team of the county scope on the county server
COUNTY_DIR = "kreis"  # the Kreis-Tresor's folder inside the team vault's data folder

# The synced tables of the county scope. Every other synced table holds case data and is
# refused in a Kreis-Tresor; device-local tables (audit trail, profile, sync bookkeeping) are
# written as in any vault. conflict_resolutions records how a sync conflict of a county record
# was resolved.
COUNTY_TABLES: frozenset[str] = frozenset({
    "findings", "case_reconstructions", "generative_themes", "project_groups",
    "steering_members", "steering_meetings", "steering_decisions", "municipal_agreements",
    "structural_activities", "conflict_resolutions",
})
CASE_TABLES: frozenset[str] = frozenset(SYNCED_TABLES) - COUNTY_TABLES

# What a refusal calls the case tables a write was aimed at (German, for the message).
_TABLE_LABELS = {
    "clients": "Personen", "households": "Haushalte", "relations": "Beziehungen",
    "cases": "Fälle", "contacts": "Kontakte", "consents": "Einwilligungen",
    "attachments": "Dokumente", "institutions": "Einrichtungen des Netzwerks",
    "case_reviews": "Fallbesprechungen", "appointments": "Termine",
}
_WRITE_VERBS = re.compile(r"^\s*(?:INSERT|REPLACE|UPDATE)\b", re.IGNORECASE)
_HEX_ID = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])")


class CountyScopeError(KimdeskError):
    """A write of case data into the Kreis-Tresor, or a county action on the wrong vault."""


class ReleaseRefused(ValidationError):
    """A release whose text still identifies a person; ``field`` names the field to rewrite."""


# --- the Kreis-Tresor -------------------------------------------------------------------------


def county_vault_dir(data_dir: Path) -> Path:
    """Where the Kreis-Tresor of the team vault in ``data_dir`` lives."""
    return Path(data_dir) / COUNTY_DIR


def has_county_vault(data_dir: Path) -> bool:
    return vault_exists(county_vault_dir(data_dir))


def remove_wiped_county_vault(data_dir: Path) -> bool:
    """Remove what is left of the Kreis-Tresor's folder after a revocation wiped it.

    The sync's wipe removes the header (with every wrapped key) first, then the database and
    the vault's own folders; the ``kreis`` folder itself and anything else in it stay. Without
    a header nothing in it can be opened again, so it goes as a whole: the laptop holds no
    trace of the county scope. A folder that still has a header is a Kreis-Tresor and is left
    alone (False).
    """
    folder = county_vault_dir(data_dir)
    if vault_exists(folder) or not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()


def is_county_context(ctx: Context) -> bool:
    """Whether ``ctx`` is the context of a Kreis-Tresor (its profile's team is ``kreis``)."""
    return ctx.team == COUNTY_TEAM


def _county_password(team_ctx: Context) -> str:
    """The Kreis-Tresor's password: 256 bits derived (HKDF) from the team vault's derivation
    root, a random key created with the team vault and kept wrapped in its header only.

    Nothing is stored or synced: the secret is device-local by construction, survives password
    changes and re-keys of the team vault (the derivation root is kept), and is recovered with
    the team vault by its recovery code or the county's recovery key.
    """
    return team_ctx.vault.derived_key("county vault password").hex()


def _fast_kdf() -> KdfParams:
    # Argon2id stretches guessable passwords; a 256-bit random secret cannot be guessed, so
    # cheap parameters cost nothing in security and keep opening the Kreis-Tresor instant.
    return KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)


def _require_team_coordinator(team_ctx: Context, action: str) -> None:
    if is_county_context(team_ctx):
        raise CountyScopeError("Das ist bereits der Kreis-Tresor; bitte den Datentresor des "
                               "Teams verwenden.")
    if load_profile(team_ctx.vault).role != Role.COORDINATOR:
        raise CountyScopeError(f"{action} kann nur die Koordination.")


def create_county_vault(team_ctx: Context, data_dir: Path) -> None:
    """Create the Kreis-Tresor of the team vault of ``team_ctx`` (in ``data_dir``/kreis).

    Only a coordinator's vault gets one. The Kreis-Tresor is a normal, empty vault whose
    profile names the team ``kreis``; enrol it with the county server (team ``kreis``) to
    share the county scope.
    """
    _require_team_coordinator(team_ctx, "Einen Kreis-Tresor einrichten")
    folder = county_vault_dir(data_dir)
    if vault_exists(folder):
        raise CountyScopeError("Für diesen Datentresor gibt es bereits einen Kreis-Tresor.")
    team_profile = load_profile(team_ctx.vault)
    vault, _recovery_code = create_vault(folder, _county_password(team_ctx), kdf=_fast_kdf())
    # The recovery code is not needed: the team vault's recovery opens the Kreis-Tresor too.
    try:
        with vault.writing() as session:
            session.add(VaultProfile(
                user_name=team_profile.user_name, team=COUNTY_TEAM, role=Role.COORDINATOR,
                fte=team_profile.fte, device_id=new_id(), created_by=team_profile.user_name,
                updated_by=team_profile.user_name))
            search.rebuild_index(session)
    except BaseException:
        vault.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    vault.close()


def open_county_context(team_ctx: Context, data_dir: Path) -> Context | None:
    """The context of this device's Kreis-Tresor, or None when it has none.

    Close it with ``ctx.vault.close()``. The vault refuses writes of case tables
    (:class:`CountyScopeError`) for as long as it is open.
    """
    folder = county_vault_dir(data_dir)
    if not vault_exists(folder):
        return None
    vault = open_vault(folder, _county_password(team_ctx))
    try:
        ctx = context_for(vault, team_ctx.reference)
        if not is_county_context(ctx):
            raise CountyScopeError("Der Datentresor im Ordner „kreis“ ist kein Kreis-Tresor.")
        guard_county_vault(vault)
    except BaseException:
        vault.close()
        raise
    return dataclasses.replace(ctx, clock=team_ctx.clock)


def guard_county_vault(vault: Vault) -> None:
    """Refuse, on the database connection itself, every insert or update of a case table.

    The check sits below the ORM, so the sync merge's Core statements are refused as well as
    any use case's flush; the enclosing transaction rolls back and nothing is written. It is
    bound to the vault's engine: a re-key of the Kreis-Tresor (never done by the app: its
    password is derived) makes a new engine, and the vault must be opened again to guard it.
    """
    event.listen(vault.engine, "before_cursor_execute", _refuse_case_writes)


def _refuse_case_writes(conn: Any, cursor: Any, statement: str, parameters: Any,
                        context: Any, executemany: bool) -> None:
    if not _WRITE_VERBS.match(statement):
        return
    table = written_table(statement)
    if table is not None and table in CASE_TABLES:
        what = _TABLE_LABELS.get(table, "Falldaten")
        raise CountyScopeError(
            f"Der Kreis-Tresor enthält nur kreisweite Koordinationsdaten; {what} werden dort "
            "nicht gespeichert. Es wurde nichts geändert.")


# --- releases ---------------------------------------------------------------------------------


class _ReleaseChecker:
    """The pseudonymisation checks of a release, against every person of the team vault, and
    no id of a person, household or case of it."""

    def __init__(self, team_ctx: Context, session: Session) -> None:
        self._checker = VaultChecker(team_ctx, session)
        self._ids: set[str] = set()
        for model in (Client, Household, Case):
            self._ids.update(session.scalars(select(model.id)))

    def check(self, text: str, field_name: str, label: str) -> str:
        # The ids first: a case id's digits also look like a file number to the general
        # checks, and the refusal should name what it is.
        if any(match.group().lower() in self._ids for match in _HEX_ID.finditer(text)):
            raise ReleaseRefused(
                f"Nicht an den Kreis weitergegeben: {label} enthält die Kennung einer Person "
                "oder eines Falls. Bitte entfernen.", field_name)
        try:
            return self._checker.check(text, field_name, label)
        except ValidationError as exc:
            raise ReleaseRefused(
                f"Nicht an den Kreis weitergegeben: {exc.message}", field_name) from None


def _require_county(county_ctx: Context) -> None:
    if not is_county_context(county_ctx):
        raise CountyScopeError("Weitergaben an den Kreis gehen nur in den Kreis-Tresor.")


def _release_into(county_ctx: Context, session: Session, model: type[Any], source_id: str,
                  team: str, values: dict[str, Any]) -> Any:
    """Create the county copy of ``source_id`` or update the one released before (the caller
    passes the county context acting as the releasing coordinator)."""
    copy = session.scalars(select(model).where(model.released_from == source_id)).first()
    values = {**values, "released_from": source_id, "released_team": team}
    if copy is None:
        return add_recorded(county_ctx, session, model(**values), release_of=team)
    changed = {k: v for k, v in values.items() if getattr(copy, k) != v}
    if changed:
        update_recorded(county_ctx, session, copy, changed)
    return copy


def release_finding(team_ctx: Context, county_ctx: Context, finding_id: str) -> str:
    """"An den Kreis weitergeben": copy a team finding into the Kreis-Tresor; returns the id of
    the county finding (the same one on a repeated release, then updated).

    Only a coordinator releases. The description is checked again against every person of the
    team vault; a refusal (:class:`ReleaseRefused`) names the field and changes nothing. The
    copy keeps Handlungsfeld (life area), barrier, institution type, Kommune, date, source kind
    and text; not the Fallbesprechung it came from. Its theme is the county copy of the team
    theme where that theme was released (with its reconstruction), else none.
    """
    _require_team_coordinator(team_ctx, "Erkenntnisse an den Kreis weitergeben")
    _require_county(county_ctx)
    with team_ctx.vault.reading() as session:
        finding = load(session, Finding, finding_id, "Die Erkenntnis")
        if finding.released_from is not None:
            raise CountyScopeError("Diese Erkenntnis stammt bereits aus dem Kreis.")
        checker = _ReleaseChecker(team_ctx, session)
        description = checker.check(finding.description, "description", "Die Beschreibung")
        values = {"noted_on": finding.noted_on, "source": finding.source,
                  "life_area": finding.life_area, "institution_type": finding.institution_type,
                  "barrier": finding.barrier, "municipality": finding.municipality,
                  "description": description}
        theme_id = finding.theme_id
    county_ctx = dataclasses.replace(county_ctx, user=team_ctx.user)  # the releasing author
    with county_ctx.vault.writing() as session:
        county_theme = (session.scalars(select(GenerativeTheme.id).where(
            GenerativeTheme.released_from == theme_id)).first() if theme_id else None)
        values["theme_id"] = county_theme
        copy = _release_into(county_ctx, session, Finding, finding_id, team_ctx.team, values)
        return str(copy.id)


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "source", "target", "kind", "x", "y"):
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def release_reconstruction(team_ctx: Context, county_ctx: Context,
                           reconstruction_id: str) -> str:
    """Copy an anonymised Fallrekonstruktion with its service chain and its generative themes
    into the Kreis-Tresor; returns the id of the county reconstruction.

    Every text (title, goal, life areas and topics, actors and relations of the service chain,
    each theme's statement and mandate) is checked as in :func:`release_finding`; a refusal
    names the field and nothing is released. A repeated release updates the county copies.
    """
    _require_team_coordinator(team_ctx, "Fallrekonstruktionen an den Kreis weitergeben")
    _require_county(county_ctx)
    with team_ctx.vault.reading() as session:
        reconstruction = load(session, CaseReconstruction, reconstruction_id,
                              "Die Fallrekonstruktion")
        if reconstruction.released_from is not None:
            raise CountyScopeError("Diese Fallrekonstruktion stammt bereits aus dem Kreis.")
        checker = _ReleaseChecker(team_ctx, session)
        checks: list[tuple[Any, str, str]] = [
            (reconstruction.title, "title", "Der Titel"),
            (reconstruction.goal, "goal", "Die Zielsetzung"),
            (reconstruction.life_areas, "life_areas", "Ein Lebensbereich oder Thema"),
            (reconstruction.actors, "actors", "Die Bezeichnung eines Akteurs"),
            (reconstruction.relations, "relations", "Die Bezeichnung einer Beziehung"),
        ]
        themes = list(session.scalars(select(GenerativeTheme).where(
            GenerativeTheme.reconstruction_id == reconstruction_id)
            .order_by(GenerativeTheme.created_at)))
        for theme in themes:
            checks += [(theme.statement, "statement", "Das generative Thema"),
                       (theme.mandate, "mandate", "Der Arbeitsauftrag")]
        for value, field_name, label in checks:
            for text in _texts(value):
                checker.check(text, field_name, label)
        values = {"title": reconstruction.title, "presented_on": reconstruction.presented_on,
                  "goal": reconstruction.goal, "life_areas": reconstruction.life_areas,
                  "actors": reconstruction.actors, "relations": reconstruction.relations}
        theme_values = [(t.id, {"statement": t.statement, "mandate": t.mandate})
                        for t in themes]
    county_ctx = dataclasses.replace(county_ctx, user=team_ctx.user)  # the releasing author
    with county_ctx.vault.writing() as session:
        copy = _release_into(county_ctx, session, CaseReconstruction, reconstruction_id,
                             team_ctx.team, values)
        for theme_id, theme_texts in theme_values:
            _release_into(county_ctx, session, GenerativeTheme, theme_id, team_ctx.team,
                          {**theme_texts, "reconstruction_id": copy.id})
        return str(copy.id)


def released_copies(county_ctx: Context) -> dict[str, str]:
    """Team record id → county record id of everything released into this Kreis-Tresor."""
    found: dict[str, str] = {}
    with county_ctx.vault.reading() as session:
        for model in (Finding, CaseReconstruction, GenerativeTheme):
            for source, county_id in session.execute(select(
                    model.released_from, model.id).where(model.released_from.is_not(None))):
                if source is not None:
                    found[source] = county_id
    return found


def _local_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone().date()


def _released_on(county_ctx: Context, model: Any) -> dict[str, date]:
    """Team record id → the (local) day its copy was last released: a repeated release updates
    the copy, so the copy's ``updated_at`` is the day of the last one."""
    with county_ctx.vault.reading() as session:
        rows = session.execute(select(model.released_from, model.updated_at).where(
            model.released_from.is_not(None))).all()
    return {str(source): _local_day(moment) for source, moment in rows if source is not None}


def released_findings(county_ctx: Context) -> dict[str, date]:
    """Team finding id → the (local) day it was last given to the Kreis."""
    return _released_on(county_ctx, Finding)


def released_reconstructions(county_ctx: Context) -> dict[str, date]:
    """Team Fallrekonstruktion id → the (local) day it was last given to the Kreis."""
    return _released_on(county_ctx, CaseReconstruction)
