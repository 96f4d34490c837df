"""A client file with names in Polish, Romanian and Turkish spelling, built through casework
(imported by tests/reports/conftest.py and the tests; conftest modules are not importable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kimdesk.casework import cases, clients, consents, deadlines, documents, network, planning
from kimdesk.casework.context import Context


@dataclass(frozen=True)
class CaseFile:
    client_id: str
    member_id: str
    case_id: str
    goal_ids: tuple[str, ...]


CLIENT_FIRST, CLIENT_LAST = "Łucja", "Wiśniewska-Ștefănescu"
MEMBER_FIRST, MEMBER_LAST = "Mehmet", "Yılmaz"
STEP_RESPONSIBLE = "Ayşe Yılmaz (Jobcenter Kleve)"


def build_case_file(ctx: Context) -> CaseFile:
    """Łucja with her husband Mehmet in one case management case, Team Nord, Kleve."""
    household = clients.create_household(ctx, "Familie W.-Ș.", "kleve", "Hafenstraße 3")
    client = clients.create_client(
        ctx,
        clients.ClientInput(first_name=CLIENT_FIRST, last_name=CLIENT_LAST, gender="female",
                            birth_date=date(1990, 3, 14), nationality="PL",
                            languages="Polnisch, Rumänisch, Deutsch (A2)", municipality="kleve",
                            address="Hafenstraße 3, 47533 Kleve", phone="0151 2345678",
                            email="lucja@example.org", arrival_date=date(2019, 5, 2)),
        consent=consents.ConsentInput(given_on=date(2026, 1, 12)),
    )
    member = clients.create_client(
        ctx,
        clients.ClientInput(first_name=MEMBER_FIRST, last_name=MEMBER_LAST, gender="male",
                            birth_date=date(1987, 8, 30), nationality="TR",
                            municipality="kleve"),
        consent=consents.ConsentInput(given_on=date(2026, 1, 12)),
    )
    clients.add_to_household(ctx, household.id, client.id, "Haushaltsvorstand")
    clients.add_to_household(ctx, household.id, member.id, "Ehepartner:in")
    case = cases.open_case(ctx, client.id, cases.CaseInput(
        kind="case_management", opened_on=date(2026, 1, 12), access_route="jobcenter",
        concern="Anerkennung des Berufsabschlusses, Kita-Platz, Sprachkurs B1",
        topics=["qualification", "childcare", "language"]))
    cases.add_participant(ctx, case.id, member.id)
    cases.record_intake(ctx, case.id, concern=case.concern, access_route="jobcenter",
                        cm_indicated=True, art13_informed_on=date(2026, 1, 12))
    cases.change_phase(ctx, case.id, "assessment", on=date(2026, 1, 26))
    planning.save_assessment(ctx, case.id, client.id, planning.AssessmentInput(
        life_area="qualification", situation="Lehrerin in Polen, Abschluss nicht anerkannt",
        resources="hoch motiviert", client_view="Ich möchte wieder unterrichten.", need=3,
        assessed_on=date(2026, 2, 2)))
    cases.change_phase(ctx, case.id, "planning", on=date(2026, 2, 9))
    goal_1 = planning.add_goal(
        ctx, case.id, client.id, "Berufsabschluss als Lehrerin anerkennen lassen",
        detail="Antrag bei der Bezirksregierung Düsseldorf bis Ende April gestellt",
        life_area="qualification", due_on=date(2026, 6, 30), agreed_on=date(2026, 2, 16))
    planning.add_step(ctx, goal_1.id, "Unterlagen übersetzen lassen (Diplom, Zeugnisse)",
                      "Łucja Wiśniewska-Ștefănescu", date(2026, 3, 15))
    planning.add_step(ctx, goal_1.id, "Termin bei der Anerkennungsberatung (IQ) vereinbaren",
                      "Anna Becker (Case Management)", date(2026, 3, 1))
    goal_2 = planning.add_goal(
        ctx, case.id, client.id, "Kita-Platz für Zofia ab August",
        life_area="childcare", due_on=date(2026, 8, 1), agreed_on=date(2026, 2, 16))
    planning.add_step(ctx, goal_2.id, "Anmeldung im Kita-Navigator", STEP_RESPONSIBLE,
                      date(2026, 2, 28))
    member_goal = planning.add_goal(ctx, case.id, member.id, "Sprachkurs B1 abschließen",
                                    life_area="language", due_on=date(2026, 12, 31))
    planning.add_step(ctx, member_goal.id, "Anmeldung beim Integrationskursträger",
                      "Mehmet Yılmaz", date(2026, 3, 31))
    for day, mode, minutes, note in (
        (date(2026, 1, 12), "office", 60, "Erstgespräch, Anliegen geklärt"),
        (date(2026, 2, 2), "home_visit", 90, "Assessment mit der Familie; Sprachmittlerin dabei"),
        (date(2026, 2, 16), "office", 45, "Zielvereinbarung besprochen"),
    ):
        cases.record_contact(ctx, case.id, cases.ContactInput(
            contact_on=day, mode=mode, duration_minutes=minutes, topics=["qualification"],
            note=note, interpreter=mode == "home_visit",
            interpreter_language="Polnisch" if mode == "home_visit" else ""))
    cases.record_contact(ctx, case.id, cases.ContactInput(
        contact_on=date(2026, 2, 20), mode="phone", duration_minutes=15,
        note="Mehmet: Rückfrage zum Sprachkurs", client_id=member.id))
    institution = network.create_institution(ctx, network.InstitutionInput(
        name="Anerkennungsberatung IQ Niederrhein", institution_type="recognition_counselling",
        municipality="kleve"))
    consents.record_consent(ctx, client.id, consents.ConsentInput(
        kind="confidentiality_waiver", recipient_institution_id=institution.id,
        information_kinds=["master_data", "education_work"], purpose="Anerkennungsverfahren",
        given_on=date(2026, 2, 16)))
    referral = network.refer(ctx, case.id, network.ReferralInput(
        institution_id=institution.id, purpose="Beratung zur Anerkennung",
        referred_on=date(2026, 2, 20), shares_data=True,
        information_kinds=["master_data", "education_work"]))
    network.set_referral_outcome(ctx, referral.id, "attended", on=date(2026, 3, 5))
    deadlines.record_residence(ctx, client.id, "eu_free_movement", granted_on=date(2019, 5, 2))
    deadlines.add_deadline(ctx, client.id, "appointment", date(2026, 12, 3),
                           "Termin Bezirksregierung", case_id=case.id)
    documents.add_attachment(ctx, client.id, "Diplom_Übersetzung.pdf", b"%PDF-1.4 test",
                             case_id=case.id, description="Übersetzung des Diploms")
    return CaseFile(client.id, member.id, case.id, (goal_1.id, goal_2.id))
