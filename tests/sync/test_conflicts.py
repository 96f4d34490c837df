"""Reviewing sync conflicts: two colleagues edit the same field offline; the review shows both
values (identity fields first), keeps the winner or brings the overwritten value back as a
new change that reaches the team."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from kimdesk.casework import consents, trail
from kimdesk.casework.clients import update_client
from kimdesk.casework.deadlines import add_deadline, complete_deadline
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import AuditEntry, Client, Deadline
from kimdesk.models.changelog import Conflict, ConflictResolution, OutboxChange
from kimdesk.sync import conflicts
from tests.factories import make_person
from tests.sync.devices import USERS, deliver, outbox, snapshot


def exchange(*devices) -> None:
    """Every device receives every other device's outbox, as a sync through the server would."""
    pending = {id(d): outbox(d.vault) for d in devices}
    for receiver in devices:
        for sender in devices:
            if sender is not receiver:
                deliver(pending[id(sender)], receiver.vault)
    for device in devices:
        with device.vault.writing() as session:
            for change in session.scalars(select(OutboxChange)):
                session.delete(change)


@pytest.fixture
def colleagues(devices):
    """Anna (first device) and a colleague who share the file of Oksana Shevchenko."""
    anna, colleague = devices(2)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True,
                         phone="02821 1111", birth_date=date(1988, 3, 14))
    exchange(anna, colleague)
    return anna, colleague, person


def _phone(device, client_id: str) -> str:
    with device.vault.reading() as session:
        return session.get(Client, client_id).phone


def test_a_concurrent_edit_shows_both_values_with_who_wrote_them(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"phone": "02821 2222"})
    update_client(colleague, person.id, {"phone": "02821 3333"})  # later: this one wins
    exchange(anna, colleague)

    # Every change names its author, so both devices know who wrote which value.
    for device in (anna, colleague):
        [row] = conflicts.open_conflicts(device)
        assert (row.record, row.field_label) == ("Shevchenko, Oksana", "Telefon")
        assert (row.kept, row.lost) == ("02821 3333", "02821 2222")
        assert (row.kept_by, row.lost_by) == (USERS[1], USERS[0])
        assert row.kept_at is not None and row.lost_at is not None
        assert row.lost_at <= row.kept_at
        assert not row.identity


def test_identity_fields_come_first_and_dates_read_as_german_dates(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"phone": "02821 2222", "birth_date": date(1988, 4, 13)})
    update_client(colleague, person.id, {"phone": "02821 3333",
                                         "birth_date": date(1988, 3, 15)})
    exchange(anna, colleague)

    rows = conflicts.open_conflicts(anna)

    assert [(r.field_label, r.identity) for r in rows] == [("Geburtsdatum", True),
                                                          ("Telefon", False)]
    assert (rows[0].kept, rows[0].lost) == ("15.03.1988", "13.04.1988")


def test_keeping_the_winner_closes_the_conflict_and_is_audited(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"phone": "02821 2222"})
    update_client(colleague, person.id, {"phone": "02821 3333"})
    exchange(anna, colleague)
    [row] = conflicts.open_conflicts(anna)

    conflicts.keep(anna, row.id)

    assert conflicts.open_conflicts(anna) == []
    assert _phone(anna, person.id) == "02821 3333"
    with anna.vault.reading() as session:
        stored = session.get(Conflict, row.id)
        assert (stored.resolution, stored.resolved_by) == ("kept", USERS[0])
        # The field keeps its value: all there is to send is the decision, for the team.
        assert [c.kind for c in session.scalars(select(OutboxChange))] == [
            "conflict_resolutions"]
    actions = [r.action for r in trail.client_trail(anna, person.id)]
    assert actions[-1] == "Abgleichskonflikt geprüft: geltende Fassung behalten"
    with pytest.raises(KimdeskError, match="bereits entschieden"):
        conflicts.keep(anna, row.id)


