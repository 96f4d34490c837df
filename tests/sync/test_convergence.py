"""Property: 3–5 devices of a team making random edits, deletes and syncs in random orders end
with identical vault contents once everyone has synced (DESIGN.md "Merge").

Each history runs on copies of a prepared team (server database + five enrolled, confirmed
vaults), through the real server app, real encryption and the casework use cases.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kimdesk.casework.clients import update_client
from kimdesk.casework.context import Context
from kimdesk.casework.documents import add_attachment, delete_attachment
from kimdesk.casework.profile import context_for
from kimdesk.casework.retention import purge_client
from kimdesk.errors import KimdeskError
from kimdesk.models import Attachment, Case, Client
from kimdesk.reference import load_reference
from kimdesk.vault import open_vault
from tests.conftest import long_profile
from tests.factories import CM, PASSWORD, SHORT, TODAY, Clock, make_case, make_contact, make_person
from tests.sync.devices import USERS, open_device, snapshot
from tests.sync.team import Team, sqlite_url

DEVICES = 5
# Split in two tests so both xdist workers share the histories: 500 with the long Hypothesis
# profile (CI's separate run, see tests/conftest.py), 2 x 30 in `make test` (about 4 minutes
# less). Rare interleavings need the long run: with the merge that stamped its own time put
# back, 30 random histories did not find it (two seeds); the explicit example below pins it in
# every run. KIMDESK_SYNC_EXAMPLES sets the count per test outright.
EXAMPLES_PER_TEST = int(os.environ.get("KIMDESK_SYNC_EXAMPLES")
                        or (250 if long_profile() else 30))

FIRST_NAMES = ("Oksana", "Mehmet", "Zofia", "Amina", "Dariusz", "Ayşe", "Yusuf", "Liudmyla")
LAST_NAMES = ("Shevchenko", "Yılmaz", "Wiśniewska", "Haddad", "Kowalczyk", "Öztürk", "Nasser")
MUNICIPALITIES = ("kleve", "emmerich", "goch", "geldern")


@pytest.fixture(scope="module")
def prepared_team(template_vault: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A server database and five enrolled, confirmed, closed device vaults."""
    root = tmp_path_factory.mktemp("prepared-team")
    (root / "server").mkdir()
    reference = load_reference()
    clock = Clock(TODAY)
    team = Team(sqlite_url(root / "server"), statistics=False)
    try:
        for index in range(DEVICES):
            ctx = open_device(template_vault, root / f"device-{index}", USERS[index],
                              reference, clock)
            team.join(ctx)
        team.sync_all()
    finally:
        for ctx in team.members:
            ctx.vault.close()
        team.close()
    return root


@dataclasses.dataclass
class World:
    team: Team
    devices: list[Context]


def _open_world(prepared: Path, folder: Path, count: int) -> World:
    shutil.copytree(prepared, folder, dirs_exist_ok=True)
    reference = load_reference()
    clock = Clock(TODAY)
    devices = []
    for index in range(count):
        vault = open_vault(folder / f"device-{index}", PASSWORD)
        devices.append(dataclasses.replace(context_for(vault, reference), clock=clock))
    team = Team(sqlite_url(folder / "server"), existing=True, statistics=False)
    team.members = devices
    return World(team, devices)


@pytest.fixture
def world_factory(prepared_team: Path) -> Iterator:
    opened: list[tuple[World, tempfile.TemporaryDirectory]] = []

    def make(count: int) -> World:
        folder = tempfile.TemporaryDirectory(prefix="kimdesk-history-")
        world = _open_world(prepared_team, Path(folder.name), count)
        opened.append((world, folder))
        return world

    yield make
    for world, folder in opened:
        for ctx in world.devices:
            ctx.vault.close()
        world.team.close()
        folder.cleanup()


# --- operations ------------------------------------------------------------------------------

pick = st.integers(min_value=0, max_value=1000)
operation = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(FIRST_NAMES), st.sampled_from(LAST_NAMES)),
    st.tuples(st.just("edit"), pick, st.sampled_from(["phone", "languages", "notes"]),
              st.sampled_from(["0151 1111", "0151 2222", "Arabisch", "Polnisch", "", "neu"])),
    st.tuples(st.just("move"), pick, st.sampled_from(MUNICIPALITIES)),
    st.tuples(st.just("case"), pick, st.sampled_from([SHORT, CM])),
    st.tuples(st.just("contact"), pick),
    st.tuples(st.just("attach"), pick, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("detach"), pick),
    st.tuples(st.just("purge"), pick),
    st.tuples(st.just("sync"),),
)


