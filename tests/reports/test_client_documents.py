"""Documents for the Ratsuchende in her language, and Arabic script in every PDF: read back with
poppler's pdftotext (logical order, as search and copy see it) and pypdf (embedded fonts)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from kimdesk.casework import clients, consents
from kimdesk.casework.context import Context
from kimdesk.config import PASSWORD_ENV
from kimdesk.errors import ValidationError
from kimdesk.reports import client_documents as docs
from kimdesk.reports import commands, layout
from kimdesk.reports.personal import auskunft, zielvereinbarung
from kimdesk.reports.shaping import RtlParagraph, visual
from tests.factories import PASSWORD
from tests.reports.pdftext import fonts, poppler_text, text
from tests.reports.report_builders import CLIENT_FIRST, CLIENT_LAST, CaseFile

PRINTED = date(2026, 12, 2)
# Names with lām-alif ligatures (صلاح, بلال, علاء), the Allah ligature (عبد الله) and Persian
# letters (پ, ژ, گ): each must come back letter for letter in reading order.
ARABIC_FIRST, ARABIC_LAST = "صلاح الدين", "عبد الله"
NAMES = ("بلال علاء", "محمد عبد الرحمن", "گلناز پژمان")
ZWNJ = "\u200c"


def _arabic_client(ctx: Context) -> str:
    client = clients.create_client(
        ctx,
        clients.ClientInput(first_name=ARABIC_FIRST, last_name=ARABIC_LAST, gender="male",
                            birth_date=date(1988, 4, 9), nationality="SY",
                            languages="Arabisch, Kurdisch", interpreter_language="Arabisch",
                            municipality="kleve"),
        consent=consents.ConsentInput(given_on=date(2026, 1, 12)),
    )
    return client.id


def _font_names(pdf: bytes) -> set[str]:
    return {str(font["/BaseFont"]).split("+")[-1] for font in fonts(pdf)}


def test_an_arabic_name_reads_back_in_logical_order_in_any_pdf(
        ctx: Context, tmp_path: Path) -> None:
    client_id = _arabic_client(ctx)
    name = f"{ARABIC_FIRST} {ARABIC_LAST}"
    for pdf in (auskunft(ctx, client_id), docs.einwilligung(ctx, client_id, "de")):
        read = poppler_text(pdf, tmp_path)
        assert name in read
        assert name[::-1] not in read  # the old output: letters in drawing order
        # Shaped: drawn as presentation forms (joined letters), embedded in Noto Sans Arabic.
        assert "NotoSansArabic-Regular" in _font_names(pdf)
    inline = [layout.para(f"Name: {other} (Kleve)") for other in NAMES]
    read = poppler_text(layout.render(layout.DocumentInfo("Test", "Team 1 Nord", PRINTED),
                                      inline), tmp_path)
    for other in NAMES:
        assert f"{other}" in read


def test_arabic_is_drawn_in_joined_forms_right_to_left() -> None:
    shaped = visual("محمد")
    # Initial mīm, medial ḥā', medial mīm, final dāl, stored for drawing right to left.
    assert shaped == "\ufeaa\ufee4\ufea4\ufee3"
    assert visual("Kleve (محمد)", rtl=False) == "Kleve (" + shaped + ")"


def test_a_long_rtl_paragraph_wraps_in_reading_order(tmp_path: Path) -> None:
    sentence = docs.load_texts("ar").get("datenschutzinfo", "rights")
    style = layout.styles().body
    story = [RtlParagraph(sentence, style)]
    info = layout.DocumentInfo("Test", "Team 1 Nord", PRINTED)
    pdf = layout.render(info, story)
    assert story[0].height >= 3 * style.leading  # three lines or more
    read = poppler_text(pdf, tmp_path)
    # Word order is what counts; poppler puts a comma or bracket next to the following word.
    words = re.sub(r"[^\w\s]", "", sentence).split()
    found = re.sub(r"[^\w\s]", "", read).split()
    start = found.index(words[0])
    assert found[start:start + len(words)] == words


@pytest.mark.parametrize("code", sorted(docs.LANGUAGES))
def test_every_language_prints_both_documents_with_its_title(code: str, tmp_path: Path) -> None:
    texts = docs.load_texts(code)
    sheet = docs.datenschutzinfo_pdf(code, team="Team 1 Nord", printed_on=PRINTED)
    form = docs.einwilligung_pdf(code, team="Team 1 Nord", printed_on=PRINTED)
    for pdf, document in ((sheet, "datenschutzinfo"), (form, "einwilligung")):
        read = poppler_text(pdf, tmp_path)
        assert docs.load_texts("de").get(document, "title") in read
        # (poppler leaves out the zero-width non-joiner of Persian words such as داده‌ها)
        assert " ".join(texts.get(document, "title").replace(ZWNJ, "").split()) in read
        if code == "de":
            assert docs.REVIEW_MARK not in read
        else:
            assert docs.REVIEW_MARK in read  # marked until a Sprachmittler:in has checked it
            assert texts.german_name in read
    assert "Landesbeauftragte für Datenschutz" in poppler_text(sheet, tmp_path)
    if texts.rtl:
        assert "NotoSansArabic-Regular" in _font_names(sheet)


def test_translations_are_complete_translated_and_marked() -> None:
    german = docs.load_texts("de")
    assert set(docs.LANGUAGES) >= {"ar", "uk", "ru", "tr", "fa", "pl", "ro", "bg", "en", "fr"}
    for code in docs.LANGUAGES:
        texts = docs.load_texts(code)  # raises if a key is missing
        if code == "de":
            continue
        assert texts.review == docs.REVIEW_MARK
        source = (docs.TEXT_DIRECTORY / f"{code}.toml").read_text(encoding="utf-8")
        assert docs.REVIEW_MARK in source
        for document, keys in docs.DOCUMENT_KEYS.items():
            for key in ("title", "intro") if "intro" in keys else ("title", "who"):
                assert texts.get(document, key) != german.get(document, key), (code, key)
        assert texts.rtl == (code in {"ar", "fa"})


def test_language_from_the_record_or_named(ctx: Context, case_file: CaseFile) -> None:
    assert docs.language_code("Arabisch") == "ar"
    assert docs.language_code("Dari") == "fa"
    assert docs.language_code("uk") == "uk"
    with pytest.raises(ValidationError, match="keine Übersetzung"):
        docs.language_code("Klingonisch")
    form = docs.einwilligung(ctx, case_file.client_id)  # "Polnisch, Rumänisch, Deutsch (A2)"
    read = text(form)
    assert "Zgoda i zwolnienie z obowiązku zachowania tajemnicy" in read
    # Her recorded release is named (German, as recorded), not the blank list.
    assert "Anerkennungsberatung IQ Niederrhein" in read
    assert "Anerkennungsverfahren" in read
    assert "Ausländerbehörde" not in read


def test_polish_and_romanian_names_still_print(ctx: Context, case_file: CaseFile,
                                               tmp_path: Path) -> None:
    form = docs.einwilligung(ctx, case_file.client_id, "ro")
    for read in (text(form), poppler_text(form, tmp_path)):
        assert f"{CLIENT_FIRST} {CLIENT_LAST}" in read  # Łucja Wiśniewska-Ștefănescu
        assert "Consimțământ și scutire de obligația de confidențialitate" in read  # ț ș ă
    assert _font_names(form) == {"DejaVuSans", "DejaVuSans-Bold"}


def test_zielvereinbarung_has_a_bilingual_frame_and_german_goals(
        ctx: Context, case_file: CaseFile, tmp_path: Path) -> None:
    german = zielvereinbarung(ctx, case_file.case_id)
    arabic = zielvereinbarung(ctx, case_file.case_id, language="ar")
    read = poppler_text(arabic, tmp_path)
    for fixed in ("اتفاق الأهداف", "صاحب الطلب", "حتى متى", "Zielvereinbarung",
                  "Handlungsschritt (was)", docs.REVIEW_MARK):
        assert fixed in read
    german_read = text(german)
    assert "اتفاق" not in poppler_text(german, tmp_path)
    # The goals stay German (Łucja's goal, as recorded).
    goal = "Berufsabschluss als Lehrerin anerkennen lassen"
    assert goal in german_read and goal in read
    english = text(zielvereinbarung(ctx, case_file.case_id, language="en"))
    assert "Goal agreement" in english and "Next joint review on" in english


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kimdesk")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_cli_writes_the_documents_only_where_asked(
        ctx: Context, case_file: CaseFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    arabic_id = _arabic_client(ctx)
    ctx.vault.close()
    data_dir = tmp_path / "copy"
    shutil.copytree(ctx.vault.data_dir, data_dir)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    vault = ["--data-dir", str(data_dir)]
    sheet = tmp_path / "info.pdf"
    assert run(["report", "datenschutzinfo", "--sprache", "ar", *vault,
                "--out", str(sheet)]) == 0
    assert "معلومات عن حماية البيانات" in poppler_text(sheet.read_bytes(), tmp_path)
    form = tmp_path / "form.pdf"
    assert run(["report", "einwilligung", "--client", arabic_id, *vault,
                "--out", str(form)]) == 0  # Arabic from her record
    read = poppler_text(form.read_bytes(), tmp_path)
    assert f"{ARABIC_FIRST} {ARABIC_LAST}" in read and "الموافقة والإعفاء" in read
    goals = tmp_path / "z.pdf"
    assert run(["report", "zielvereinbarung", "--case", case_file.case_id, "--sprache", "tr",
                *vault, "--out", str(goals)]) == 0
    assert "Hedef anlaşması" in text(goals.read_bytes())
    assert "gespeichert" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        run(["report", "datenschutzinfo", "--sprache", "xx", *vault, "--out", str(sheet)])
    assert exited.value.code == 2
    assert "keine Übersetzung" in capsys.readouterr().err


def test_pdftotext_is_installed() -> None:
    # The reading-order checks need poppler-utils (scripts/install-system-deps.sh).
    assert subprocess.run(["pdftotext", "-v"], capture_output=True, check=False).returncode == 0


def test_an_rtl_paragraph_longer_than_a_page_continues_on_the_next(tmp_path: Path) -> None:
    words = docs.load_texts("ar").get("datenschutzinfo", "voluntary").replace(".", "").split()
    count = len(words) * 60
    # Each word numbered from 10000 on (five digits: not to be confused with dates or pages).
    numbered = " ".join(f"{word} {10000 + index}" for index, word in enumerate(words * 60))
    pdf = layout.render(layout.DocumentInfo("Test", "Team 1 Nord", PRINTED),
                        [RtlParagraph(numbered, layout.styles().body)])
    pages = poppler_text(pdf, tmp_path)
    assert "Seite 2 von" in pages
    # Every numbered word exactly once and in order: nothing lost or repeated at the break.
    found = [int(n) - 10000 for n in re.findall(r"(?<!\d)1\d{4}(?!\d)", pages)]
    assert found == list(range(count))
