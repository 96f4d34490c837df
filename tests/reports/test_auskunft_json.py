"""The Auskunft speaks German only (no table or field names), names where the data came from,
and has a machine-readable companion (Art. 20 DSGVO) that validates against its documented
schema; `kimdesk report auskunft --format json` writes it."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reviews import (
    ReviewDraft,
    ReviewOutcome,
    prepare_review,
    record_outcome,
)
from kimdesk.config import PASSWORD_ENV
from kimdesk.reports import commands
from kimdesk.reports.auskunft_data import auskunft_json
from kimdesk.reports.personal import auskunft
from tests.factories import PASSWORD, TODAY
from tests.reports.json_schema import problems
from tests.reports.pdftext import text
from tests.reports.report_builders import CLIENT_LAST, CaseFile

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "auskunft.schema.json")
                    .read_text(encoding="utf-8"))
# What an internal name looks like: snake_case words (case_reviews, next_steps, data_processing).
INTERNAL_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def _review_of(ctx: Context, case_file: CaseFile) -> None:
    """A Fallbesprechung whose outcome is recorded on the client's trail with the fields
    ``advice`` and ``next_steps`` of the table ``case_reviews``."""
    review = prepare_review(ctx, case_file.case_id, ReviewDraft("Wie weiter mit der Kita?",
                                                                held_on=TODAY))
    record_outcome(ctx, review.id, ReviewOutcome("Kindertagespflege als Übergang prüfen"))


def test_the_auskunft_shows_no_internal_names(ctx: Context, case_file: CaseFile) -> None:
    _review_of(ctx, case_file)

    content = text(auskunft(ctx, case_file.client_id))

    assert "Fallbesprechung" in content
    assert "Empfehlungen des Teams, nächste Schritte" in content
    assert INTERNAL_NAME.findall(content.replace("\n", " ")) == []
    assert "Herkunft der Daten" in content
    # Her case came through the Jobcenter; the rest she told the case manager herself.
    assert "Über Jobcenter (Zugangsweg des Falls vom 12.01.2026)" in content
    assert "von Ihnen selbst in den Gesprächen" in content


def test_the_json_companion_validates_against_the_documented_schema(
        ctx: Context, case_file: CaseFile) -> None:
    _review_of(ctx, case_file)

    document = json.loads(auskunft_json(ctx, case_file.client_id))

    assert problems(document, SCHEMA) == []
    assert document["person"]["last_name"] == CLIENT_LAST
    assert document["person"]["birth_date"] == "1990-03-14"
    assert {s["kind"] for s in document["sources"]} == {"institution", "self"}
    assert [c["kind"]["label"] for c in document["cases"]] == [
        "Rechtskreisübergreifendes Case Management"]
    assert (document["access_log"][-1]["action"], document["access_log"][-1]["area"]) == (
        "exportiert", "Stammdaten")
    every_label = json.dumps([document["access_log"], document["sources"]], ensure_ascii=False)
    assert INTERNAL_NAME.findall(every_label) == []


def test_the_schema_check_rejects_a_broken_document(ctx: Context,
                                                    case_file: CaseFile) -> None:
    document = json.loads(auskunft_json(ctx, case_file.client_id))
    document["person"]["birth_date"] = "14.03.1990"
    document["sources"].append({"kind": "rumour", "text": "?"})
    del document["access_log"]

    assert len(problems(document, SCHEMA)) == 3


def test_the_command_writes_the_json(ctx: Context, case_file: CaseFile, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ctx.vault.close()
    data_dir = tmp_path / "copy"
    shutil.copytree(ctx.vault.data_dir, data_dir)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    out = tmp_path / "auskunft.json"
    parser = argparse.ArgumentParser(prog="kimdesk")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", "auskunft", "--data-dir", str(data_dir), "--client",
                              case_file.client_id, "--format", "json", "--out", str(out)])

    assert args.handler(args) == 0

    assert "als JSON (Art. 20 DSGVO) gespeichert" in capsys.readouterr().out
    assert problems(json.loads(out.read_text(encoding="utf-8")), SCHEMA) == []
    assert oct(out.stat().st_mode & 0o777) == "0o600"
