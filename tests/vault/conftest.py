"""Fixtures for the vault tests: a closed template vault with probe rows, copied per test.

The template is made with the county's recovery key, so every copy can be opened by password,
recovery code and county key. Argon2id runs with ``KdfParams.for_tests()`` throughout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.vault.support import ProbeTemplate, make_probe_vault


@pytest.fixture(scope="session")
def probe_template(tmp_path_factory: pytest.TempPathFactory) -> ProbeTemplate:
    """A closed vault holding ``NAMES`` in the ``probe`` table."""
    county_key = X25519PrivateKey.generate()
    path = tmp_path_factory.mktemp("probe-template") / "vault"
    code = make_probe_vault(path, county_public_key=county_key.public_key())
    return ProbeTemplate(path, code, county_key)


@pytest.fixture
def vault_dir(probe_template: ProbeTemplate, tmp_path: Path) -> Path:
    """A fresh copy of the template's data directory (closed vault)."""
    target = tmp_path / "vault"
    shutil.copytree(probe_template.path, target)
    return target
