"""Merging received changes: last writer wins per field, nothing lost, deletes win by causal
length, an erasure purges everywhere, replays change nothing."""

from __future__ import annotations

from sqlalchemy import select

from kimdesk.casework.clients import find_clients, update_client
from kimdesk.casework.documents import add_attachment, delete_attachment
from kimdesk.casework.retention import purge_client
from kimdesk.models import Attachment, Case, Client, Contact
from kimdesk.models.changelog import Conflict, OutboxChange
from tests.factories import CM, make_case, make_contact, make_person
from tests.sync.devices import deliver, outbox, snapshot


def exchange(*devices) -> None:
    """Every device receives every other device's outbox (in device order)."""
    pending = {id(d): outbox(d.vault) for d in devices}
    for receiver in devices:
        for sender in devices:
            if sender is not receiver:
                deliver(pending[id(sender)], receiver.vault)
    for device in devices:
        with device.vault.writing() as session:
            for change in session.scalars(select(OutboxChange)):
                session.delete(change)


def test_a_new_client_with_a_case_arrives_complete_and_findable(devices):
    anna, ewa = devices(2)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True)
    case = make_case(anna, person, CM)
    make_contact(anna, case)

    exchange(anna, ewa)

    assert snapshot(anna.vault) == snapshot(ewa.vault)
    assert [hit.id for hit in find_clients(ewa, "Shevchenko")] == [person.id]


def test_concurrent_edits_of_one_field_converge_and_keep_the_losing_value(devices):
    anna, ewa = devices(2)
    person = make_person(anna, consent=True, phone="02821 1111")
    exchange(anna, ewa)

    update_client(anna, person.id, {"phone": "02821 2222"})
    update_client(ewa, person.id, {"phone": "02821 3333"})
    exchange(anna, ewa)

    with anna.vault.reading() as session:
        phone_a = session.get(Client, person.id).phone
    with ewa.vault.reading() as session:
        phone_e = session.get(Client, person.id).phone
        conflicts = list(session.scalars(select(Conflict).where(Conflict.field == "phone")))
    assert phone_a == phone_e
    assert {phone_a, conflicts[0].lost_value["v"]} == {"02821 2222", "02821 3333"}
    assert snapshot(anna.vault) == snapshot(ewa.vault)


def test_an_edit_made_after_seeing_the_other_is_no_conflict(devices):
    anna, ewa = devices(2)
    person = make_person(anna, consent=True, phone="02821 1111")
    exchange(anna, ewa)
    update_client(anna, person.id, {"phone": "02821 2222"})
    exchange(anna, ewa)
    update_client(ewa, person.id, {"phone": "02821 3333"})
    exchange(anna, ewa)

    for device in (anna, ewa):
        with device.vault.reading() as session:
            assert session.get(Client, person.id).phone == "02821 3333"
            assert session.scalars(select(Conflict)).first() is None


def test_edits_of_different_fields_both_survive(devices):
    anna, ewa = devices(2)
    person = make_person(anna, consent=True)
    exchange(anna, ewa)
    update_client(anna, person.id, {"phone": "0151 2345678"})
    update_client(ewa, person.id, {"languages": "Ukrainisch, Russisch"})
    exchange(anna, ewa)

    with ewa.vault.reading() as session:
        client = session.get(Client, person.id)
        assert (client.phone, client.languages) == ("0151 2345678", "Ukrainisch, Russisch")
        assert session.scalars(select(Conflict).where(
            Conflict.field.in_(["phone", "languages"]))).first() is None


def test_a_delete_beats_a_concurrent_edit_on_every_device(devices):
    anna, ewa = devices(2)
    person = make_person(anna, consent=True)
    attachment = add_attachment(anna, person.id, "Bescheid.pdf", b"%PDF-1.4 Bescheid")
    exchange(anna, ewa)
    with ewa.vault.reading() as session:
        assert session.get(Attachment, attachment.id) is not None
    assert ewa.vault.attachments.get(attachment.id) == b"%PDF-1.4 Bescheid"

    delete_attachment(anna, attachment.id)
    exchange(anna, ewa)

    with ewa.vault.reading() as session:
        assert session.get(Attachment, attachment.id) is None
    assert snapshot(anna.vault) == snapshot(ewa.vault)


def test_an_erasure_purges_the_client_everywhere_and_wins_over_edits(devices):
    anna, ewa, jonas = devices(3)
    person = make_person(anna, consent=True, last_name="Wiśniewska")
    case = make_case(anna, person, CM)
    make_contact(anna, case)
    exchange(anna, ewa, jonas)

    with anna.vault.writing() as session:
        purge_client(session, person.id)
    update_client(ewa, person.id, {"phone": "0172 999999"})  # offline, concurrent
    exchange(anna, ewa, jonas)

    for device in (anna, ewa, jonas):
        with device.vault.reading() as session:
            assert session.get(Client, person.id) is None
            assert session.scalars(select(Case)).first() is None
            assert session.scalars(select(Contact)).first() is None
        assert find_clients(device, "Wiśniewska") == []
    assert snapshot(anna.vault) == snapshot(ewa.vault) == snapshot(jonas.vault)


def test_applying_the_same_changes_twice_changes_nothing(devices):
    anna, ewa = devices(2)
    person = make_person(anna, consent=True)
    make_contact(anna, make_case(anna, person, CM))
    update_client(ewa, make_person(ewa, consent=True).id, {"phone": "0160 1"})
    changes = outbox(anna.vault)
    deliver(changes, ewa.vault)
    before = snapshot(ewa.vault)
    with ewa.vault.reading() as session:
        conflicts = session.scalars(select(Conflict)).all()

    deliver(changes, ewa.vault)
    deliver(list(reversed(changes)), ewa.vault)

    assert snapshot(ewa.vault) == before
    with ewa.vault.reading() as session:
        assert session.scalars(select(Conflict)).all() == conflicts
