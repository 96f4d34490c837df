"""The vault header: any alteration is refused with a clear VaultError, never with a traceback
of another kind and never by opening a vault whose header someone changed."""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimdesk.vault import VaultCorrupted, VaultError, WrongPassword, open_vault
from kimdesk.vault.header import read_header
from kimdesk.vault.store import HEADER_FILE, open_with_county_key, open_with_recovery_code
from tests.vault.support import NAMES, NEW_PASSWORD, PASSWORD, ProbeTemplate, read_probe

# Every value in a header (of a vault made with the county key), as a path into the JSON.
HEADER_FIELDS = [
    ("format",),
    ("version",),
    ("vault_id",),
    ("kdf", "name"),
    ("kdf", "salt"),
    ("kdf", "memory_kib"),
    ("kdf", "iterations"),
    ("kdf", "lanes"),
    ("password_wrap", "nonce"),
    ("password_wrap", "ciphertext"),
    ("recovery_salt",),
    ("recovery_code_wrap", "nonce"),
    ("recovery_code_wrap", "ciphertext"),
    ("county_wrap", "ephemeral_public"),
    ("county_wrap", "recipient_public"),
    ("county_wrap", "nonce"),
    ("county_wrap", "ciphertext"),
    ("mac",),
]


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        return [path for key, value in node.items() for path in _leaf_paths(value, (*prefix, key))]
    return [prefix]


def _load(header: Path) -> dict[str, Any]:
    return json.loads(header.read_text())


def _set(data: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _altered(value: object) -> object:
    """The smallest change that keeps the type: one bit of a number, of a key or of a text."""
    if isinstance(value, int):
        return value + 1
    assert isinstance(value, str)
    try:
        raw = bytearray(base64.b64decode(value, validate=True))
    except ValueError:
        raw = bytearray()
    if raw:
        raw[0] ^= 1
        return base64.b64encode(bytes(raw)).decode()
    return value[:-1] + chr(ord(value[-1]) ^ 1)


def _assert_every_way_in_is_refused(vault_dir: Path, template: ProbeTemplate) -> None:
    with pytest.raises((VaultCorrupted, WrongPassword)):
        open_vault(vault_dir, PASSWORD)
    with pytest.raises((VaultCorrupted, WrongPassword)):
        open_with_recovery_code(vault_dir, template.recovery_code, NEW_PASSWORD)
    with pytest.raises((VaultCorrupted, WrongPassword)):
        open_with_county_key(vault_dir, template.county_key, NEW_PASSWORD)


def test_the_tamper_list_covers_every_field_of_the_header(vault_dir: Path) -> None:
    assert sorted(_leaf_paths(_load(vault_dir / HEADER_FILE))) == sorted(HEADER_FIELDS)


@pytest.mark.parametrize("path", HEADER_FIELDS, ids=".".join)
def test_altering_any_field_is_refused(
    vault_dir: Path, probe_template: ProbeTemplate, path: tuple[str, ...]
) -> None:
    header = vault_dir / HEADER_FILE
    data = _load(header)
    _set(data, path, _altered(_get(data, path)))
    header.write_text(json.dumps(data))

    _assert_every_way_in_is_refused(vault_dir, probe_template)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        # Values Argon2id would choke on, or that would hold the machine for hours.
        (("kdf", "lanes"), 0),
        (("kdf", "memory_kib"), 4),
        (("kdf", "memory_kib"), 2**40),
        (("kdf", "iterations"), 0),
        (("kdf", "iterations"), 10**9),
        (("kdf", "lanes"), True),
        (("kdf", "memory_kib"), "1024"),
        (("kdf", "salt"), base64.b64encode(b"abc").decode()),
        # Parts of the wrong size, which the cipher would reject with its own errors.
        (("password_wrap", "nonce"), ""),
        (("password_wrap", "ciphertext"), base64.b64encode(b"x" * 10).decode()),
        (("county_wrap", "ephemeral_public"), base64.b64encode(b"x" * 5).decode()),
        # Wrong types and shapes.
        (("kdf",), []),
        (("password_wrap",), "nonce"),
        (("version",), 2),
        (("format",), "keepass"),
        (("recovery_salt",), "kein base64!"),
        # Removing the county's way in is an alteration too.
        (("county_wrap",), None),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else repr(value)[:20],
)
def test_a_malformed_header_is_refused_as_corrupted(
    vault_dir: Path, path: tuple[str, ...], value: object
) -> None:
    header = vault_dir / HEADER_FILE
    data = _load(header)
    _set(data, path, value)
    header.write_text(json.dumps(data))
    with pytest.raises(VaultCorrupted):
        open_vault(vault_dir, PASSWORD)


def test_a_missing_field_is_refused_as_corrupted(vault_dir: Path) -> None:
    header = vault_dir / HEADER_FILE
    for path in HEADER_FIELDS:
        data = _load(header)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        broken = vault_dir.parent / "broken"
        shutil.copytree(vault_dir, broken)
        (broken / HEADER_FILE).write_text(json.dumps(data))
        with pytest.raises(VaultCorrupted):
            open_vault(broken, PASSWORD)
        shutil.rmtree(broken)


def test_a_low_order_county_key_in_the_header_is_a_vault_error(
    vault_dir: Path, probe_template: ProbeTemplate
) -> None:
    header = vault_dir / HEADER_FILE
    data = _load(header)
    _set(data, ("county_wrap", "ephemeral_public"), base64.b64encode(bytes(32)).decode())
    header.write_text(json.dumps(data))
    with pytest.raises(VaultError):
        open_with_county_key(vault_dir, probe_template.county_key, NEW_PASSWORD)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{", id="open brace"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[]", id="list"),
        pytest.param(b'"kimdesk-vault"', id="string"),
        pytest.param(b"\xff\xfe\x00garbage", id="not UTF-8"),
        pytest.param(b"[" * 100_000, id="nested too deep"),
        pytest.param(bytes(range(256)), id="binary"),
    ],
)
def test_a_garbage_header_is_refused_as_corrupted(vault_dir: Path, content: bytes) -> None:
    (vault_dir / HEADER_FILE).write_bytes(content)
    with pytest.raises(VaultCorrupted, match="Kopf des Datentresors"):
        open_vault(vault_dir, PASSWORD)


def test_a_truncated_header_is_refused_as_corrupted(vault_dir: Path) -> None:
    header = vault_dir / HEADER_FILE
    content = header.read_bytes()
    for length in range(0, len(content) - 2, 37):  # the last bytes are "}\n": still whole JSON
        header.write_bytes(content[:length])
        with pytest.raises(VaultCorrupted):
            open_vault(vault_dir, PASSWORD)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_flipped_byte_in_the_header_never_opens_an_altered_vault(
    probe_template: ProbeTemplate, data: st.DataObject
) -> None:
    """Either the vault refuses with a VaultError, or the flip did not change what the header
    says (a space that became a tab, unused bits of base64) and the vault opens as before."""
    original = probe_template.path / HEADER_FILE
    size = original.stat().st_size
    offset = data.draw(st.integers(0, size - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    with tempfile.TemporaryDirectory() as tmp:
        vault_dir = Path(tmp) / "vault"
        shutil.copytree(probe_template.path, vault_dir)
        content = bytearray(original.read_bytes())
        content[offset] ^= mask
        (vault_dir / HEADER_FILE).write_bytes(bytes(content))
        try:
            vault = open_vault(vault_dir, PASSWORD)
        except (VaultCorrupted, WrongPassword):
            return
        with vault:
            assert read_header(vault_dir / HEADER_FILE) == read_header(original)
            assert read_probe(vault) == list(NAMES)
