"""The county view: three teams' devices upload their protected tables, the coordination reads
the county back from the server (real server app, real enrolment, real vaults)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kimdesk import config
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError
from kimdesk.reports import commands as report_commands
from kimdesk.reports.statistics import statistics_report
from kimdesk.server import admin
from kimdesk.stats import commands as stats_commands
from kimdesk.stats import exports
from kimdesk.stats.county import BASIS, build_county
from kimdesk.stats.scope import Period, Scope, ScopeKind
from kimdesk.sync import client, statistics
from kimdesk.sync.client import SyncClient
from kimdesk.sync.statistics import fetch_county
from tests.factories import PASSWORD
from tests.reports.pdftext import text
from tests.server.support import ServerProcess
from tests.stats.stats_builders import CaseSpec, populate
from tests.sync.team import ROOT_PUBLIC, Team, certify_coordinator, sqlite_url

NOVEMBER = Period("2026-11", "2026-11")  # the devices' clock: 25 November 2026
OPENED = 22  # November 2026 as a month offset of stats_builders


def test_the_county_view_sums_the_uploads_of_three_teams(
        devices: Callable[..., list[Context]], tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    nord_device, sued_device, mitte_device = (
        devices(1, team=team)[0] for team in ("nord", "sued", "mitte"))
    cases = {"nord": ("kleve", 8), "sued": ("geldern", 11), "mitte": ("goch", 14)}
    teams: list[Team] = []
    try:
        for (code, (kommune, number)), ctx in zip(cases.items(),
                                                  (nord_device, sued_device, mitte_device),
                                                  strict=True):
            populate(ctx.vault, ctx.reference, [
                CaseSpec(kind="process_support", municipality=kommune, opened=OPENED)
                for _ in range(number)])
            team = Team(url, code, existing=False)
            teams.append(team)
            team.join(ctx)  # the first device of a team: its coordinator; syncs and uploads
        uploaded = {code: {(c["municipality"], c["dimension"], c["value"], c["measure"]):
                           c["count"] for c in statistics.month_cells(ctx, "2026-11")}
                    for code, ctx in zip(cases, (nord_device, sued_device, mitte_device),
                                         strict=True)}

        data = fetch_county(nord_device, teams[0].http, NOVEMBER, Scope.county())
        county = build_county(data, nord_device.reference, Scope.county(),
                              nord_device.today())
        by_team = county.figure("kreis_cases_by_team")
        expected = {code: uploaded[code][(kommune, "case_kind", "process_support", "new")]
                    for code, (kommune, _n) in cases.items()}
        for code, (_kommune, number) in cases.items():
            assert by_team.cell(code, "new") == expected[code]
            assert abs(expected[code] - number) <= 4  # protected: within the noise
            assert by_team.cell(code, "open_at_end") == expected[code]
        assert by_team.cell("total", "new") == sum(expected.values())
        assert county.figure("kreis_cases_by_case_kind").cell(
            "process_support", "new") == sum(expected.values())
        assert by_team.cell("welcome", "new") == 0
        # Labelled with the data basis and each team's last upload.
        notes = " ".join(county.notes)
        assert "Kreisserver" in county.scope_label and "Kreisserver" in notes
        for name in ("Team 1 Nord", "Team 3 Mitte", "Team 4 Süd"):
            assert f"{name}: zuletzt übermittelt am" in notes, name
        assert "keine Übermittlung für diesen Zeitraum" in notes  # Ost, Welcome-Center

        csv_text = exports.to_csv(county).decode("utf-8-sig")
        assert "kreis_cases_by_team" in csv_text
        pdf = text(statistics_report(nord_device, county, basis=BASIS))
        assert "Kreisserver" in pdf and "zuletzt übermittelt" in pdf

        # A case manager sees her own team only.
        member = devices(1, team="sued")[0]
        teams[1].join(member)
        with pytest.raises(KimdeskError, match="nur die Koordination"):
            fetch_county(member, teams[1].http, NOVEMBER, Scope.county())
        own = fetch_county(member, teams[1].http, NOVEMBER, Scope(ScopeKind.TEAM, "sued"))
        assert {c.team for c in own.cells} == {"sued"}
    finally:
        for team in teams:
            team.close()


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kimdesk")
    subparsers = parser.add_subparsers(dest="command", required=True)
    stats_commands.register(subparsers)
    report_commands.register(subparsers)
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_the_cli_reads_the_county_from_the_server(
        devices: Callable[[int], list[Context]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    code, _ = admin.issue_code(db, "nord", "Anna Becker", coordinator=True)
    db.dispose()
    [ctx] = devices(1)
    populate(ctx.vault, ctx.reference, [
        CaseSpec(kind="process_support", municipality="kleve", opened=OPENED)
        for _ in range(12)])
    server = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            client.enrol(ctx, http, server_url=server.url, code=code, device_name="Laptop",
                         root_public=ROOT_PUBLIC)
            db = admin.open_database(url)
            certify_coordinator(db, ctx)
            db.dispose()
            SyncClient(ctx, http).run()
        data_dir = ctx.vault.data_dir
        ctx.vault.close()
        monkeypatch.setenv(config.PASSWORD_ENV, PASSWORD)
        period = ["--data-dir", str(data_dir), "--from", "2026-11", "--to", "2026-11",
                  "--quelle", "kreis"]
        csv_file, pdf_file = tmp_path / "kreis.csv", tmp_path / "kreis.pdf"
        assert _run(["export", "statistik", *period, "--out", str(csv_file)]) == 0
        assert _run(["report", "statistik", *period, "--out", str(pdf_file)]) == 0
    finally:
        server.stop()
    exported = csv_file.read_bytes().decode("utf-8-sig")
    assert "kreis_cases_by_team" in exported and "Kreisserver" in exported
    pdf = text(pdf_file.read_bytes())
    assert "Kreisserver" in pdf and "Team 1 Nord: zuletzt übermittelt am" in pdf
