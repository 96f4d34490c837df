"""A unit of work that gives up as a whole on any error (the demo) may let nested use cases
join its transaction without a savepoint each (``JOIN_NESTED``); without it they nest."""

from __future__ import annotations

from kimdesk.vault import Vault
from kimdesk.vault.store import JOIN_NESTED


def test_nested_writing_is_a_savepoint_by_default(vault: Vault) -> None:
    with vault.writing() as session:
        with vault.writing() as inner:
            assert inner is session
            assert session.in_nested_transaction()
        assert not session.in_nested_transaction()


def test_nested_writing_joins_the_transaction_when_the_unit_asks(vault: Vault) -> None:
    with vault.writing() as session:
        session.info[JOIN_NESTED] = True
        with vault.writing() as inner, vault.writing() as innermost:
            assert inner is session and innermost is session
            assert not session.in_nested_transaction()
