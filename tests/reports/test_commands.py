"""Tests for `kimdesk report ...`: PDFs only where --out says, exit codes, German errors."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from kimdesk.casework.context import Context
from kimdesk.config import PASSWORD_ENV
from kimdesk.reports import commands
from tests.factories import PASSWORD
from tests.reports.pdftext import text
from tests.reports.report_builders import CLIENT_LAST, CaseFile


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kimdesk")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def data_dir(ctx: Context, case_file: CaseFile, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    ctx.vault.close()
    target = tmp_path / "copy"
    shutil.copytree(ctx.vault.data_dir, target)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return target


def test_each_document(data_dir: Path, case_file: CaseFile, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    vault = ["--data-dir", str(data_dir)]
    for argv, name, expected in (
        (["zielvereinbarung", "--case", case_file.case_id], "z.pdf", "Zielvereinbarung"),
        (["zielvereinbarung", "--case", case_file.case_id, "--client", case_file.member_id],
         "m.pdf", "Sprachkurs B1"),
        (["auskunft", "--client", case_file.client_id], "a.pdf", "Art. 15 DSGVO"),
        (["fall", "--case", case_file.case_id], "f.pdf", "Fallübersicht"),
        (["statistik", "--from", "2026-01", "--to", "2026-06"], "s.pdf", "Statistikbericht"),
    ):
        out = tmp_path / name
        assert run(["report", *argv, *vault, "--out", str(out)]) == 0
        assert expected in text(out.read_bytes())
        assert "gespeichert" in capsys.readouterr().out
    assert CLIENT_LAST not in text((tmp_path / "s.pdf").read_bytes())


def test_errors(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.pdf"
    assert run(["report", "fall", "--data-dir", str(data_dir), "--case", "0" * 32,
                "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "Fehler: Der Fall wurde nicht gefunden (vielleicht schon gelöscht)."
    assert not out.exists()
    assert run(["report", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-02", "--kommune", "amsterdam", "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as exited:
        run(["report", "auskunft", "--data-dir", str(data_dir), "--out", str(out)])
    assert exited.value.code == 2
