"""Tests for `kimdesk export statistik`: output files, exit codes, one German line on errors."""

from __future__ import annotations

import argparse
import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from kimdesk import config
from kimdesk.casework.context import Context
from kimdesk.reference import load_reference
from kimdesk.stats import commands
from tests.factories import PASSWORD
from tests.stats.stats_builders import CaseSpec, populate

REF = load_reference()


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kimdesk")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def data_dir(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A closed copy of the test vault with some cases; its password in the environment."""
    populate(ctx.vault, REF, [CaseSpec(opened=13) for _ in range(6)])
    ctx.vault.close()
    target = tmp_path / "copy"
    shutil.copytree(ctx.vault.data_dir, target)
    monkeypatch.setenv(config.PASSWORD_ENV, PASSWORD)
    return target


def test_export_csv_and_xlsx(data_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "statistik.csv"
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--format", "csv", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "exportiert" in capsys.readouterr().out
    out = tmp_path / "statistik.xlsx"  # format from the file name
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--team", "nord", "--out", str(out)]) == 0
    workbook = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert workbook["Daten"]["E2"].value == "Team 1 Nord"
    assert (out.stat().st_mode & 0o777) == 0o600


def test_usage_errors_exit_2(data_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["export", "statistik", "--data-dir", str(data_dir), "--from", "März",
             "--to", "2026-06", "--out", str(tmp_path / "x.csv")])
    assert exited.value.code == 2
    assert "JJJJ-MM" in capsys.readouterr().err
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-06",
                "--to", "2026-01", "--out", str(tmp_path / "x.csv")]) == 2
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--team", "west", "--out", str(tmp_path / "x.csv")]) == 2
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--out", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err
    assert "Unbekanntes Team „west“" in err and "--format" in err
    assert not (tmp_path / "x.csv").exists()


def test_runtime_errors_exit_1_with_one_line(data_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(config.PASSWORD_ENV, "falsches-Passwort-123")
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--out", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Passwort" in err and "Traceback" not in err
    monkeypatch.setenv(config.PASSWORD_ENV, PASSWORD)
    assert run(["export", "statistik", "--data-dir", str(data_dir), "--from", "2026-01",
                "--to", "2026-06", "--out", str(tmp_path / "missing" / "x.csv")]) == 1
    assert "konnte nicht geschrieben werden" in capsys.readouterr().err
