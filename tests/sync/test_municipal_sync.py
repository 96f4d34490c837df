"""Kommunale Vereinbarungen and structural activities are team data: what one coordinator
records reaches a colleague's device, and a correction there comes back (concept 5.6–5.8)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.municipal import (
    ActivityInput,
    AgreementInput,
    activity_rows,
    agreement_rows,
    record_activity,
    record_agreement,
    update_activity,
)
from tests.sync.devices import deliver, outbox, snapshot


def test_agreements_and_structural_work_reach_the_colleague(
        devices: Callable[[int], list[Context]]) -> None:
    anna, ewa = devices(2)
    record_agreement(anna, AgreementInput(
        municipality="kleve", subject="Kommunale Vereinbarung KIM Kleve",
        parties=["Stadt Kleve", "Kreis Kleve"], signed_on=date(2026, 2, 1),
        allocates_cases=True, case_allocation="Meldung durch das Sozialamt"))
    activity = record_activity(anna, ActivityInput(
        held_on=date(2026, 11, 3), kind="committee", hours=2, title="Integrationsrat Kleve",
        municipalities=["kleve"], participants=["Stadt Kleve"]))

    deliver(outbox(anna.vault), ewa.vault)
    [agreement] = agreement_rows(ewa)
    assert (agreement.municipality, agreement.parties, agreement.allocates_cases) == (
        "kleve", ("Stadt Kleve", "Kreis Kleve"), True)
    assert [(a.title, a.minutes) for a in activity_rows(ewa)] == [
        ("Integrationsrat Kleve", 120)]

    update_activity(ewa, activity.id, ActivityInput(
        held_on=date(2026, 11, 3), kind="committee", hours=2.5, title="Integrationsrat Kleve",
        municipalities=["kleve"], participants=["Stadt Kleve"]))
    deliver(outbox(ewa.vault), anna.vault)
    assert [a.minutes for a in activity_rows(anna)] == [150]
    mine, theirs = snapshot(anna.vault), snapshot(ewa.vault)
    for table in ("municipal_agreements", "structural_activities"):
        assert mine[table] == theirs[table]
