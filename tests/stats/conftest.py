"""Fixtures for the statistics tests (builders live in stats_builders.py)."""

from __future__ import annotations

import pytest

from kimdesk.casework.context import Context


class QuietContext:
    """The test's context with a short repr: Hypothesis prints the arguments of a failing
    example, and a Context prints all the reference data. (Not a dataclass: Hypothesis
    pretty-prints dataclasses field by field.)"""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __repr__(self) -> str:
        return "QuietContext(ctx)"


@pytest.fixture
def quiet_ctx(ctx: Context) -> QuietContext:
    return QuietContext(ctx)
