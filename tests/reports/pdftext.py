"""Reading PDFs back in tests: text per page with whitespace collapsed, and font checks."""

from __future__ import annotations

import io
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
