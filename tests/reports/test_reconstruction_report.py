"""The Fallrekonstruktion PDF (Beispiel 5): diagram labels, obstacle, legend and theme read back
from the PDF, and nothing of the client in it; the Fallbesprechung protocol; the CLI."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reviews import (
    NextStepInput,
    ReviewDraft,
    ReviewOutcome,
    prepare_review,
    record_outcome,
)
from kimdesk.config import PASSWORD_ENV
from kimdesk.reports import commands
from kimdesk.reports.reconstruction import reconstruction_pdf, review_protocol_pdf
from tests.coordination_builders import (
    ACTORS,
    GOAL,
    LIFE_AREAS,
    OBSTACLE,
    THEME,
    Example5Coordination,
    build_example5,
)
from tests.factories import PASSWORD, TODAY
from tests.reports.pdftext import fonts, metadata, pages, text


@pytest.fixture
def chain(ctx: Context) -> Example5Coordination:
    return build_example5(ctx)


def _assert_no_client_data(chain: Example5Coordination, pdf_text: str) -> None:
    folded = pdf_text.casefold()
    for secret in (*chain.example.secrets, "Kilicarslan", "2004", "Kleve, Lindenallee"):
        assert secret.casefold() not in folded, secret


def test_the_whole_reconstruction_with_its_diagram(ctx: Context,
                                                  chain: Example5Coordination) -> None:
    pdf = reconstruction_pdf(ctx, chain.reconstruction.id)

    content = text(pdf)
    assert content.startswith("Kreis Kleve")
    assert f"Zielsetzung {GOAL}" in content
    for area in LIFE_AREAS:
        assert area["area"] in content
        for topic in area["topics"]:
            assert topic in content
    diagram_page = next(page for page in pages(pdf) if "Dienstleistungskette" in page)
    for actor in ACTORS:
        assert actor["label"] in diagram_page, actor["label"]
    assert OBSTACLE in diagram_page
    for legend in ("Einrichtung", "Person", "Angebot/Maßnahme", "Zusammenarbeit",
                   "Voraussetzung", "Hindernis", "Wechselwirkung"):
        assert legend in diagram_page
    assert f"Hindernis zwischen und {OBSTACLE} Kita/Kindertagespflege berufsvorbereitende " \
           "Maßnahme" in content
    assert f"1. {THEME}" in content
    assert "Arbeitsauftrag: Projektgruppe mit Jobcenter" in content
    assert "personenbezogene Daten" not in content.split("enthält keine")[-1]  # no footer mark
    _assert_no_client_data(chain, content)
    assert metadata(pdf)["/Title"] == "Fallrekonstruktion"
    assert {str(f.get("/BaseFont")).split("+")[-1] for f in fonts(pdf)} <= {
        "KIMdesk-DejaVuSans", "KIMdesk-DejaVuSans-Bold", "DejaVuSans", "DejaVuSans-Bold"}


def test_an_empty_reconstruction_still_prints(ctx: Context) -> None:
    from kimdesk.casework.coordination.reconstructions import (
        ReconstructionInput,
        create_reconstruction,
    )
    empty = create_reconstruction(ctx, ReconstructionInput(title="Noch leer"))

    content = text(reconstruction_pdf(ctx, empty.id))

    assert "Keine Akteure erfasst." in content
    assert "Noch keine generativen Themen formuliert." in content


def test_the_review_protocol(ctx: Context, chain: Example5Coordination) -> None:
    review = prepare_review(ctx, chain.example.case.id, ReviewDraft(
        occasion="Wie kann Frau A. trotz fehlender Kinderbetreuung an der Maßnahme teilnehmen?",
        network="Jobcenter, Kita", held_on=TODAY, tags=["need_childcare"]))
    record_outcome(ctx, review.id, ReviewOutcome(
        "Kindertagespflege als Übergang prüfen.",
        [NextStepInput("Kindertagespflege anfragen", "Case Managerin", TODAY,
                       goal_id=chain.example.goal.id)]))

    content = text(review_protocol_pdf(ctx, review.id))

    for expected in ("Protokoll der Fallbesprechung", "Frau A. (Ratsuchende, 18–26 Jahre)",
                     "Anlass und Fragestellung an das Team", "Kindertagespflege anfragen",
                     "Handlungsschritt", "Bedarf: Kinderbetreuung",
                     "Kind 1 (Tochter, 0–13 Jahre)"):
        assert expected in content, expected
    _assert_no_client_data(chain, content)


# --- command line -----------------------------------------------------------------------------


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kimdesk")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_report_reconstruction_command(ctx: Context, chain: Example5Coordination,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    review = prepare_review(ctx, chain.example.case.id, ReviewDraft("Frage an das Team"))
    ctx.vault.close()
    data_dir = tmp_path / "copy"
    shutil.copytree(ctx.vault.data_dir, data_dir)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    out = tmp_path / "rekonstruktion.pdf"

    assert _run(["report", "reconstruction", "--data-dir", str(data_dir), "--id",
                 chain.reconstruction.id, "--out", str(out)]) == 0
    assert THEME in text(out.read_bytes())
    assert "Fallrekonstruktion gespeichert" in capsys.readouterr().out
    protocol = tmp_path / "protokoll.pdf"
    assert _run(["report", "fallbesprechung", "--data-dir", str(data_dir), "--id", review.id,
                 "--out", str(protocol)]) == 0
    assert "Frage an das Team" in text(protocol.read_bytes())

    missing = tmp_path / "fehlt.pdf"
    assert _run(["report", "reconstruction", "--data-dir", str(data_dir), "--id", "0" * 32,
                 "--out", str(missing)]) == 1
    assert capsys.readouterr().err.strip() == (
        "Fehler: Die Fallrekonstruktion wurde nicht gefunden (vielleicht schon gelöscht).")
    assert not missing.exists()
