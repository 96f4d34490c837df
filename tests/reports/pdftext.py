"""Reading PDFs back in tests: text per page with whitespace collapsed (pypdf, or poppler's
pdftotext for right-to-left script), and font checks."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def pages(pdf: bytes) -> list[str]:
    """The text of every page, whitespace collapsed (line breaks inside cells become spaces)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def text(pdf: bytes) -> str:
    return " ".join(pages(pdf))


def fonts(pdf: bytes) -> list[dict[str, Any]]:
    """The font dictionaries used on all pages (with their descriptors resolved)."""
    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, dict[str, Any]] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            found[str(font.get("/BaseFont"))] = font
    return list(found.values())


def metadata(pdf: bytes) -> dict[str, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {key: str(value) for key, value in (reader.metadata or {}).items()}


def poppler_text(pdf: bytes, directory: Path) -> str:
    """The text as ``pdftotext`` (poppler) reads it, whitespace collapsed: unlike pypdf it puts
    right-to-left script back into logical (reading) order, as a PDF viewer's search does."""
    source = directory / "read.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(source), "-"],
                            capture_output=True, check=True, timeout=60)
    # pdftotext marks right-to-left runs with embedding controls (U+202A..U+202E); drop them.
    plain = result.stdout.decode("utf-8").translate(dict.fromkeys(range(0x202A, 0x202F)))
    return " ".join(plain.split())
