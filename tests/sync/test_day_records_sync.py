"""A handover and a Termin reach the colleague's device through the change log: after the
exchange her Fallzahl and Heute hold the handed-over case and its Termin."""

from __future__ import annotations

from datetime import time, timedelta

from kimdesk.casework import caseload
from kimdesk.casework.appointments import add_appointment, upcoming
from kimdesk.casework.handover import hand_over_case, handovers_of
from tests.factories import CM, make_case, make_person
from tests.sync.devices import snapshot
from tests.sync.test_merge import exchange


def test_handover_and_termin_sync_to_the_new_case_manager(devices):
    anna, mehmet = devices(2)
    client = make_person(anna, consent=True)
    case = make_case(anna, client, CM)
    add_appointment(anna, client.id, anna.today() + timedelta(days=2), time(9, 15),
                    case_id=case.id)
    exchange(anna, mehmet)
    assert upcoming(mehmet) == []

    hand_over_case(anna, case.id, mehmet.user, "Frau Becker geht in Elternzeit")
    exchange(anna, mehmet)

    assert snapshot(anna.vault) == snapshot(mehmet.vault)
    assert caseload.caseload(mehmet, fte=1.0, case_manager=mehmet.user).open_cases == {CM: 1}
    assert [r.starts_at for r in upcoming(mehmet)] == [time(9, 15)]
    assert [h.reason for h in handovers_of(mehmet, case.id)] == ["Frau Becker geht in Elternzeit"]
