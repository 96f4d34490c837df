"""Command line of the county scope (issue 15): ``kimdesk kreis einrichten`` creates the
Kreis-Tresor of a coordinator's vault, ``kimdesk kreis weitergeben erkenntnis|fallrekonstruktion
ID`` releases a team record into it. The sync commands reach the Kreis-Tresor with ``--kreis``
(``kimdesk enrol --kreis``, ``kimdesk sync --kreis``, ``kimdesk devices --kreis``); see
docs/sync.md, "County scope"."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kimdesk.casework import county
from kimdesk.casework.context import Context
from kimdesk.cli_toolkit import add_vault_arguments, opened_context, run_guarded, vault_dir
from kimdesk.errors import KimdeskError
from kimdesk.sync.offline import require_lease


@contextmanager
def opened_county_context(args: argparse.Namespace, *, past_the_lease: bool = False
                          ) -> Iterator[Context]:
    """The Kreis-Tresor of the vault the arguments name (opened with the team vault's
    password); both are closed afterwards. Its own offline lease applies as the team vault's
    does (see :func:`kimdesk.cli_toolkit.open_vault_for`)."""
    with opened_context(args, past_the_lease=past_the_lease) as team_ctx:
        county_ctx = county.open_county_context(team_ctx, vault_dir(args))
        if county_ctx is None:
            raise KimdeskError("Dieser Datentresor hat keinen Kreis-Tresor "
                               "(kimdesk kreis einrichten).")
        try:
            if not past_the_lease:
                require_lease(county_ctx.vault)
            yield county_ctx
        finally:
            county_ctx.vault.close()


def _set_up(args: argparse.Namespace) -> str:
    with opened_context(args) as team_ctx:
        county.create_county_vault(team_ctx, vault_dir(args))
    return (f"Kreis-Tresor eingerichtet in {county.county_vault_dir(vault_dir(args))}; er öffnet "
            "sich mit dem Passwort dieses Datentresors.\nNächster Schritt: mit einem Einmal-Code "
            "der Kreis-IT für das Team „kreis“ anmelden: kimdesk enrol --kreis --code CODE")


def _release(args: argparse.Namespace) -> str:
    with opened_context(args) as team_ctx:
        county_ctx = county.open_county_context(team_ctx, vault_dir(args))
        if county_ctx is None:
            raise KimdeskError("Dieser Datentresor hat keinen Kreis-Tresor "
                               "(kimdesk kreis einrichten).")
        try:
            if args.what == "erkenntnis":
                county.release_finding(team_ctx, county_ctx, args.id)
                what = "Die Erkenntnis"
            else:
                county.release_reconstruction(team_ctx, county_ctx, args.id)
                what = "Die Fallrekonstruktion"
        finally:
            county_ctx.vault.close()
    return (f"{what} ist an den Kreis weitergegeben; sie erreicht die Koordination beim "
            "nächsten Abgleich (kimdesk sync --kreis).")


def register(commands: Any) -> None:
    kreis = commands.add_parser(
        "kreis", help="Kreis-Tresor der Koordination: einrichten, an den Kreis weitergeben",
        description="Der Kreis-Tresor hält die kreisweiten Koordinationsdaten (Erkenntnisse, "
                    "Fallrekonstruktionen, generative Themen, Projektgruppen, Lenkungsgruppe) "
                    "getrennt von den Falldaten des Teams. Abgleich mit „kimdesk sync --kreis“.")
    actions = kreis.add_subparsers(dest="action", title="Aktion", metavar="AKTION",
                                   required=True)
    set_up = actions.add_parser(
        "einrichten", help="den Kreis-Tresor dieses Datentresors anlegen (nur Koordination)",
        description="Legt neben dem Datentresor des Teams den Kreis-Tresor an; er öffnet sich "
                    "mit demselben Passwort.")
    add_vault_arguments(set_up)
    set_up.set_defaults(handler=run_guarded(_set_up))
    release = actions.add_parser(
        "weitergeben", help="eine Erkenntnis oder Fallrekonstruktion an den Kreis weitergeben",
        description="Prüft die Texte erneut auf persönliche Angaben und übernimmt sie in den "
                    "Kreis-Tresor; erneutes Weitergeben aktualisiert die Fassung des Kreises.")
    release.add_argument("what", choices=["erkenntnis", "fallrekonstruktion"], metavar="ART",
                         help="erkenntnis oder fallrekonstruktion")
    release.add_argument("id", metavar="ID", help="Kennung im Datentresor des Teams")
    add_vault_arguments(release)
    release.set_defaults(handler=run_guarded(_release))