def test_restoring_the_overwritten_value_reaches_the_colleague(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"phone": "02821 2222"})
    update_client(colleague, person.id, {"phone": "02821 3333"})
    exchange(anna, colleague)
    [row] = conflicts.open_conflicts(anna)

    conflicts.restore(anna, row.id)

    assert _phone(anna, person.id) == "02821 2222"
    assert conflicts.open_conflicts(anna) == []
    with anna.vault.reading() as session:
        assert session.get(Conflict, row.id).resolution == "restored"
        audited = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())
                                  .limit(2)).all()
    assert audited == ["conflict_restored", "update"]

    exchange(anna, colleague)

    assert _phone(colleague, person.id) == "02821 2222"
    # The colleague's copy of the conflict is closed as Anna decided it, and no new one arose.
    assert conflicts.open_conflicts(colleague) == []
    with colleague.vault.reading() as session:
        [closed] = session.scalars(select(Conflict)).all()
        assert (closed.resolution, closed.resolved_by) == ("restored", USERS[0])


def test_a_record_of_another_kind_is_restored_through_a_generic_audited_write(colleagues):
    anna, colleague, person = colleagues
    deadline = add_deadline(anna, person.id, "passport_expiry", date(2026, 12, 15), "")
    exchange(anna, colleague)
    complete_deadline(anna, deadline.id, note="Pass verlängert bis 2031")
    complete_deadline(colleague, deadline.id, note="Termin bei der Ausländerbehörde steht")
    exchange(anna, colleague)

    [row] = [r for r in conflicts.open_conflicts(anna) if r.field == "note"]
    assert (row.record, row.field_label) == ("Frist – Shevchenko, Oksana", "Notiz")
    assert row.lost == "Pass verlängert bis 2031"

    conflicts.restore(anna, row.id)
    exchange(anna, colleague)

    for device in (anna, colleague):
        with device.vault.reading() as session:
            assert session.get(Deadline, deadline.id).note == "Pass verlängert bis 2031"
    with anna.vault.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "update")
                                .order_by(AuditEntry.seq.desc())).first()
        assert (entry.entity, entry.client_id, entry.detail["fields"]) == (
            "deadlines", person.id, ["note"])


def test_a_value_the_rules_no_longer_allow_is_refused_and_nothing_changes(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"email": "o.shevchenko@example.org"})
    update_client(colleague, person.id, {"email": "oksana@example.org"})
    exchange(anna, colleague)
    [row] = conflicts.open_conflicts(anna)
    # Meanwhile the Einwilligung was revoked: no e-mail address may be written any more.
    [consent] = consents.consent_rows(anna)
    consents.revoke_consent(anna, consent.id, note="Widerruf telefonisch")

    with pytest.raises(ValidationError, match="Einwilligung"):
        conflicts.restore(anna, row.id)

    with anna.vault.reading() as session:
        assert session.get(Conflict, row.id).resolved_at is None
        assert session.get(Client, person.id).email == "oksana@example.org"
    assert [r.id for r in conflicts.open_conflicts(anna)] == [row.id]


def test_two_colleagues_deciding_one_conflict_at_once_leave_nothing_to_review(colleagues):
    anna, colleague, person = colleagues
    update_client(anna, person.id, {"phone": "02821 2222"})
    update_client(colleague, person.id, {"phone": "02821 3333"})
    exchange(anna, colleague)
    [mine], [theirs] = conflicts.open_conflicts(anna), conflicts.open_conflicts(colleague)

    # Offline, each decides the same conflict: Anna keeps Mehmet's number, he brings hers back.
    conflicts.keep(anna, mine.id)
    conflicts.restore(colleague, theirs.id)
    exchange(anna, colleague)

    # One decision record (same id on both), merged like any record: no conflict about the
    # decision itself, and the restored number (a later write) is everyone's.
    for device in (anna, colleague):
        assert conflicts.open_conflicts(device) == []
        assert _phone(device, person.id) == "02821 2222"
        with device.vault.reading() as session:
            assert len(session.scalars(select(ConflictResolution)).all()) == 1
    assert snapshot(anna.vault)["conflict_resolutions"] == \
        snapshot(colleague.vault)["conflict_resolutions"]


# --- decisions travel: resolved once, resolved everywhere (through a real server) ----------


