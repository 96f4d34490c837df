"""Shared fixtures: a migrated template vault per session, copied for every test.

Creating a vault runs the migrations (and Argon2id); copying a closed one is much cheaper, so the
template is built once per test session (per xdist worker) and each test gets its own copy,
as Anki's ``getEmptyCol`` does.
"""

from __future__ import annotations

import os

# Before anything can import Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import compileall
import dataclasses
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.reference import load_reference
from kimdesk.vault import Vault
from tests.factories import TODAY, Clock, make_template_vault, vault_copy
from tests.server.support import INSTALL_HINT, PostgresCluster, postgres_bin_dir
from tests.sync.team import Team, sqlite_url

# Hypothesis profiles (issue 17). "default" is what `make test` runs: the slow properties (the
# sync convergence histories, the merge orders) with enough examples to catch the bugs they were
# written for, so the whole suite stays under 12 minutes on two cores. "long" runs them with the
# full counts (500 convergence histories): CI runs it separately,
#   HYPOTHESIS_PROFILE=long .venv/bin/pytest -n 2 -q -m slow tests/sync
# (or `--hypothesis-profile=long`). Tests read the profile's name through `long_profile()`.
LONG_PROFILE = "long"
settings.register_profile(LONG_PROFILE, settings.get_profile("default"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "default")


GC_YOUNG_THRESHOLD = 7000


def pytest_configure(config: pytest.Config) -> None:
    """Tune the garbage collector of each test process; byte-compile kimdesk and the test
    helpers once, before any worker starts.

    With PYTHONDONTWRITEBYTECODE set (as on the team's machines) Python never writes a .pyc, so
    every test worker, every `kimdesk` subprocess and every vault opened (Alembic loads each
    migration file by path) compiled the same sources again (~18 ms per vault opened, ~0.1 s
    per `kimdesk` process). compileall writes the missing or stale ones into the checkout's
    ``__pycache__`` folders (ignored by git); Python checks each against its source's time
    stamp, so an edit is never run stale."""
    # Fewer young collections: with Python's default of 700 the objects a test keeps for its
    # whole run (sessions, rows, vault objects) were promoted so fast that the collector walked
    # the whole heap of a long test process ~30 times per 600 tests (a sixth of the CPU time of
    # tests/casework). Collection still runs; garbage cycles just wait a little longer.
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has compiled
        return
    root = Path(__file__).resolve().parents[1]
    for folder in ("kimdesk", "tests"):
        compileall.compile_dir(root / folder, quiet=1)


def long_profile() -> bool:
    """True when the suite runs with the long Hypothesis profile."""
    return settings.get_current_profile_name() == LONG_PROFILE


@pytest.fixture(scope="session")
def template_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed, migrated vault with the profile of Anna Becker (Team Nord)."""
    return make_template_vault(tmp_path_factory.mktemp("template") / "vault")


@pytest.fixture
def clock() -> Clock:
    """The day the use cases see; tests move it with ``clock.today = ...``."""
    return Clock(TODAY)


@pytest.fixture
def vault(template_vault: Path, tmp_path: Path) -> Iterator[Vault]:
    """A fresh copy of the template vault, closed after the test."""
    with vault_copy(template_vault, tmp_path / "vault") as opened:
        yield opened


@pytest.fixture
def ctx(vault: Vault, clock: Clock) -> Context:
    """The vault owner's context, as the UI and the CLI build it, on the fixed day ``TODAY``."""
    return dataclasses.replace(context_for(vault, load_reference()), clock=clock)


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    """Team Nord on a county server (in-process app) with its own SQLite database."""
    folder = tmp_path / "server"
    folder.mkdir()
    made = Team(sqlite_url(folder))
    yield made
    made.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real PostgreSQL for the session (initdb + pg_ctl in a temporary directory), shared by
    the server, county and transfer tests; each test makes its own database in it. Missing
    binaries fail with a hint instead of skipping: CI must test both databases."""
    if postgres_bin_dir() is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    cluster = PostgresCluster()
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    try:
        yield cluster
    finally:
        cluster.stop()
