"""Fixtures for the PDF tests: a client file with names in Polish, Romanian and Turkish."""

from __future__ import annotations

import pytest

from kimdesk.casework.context import Context
from tests.reports.report_builders import CaseFile, build_case_file


@pytest.fixture
def case_file(ctx: Context) -> CaseFile:
    return build_case_file(ctx)