def _conflict_over_the_server(team, anna, mehmet, person_id: str) -> None:
    """Anna and Mehmet change the phone number offline; Mehmet's later change wins."""
    update_client(anna, person_id, {"phone": "02821 2222"})
    update_client(mehmet, person_id, {"phone": "02821 3333"})
    team.sync_all()


def _open(device) -> list[tuple[str, str, str]]:
    return [(r.field, r.kept, r.lost) for r in conflicts.open_conflicts(device)]


def test_a_conflict_kept_on_one_device_is_closed_on_the_others(devices, team):
    anna, mehmet = devices(2)
    team.join(anna)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True,
                         phone="02821 1111")
    team.join(mehmet)
    team.sync_all()
    _conflict_over_the_server(team, anna, mehmet, person.id)
    assert _open(anna) == _open(mehmet) == [("phone", "02821 3333", "02821 2222")]

    [row] = conflicts.open_conflicts(anna)
    conflicts.keep(anna, row.id)
    team.sync(anna)
    team.sync(mehmet)

    assert _open(mehmet) == []
    with mehmet.vault.reading() as session:
        [closed] = session.scalars(select(Conflict)).all()
        assert (closed.resolution, closed.resolved_by) == ("kept", USERS[0])
        assert closed.lost_value == {"v": "02821 2222"}  # the losing value stays readable
    with pytest.raises(KimdeskError, match="bereits entschieden"):
        conflicts.keep(mehmet, closed.id)
    assert _phone(mehmet, person.id) == _phone(anna, person.id) == "02821 3333"


def test_a_new_device_does_not_inherit_decided_conflicts(devices, team):
    anna, mehmet, ewa = devices(3)
    team.join(anna)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True,
                         phone="02821 1111", email="o.shevchenko@example.org")
    team.join(mehmet)
    team.sync_all()
    update_client(anna, person.id, {"phone": "02821 2222", "email": "oksana@example.org"})
    update_client(mehmet, person.id, {"phone": "02821 3333", "email": "os@example.org"})
    team.sync_all()
    decided = {r.field: r.id for r in conflicts.open_conflicts(mehmet)}
    conflicts.keep(mehmet, decided["phone"])  # the e-mail address stays to be decided
    team.sync_all()

    team.join(ewa)  # a new laptop replays the team's whole log from cursor 0
    team.sync(ewa)

    # Without the shared decision the new laptop would list both conflicts again.
    assert _open(ewa) == [("email", "os@example.org", "oksana@example.org")]
    assert _open(anna) == _open(mehmet) == _open(ewa)
    # A repair from cursor 0 on a device that knew the conflict changes nothing either.
    from kimdesk.sync.client import SyncClient

    SyncClient(anna, team.http).resync()
    assert _open(anna) == [("email", "os@example.org", "oksana@example.org")]


def test_a_decision_racing_a_new_edit_keeps_the_new_edit_as_a_new_conflict(devices, team):
    anna, mehmet, ewa = devices(3)
    team.join(anna)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True,
                         phone="02821 1111")
    team.join(mehmet)
    team.join(ewa)
    team.sync_all()
    _conflict_over_the_server(team, anna, mehmet, person.id)
    [row] = conflicts.open_conflicts(anna)

    # Offline, Anna brings her number back while Ewa, who saw Mehmet's, types a newer one.
    conflicts.restore(anna, row.id)
    update_client(ewa, person.id, {"phone": "02821 4444"})
    team.sync_all()

    # The old conflict is closed everywhere; Ewa's later edit won over the restored value,
    # which is kept as a new conflict to review on every device (nothing is lost silently).
    for device in (anna, mehmet, ewa):
        assert _open(device) == [("phone", "02821 4444", "02821 2222")]
        assert _phone(device, person.id) == "02821 4444"
    with ewa.vault.reading() as session:
        old = session.scalars(select(Conflict).where(Conflict.lost_value == {
            "v": "02821 2222"}).order_by(Conflict.id)).first()
    [new] = conflicts.open_conflicts(ewa)
    assert new.id != old.id
