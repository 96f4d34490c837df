"""Issue 14, item 9: the main window at a real 150 % scaling on a 1366×768 laptop. One
subprocess (QT_SCALE_FACTOR=1.5, offscreen) renders every screen at 1366×728 device pixels from
a vault with Beispiel 5 in it; no screen may scroll sideways or cut a widget off at the right.
The vault's owner is a coordinator with a Kreis-Tresor (issue 15): the scope switch and "An den
Kreis weitergeben" are on Koordination, and the Kreis scope's tabs are rendered too.

PNGs: ``/tmp/kimdesk-shots/render150-<screen>.png`` (or ``KIMDESK_SCREENSHOTS``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from kimdesk.casework import county
from kimdesk.models import VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY
from tests.coordination_builders import build_example5_case
from tests.factories import PASSWORD, context_on_copy

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/kimdesk-shots"))
ROOT = Path(__file__).resolve().parents[2]
SCREENS = {"heute", "ratsuchende", "netzwerk", "datenschutz", "statistik", "koordination",
           "akte", "fall", "fall-intake", "fall-assessment", "fall-planning", "fall-linking",
           "koordination-erkenntnisse", "koordination-fallrekonstruktionen",
           "koordination-projektgruppen", "koordination-lenkungsgruppe",
           "koordination-kommunen", "kreis-erkenntnisse", "kreis-fallrekonstruktionen",
           "kreis-projektgruppen", "kreis-lenkungsgruppe"}


def test_every_screen_fits_1366x768_at_150_percent(template_vault: Path, tmp_path: Path
                                                    ) -> None:
    with context_on_copy(template_vault, tmp_path / "vault") as ctx:
        example = build_example5_case(ctx)
        with ctx.vault.writing() as session:
            session.info[LOCAL_ONLY] = True
            session.scalars(select(VaultProfile)).one().role = "coordinator"
        county.create_county_vault(ctx, tmp_path / "vault")
    env = dict(os.environ, QT_SCALE_FACTOR="1.5", QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT))
    env.pop("QT_SCREEN_SCALE_FACTORS", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.render_at_150", str(tmp_path / "vault"), PASSWORD,
         str(SHOTS), example.client.id, example.case.id],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ratio"] == 1.5
    assert set(report["screens"]) == SCREENS
    problems = {name: screen["findings"] for name, screen in report["screens"].items()
                if screen["findings"]}
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
    for screen in report["screens"].values():
        assert Path(screen["png"]).exists()
        assert abs(screen["device"][0] - 1366) <= 2 and abs(screen["device"][1] - 728) <= 2
