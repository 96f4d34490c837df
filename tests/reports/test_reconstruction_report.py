"""The Fallrekonstruktion PDF (Beispiel 5): diagram labels, obstacle, legend and theme read back
from the PDF, and nothing of the client in it; the Fallbesprechung protocol; the CLI."""

from __future__ import annotations

import argparse
import dataclasses
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reconstructions import reconstruction_detail
from kimdesk.casework.coordination.reviews import (
    NextStepInput,
    ReviewDraft,
    ReviewOutcome,
    prepare_review,
    record_outcome,
)
from kimdesk.config import PASSWORD_ENV
from kimdesk.reports import commands
from kimdesk.reports.reconstruction import (
    reconstruction_pdf,
    reconstruction_report,
    review_protocol_pdf,
)
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


def _printed_texts(pdf: bytes, page_number: int) -> list[tuple[str, float, float, float]]:
    """(text, printed size in points, x, y) of every text on a page, from the text and
    transformation matrices as a viewer applies them."""
    page = PdfReader(io.BytesIO(pdf)).pages[page_number]
    found: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object,
              font_size: float) -> None:
        if text.strip():
            vertical = tm[2] * cm[1] + tm[3] * cm[3]
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), font_size * abs(vertical), x, y))

    page.extract_text(visitor_text=visit)
    return found


def test_the_diagram_prints_its_labels_at_8_pt_on_a_page_of_its_own(
        ctx: Context, chain: Example5Coordination, tmp_path: Path) -> None:
    detail = reconstruction_detail(ctx, chain.reconstruction.id)
    # A chain as users draw it: one actor dragged far to the right and down.
    far = {"id": "far", "label": "Ausländerbehörde", "kind": "institution",
           "x": 3000.0, "y": 2000.0}
    wide = dataclasses.replace(detail, actors=[*detail.actors, far], relations=[
        *detail.relations, {"id": "r-far", "source": "far", "target": detail.actors[0]["id"],
                            "kind": "precondition", "label": "Aufenthaltstitel"}])
    for name, pdf in (("beispiel5", reconstruction_pdf(ctx, chain.reconstruction.id)),
                      ("weit", reconstruction_report(ctx, wide))):
        reader = PdfReader(io.BytesIO(pdf))
        number = next(i for i, page in enumerate(pages(pdf))
                      if page.startswith("Kreis Kleve") and "Dienstleistungskette" in page
                      and ACTORS[0]["label"] in page)
        box = reader.pages[number].mediabox
        assert float(box.width) > float(box.height)  # landscape
        printed = _printed_texts(pdf, number)
        labels = {a["label"] for a in ACTORS} | {OBSTACLE}
        if name == "weit":
            labels |= {"Ausländerbehörde", "Aufenthaltstitel"}
        on_page = [t for t in printed if t[0] in labels or any(
            part and part in t[0] for label in labels for part in label.split())]
        for label in labels:
            assert any(label.split()[0] in t[0] for t in on_page), (name, label)
        for text_, size, x, y in on_page:
            assert size >= 8.0, (name, text_, size)
            assert 0 <= x <= float(box.width) and 0 <= y <= float(box.height), (name, text_)
        # The diagram uses the page: its labels spread over more than half the page height.
        ys = [y for _t, _s, _x, y in on_page]
        assert max(ys) - min(ys) > float(box.height) / 2 - 60, (name, max(ys) - min(ys))
        target = tmp_path / f"{name}.pdf"
        target.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(number + 1), "-l",
                        str(number + 1), str(target), f"/tmp/kimdesk-shots/dienstleistungskette-"
                        f"{name}"], check=True, timeout=60)


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
