"""Sync through the county server: enrolment, confirmation, push and pull, replays, damage,
moved ciphertexts, revocation and key rotation."""

from __future__ import annotations

from sqlalchemy import select

from kimdesk.casework.clients import find_clients, update_client
from kimdesk.models import Client
from tests.factories import CM, make_case, make_contact, make_person
from tests.sync.devices import snapshot


def test_two_colleagues_share_a_file_through_the_server(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True)
    make_contact(anna, make_case(anna, person, CM))
    team.join(ewa)

    team.sync_all()

    assert [hit.id for hit in find_clients(ewa, "Shevchenko")] == [person.id]
    assert snapshot(anna.vault) == snapshot(ewa.vault)

    update_client(ewa, person.id, {"phone": "0151 7654321"})
    team.sync_all()
    with anna.vault.reading() as session:
        assert session.get(Client, person.id).phone == "0151 7654321"
    assert snapshot(anna.vault) == snapshot(ewa.vault)
    with anna.vault.reading() as session:
        assert len(session.scalars(select(Client)).all()) == 1