def _ids(ctx: Context, model: type) -> list[str]:
    with ctx.vault.reading() as session:
        return sorted(session.scalars(select(model.id)))


def _choose(ids: list[str], index: int) -> str | None:
    return ids[index % len(ids)] if ids else None


def _perform(world: World, device: int, op: tuple) -> None:
    ctx = world.devices[device]
    kind = op[0]
    if kind == "sync":
        world.team.sync(ctx)
        return
    if kind == "create":
        make_person(ctx, first_name=op[1], last_name=op[2], consent=True, allow_duplicate=True)
        return
    model = {"contact": Case, "detach": Attachment}.get(kind, Client)
    target = _choose(_ids(ctx, model), op[1])
    if target is None:
        return
    try:
        if kind == "edit":
            update_client(ctx, target, {op[2]: op[3]})
        elif kind == "move":
            update_client(ctx, target, {"municipality": op[2]})
        elif kind == "case":
            with ctx.vault.reading() as session:
                client = session.get(Client, target)
            make_case(ctx, client, op[2])
        elif kind == "contact":
            with ctx.vault.reading() as session:
                case = session.get(Case, target)
            make_contact(ctx, case)
        elif kind == "attach":
            add_attachment(ctx, target, "Bescheid.pdf", op[2])
        elif kind == "detach":
            delete_attachment(ctx, target)
        elif kind == "purge":
            with ctx.vault.writing() as session:
                purge_client(session, target)
    except KimdeskError:
        pass  # the use case refused (e.g. a session limit): a history may contain that


def _documents(ctx: Context) -> dict[str, bytes]:
    return {attachment_id: ctx.vault.attachments.get(attachment_id)
            for attachment_id in _ids(ctx, Attachment)}


histories = st.integers(min_value=3, max_value=DEVICES).flatmap(
    lambda count: st.tuples(
        st.just(count),
        st.lists(st.tuples(st.integers(0, count - 1), operation), min_size=1, max_size=30)))


def _run(world_factory, history) -> None:
    count, steps = history
    world = world_factory(count)
    for device, op in steps:
        _perform(world, device, op)
    world.team.sync_all(rounds=2)
    first = world.devices[0]
    expected = snapshot(first.vault)
    expected_documents = _documents(first)
    for other in world.devices[1:]:
        assert snapshot(other.vault) == expected
        assert _documents(other) == expected_documents


_SETTINGS = settings(max_examples=EXAMPLES_PER_TEST, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture])


# Found by CI: a merge that updated a field let the model stamp updated_at with the merge's own
# time, so the devices' rows differed in it.
MERGE_STAMPED_ITS_OWN_TIME = (4, [
    (1, ("create", "Oksana", "Shevchenko")), (0, ("create", "Oksana", "Shevchenko")),
    (0, ("move", 96, "kleve")), (0, ("contact", 335)), (0, ("move", 505, "kleve")),
    (0, ("sync",)), (0, ("detach", 484)), (1, ("edit", 451, "notes", "Polnisch")),
    (0, ("case", 483, SHORT)), (3, ("sync",)), (1, ("contact", 237)),
    (1, ("case", 217, SHORT)), (2, ("contact", 326)), (0, ("move", 255, "emmerich")),
    (1, ("purge", 0)), (1, ("contact", 604)), (3, ("contact", 349)),
    (3, ("move", 0, "kleve")), (3, ("case", 32, CM)), (3, ("create", "Liudmyla", "Öztürk")),
    (2, ("contact", 326)), (1, ("case", 631, SHORT)), (1, ("move", 180, "kleve"))])


@pytest.mark.slow
@_SETTINGS
@given(history=histories)
@example(history=MERGE_STAMPED_ITS_OWN_TIME)
def test_devices_converge_first_half(world_factory, history):
    _run(world_factory, history)


@pytest.mark.slow
@_SETTINGS
@given(history=histories)
def test_devices_converge_second_half(world_factory, history):
    _run(world_factory, history)
