"""Beispiel 5 of the concept (5.5.1) as test data: Frau A., 22, alleinerziehend with a daughter
of 3, her case, and the Fallrekonstruktion, theme, findings, Projektgruppe and Beschluss that
grow out of it. Shared by the casework, report and UI tests of the coordination screens.

Everything goes through the casework use cases. ``Example5.secrets`` lists what must never
appear in a coordination view, export or PDF: names, birth dates, address, phone, e-mail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kimdesk.casework.cases import ContactInput, change_phase, record_contact
from kimdesk.casework.clients import add_relation, add_to_household, create_household
from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingInput, record_finding
from kimdesk.casework.coordination.project_groups import (
    FrameworkGoal,
    ProjectGroupInput,
    create_project_group,
)
from kimdesk.casework.coordination.reconstructions import (
    ReconstructionInput,
    add_theme,
    create_reconstruction,
)
from kimdesk.casework.coordination.steering import (
    DecisionInput,
    MeetingInput,
    create_meeting,
    record_decision,
)
from kimdesk.casework.network import ReferralInput, refer
from kimdesk.casework.planning import AssessmentInput, add_goal, save_assessment
from kimdesk.models import (
    Case,
    CaseReconstruction,
    Client,
    Finding,
    GenerativeTheme,
    Goal,
    Institution,
    ProjectGroup,
    SteeringDecision,
)
from tests.factories import CM, make_case, make_institution, make_person

FIRST_NAME = "Dilara"
LAST_NAME = "Kılıçarslan"
BIRTH_DATE = date(2004, 3, 14)  # 22 on the suite's TODAY (25.11.2026)
ADDRESS = "Lindenallee 7, 47533 Kleve"
PHONE = "0157 2345678"
EMAIL = "dilara.k@example.org"
DAUGHTER_FIRST_NAME = "Elif"
DAUGHTER_BIRTH_DATE = date(2023, 6, 2)  # 3 years old

GOAL = "erfolgreiche Absolvierung einer Ausbildung"
THEME = ("Die Vereinbarkeit von Familie und Qualifizierung/Beruf wird in Kontexten der "
         "beruflichen Orientierung und Qualifizierung unter anderem durch angemessene Angebote "
         "der Kinderbetreuung gewährleistet.")
OBSTACLE = "keine Kinderbetreuung"
LIFE_AREAS = [
    {"area": "Arbeit", "topics": ["möchte schnell Geld verdienen", "Schulden"]},
    {"area": "Soziale Integration", "topics": ["wenig Kraft neben Alltag und Erziehung"]},
    {"area": "Kinderbetreuung", "topics": ["keine Kinderbetreuung für die Tochter"]},
    {"area": "Qualifikation/Berufliche Orientierung",
     "topics": ["Realschulabschluss", "Sprachkenntnisse noch nicht ausreichend",
                "kein Berufsfeld gewählt"]},
    {"area": "Gesundheit", "topics": ["Tochter häufig krank", "unausgewogene Ernährung"]},
]
ACTORS = [
    {"id": "a1", "label": "Frau A.", "kind": "person", "x": 60.0, "y": 200.0},
    {"id": "a2", "label": "Kind 1 (Tochter)", "kind": "person", "x": 60.0, "y": 360.0},
    {"id": "a3", "label": "Jobcenter", "kind": "institution", "x": 300.0, "y": 60.0},
    {"id": "a4", "label": "Kita/Kindertagespflege", "kind": "institution", "x": 300.0,
     "y": 360.0},
    {"id": "a5", "label": "Sprachkursträger", "kind": "institution", "x": 300.0, "y": 200.0},
    {"id": "a6", "label": "Kinderarzt", "kind": "institution", "x": 300.0, "y": 500.0},
    {"id": "a7", "label": "berufsvorbereitende Maßnahme", "kind": "offer", "x": 560.0,
     "y": 200.0},
    {"id": "a8", "label": "Ausbildung", "kind": "offer", "x": 800.0, "y": 200.0},
]
RELATIONS = [
    {"id": "r1", "source": "a3", "target": "a7", "kind": "cooperation",
     "label": "schlägt Maßnahme vor"},
    {"id": "r2", "source": "a4", "target": "a7", "kind": "obstacle", "label": OBSTACLE},
    {"id": "r3", "source": "a5", "target": "a7", "kind": "precondition",
     "label": "Sprachniveau"},
    {"id": "r4", "source": "a7", "target": "a8", "kind": "precondition",
     "label": "Berufsorientierung"},
    {"id": "r5", "source": "a6", "target": "a2", "kind": "influence",
     "label": "häufige Erkrankungen"},
    {"id": "r6", "source": "a1", "target": "a3", "kind": "cooperation", "label": ""},
]


@dataclass(frozen=True)
class Example5:
    client: Client
    daughter: Client
    case: Case
    goal: Goal
    institutions: dict[str, Institution]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Identifying values that must not appear outside the client file."""
        return (FIRST_NAME, LAST_NAME, DAUGHTER_FIRST_NAME, f"{BIRTH_DATE:%d.%m.%Y}",
                f"{DAUGHTER_BIRTH_DATE:%d.%m.%Y}", BIRTH_DATE.isoformat(), "Lindenallee",
                "47533", PHONE, "2345678", EMAIL)


@dataclass(frozen=True)
class Example5Coordination:
    example: Example5
    reconstruction: CaseReconstruction
    theme: GenerativeTheme
    findings: tuple[Finding, ...]
    project_group: ProjectGroup
    decision: SteeringDecision


def build_example5_case(ctx: Context) -> Example5:
    """Frau A.'s file: consent, household with her daughter, a CM case in Monitoring with the
    concept's five life areas assessed, her goal, four referrals and contact notes that name
    her, her daughter, her birth date and her phone number (as real notes do)."""
    today = ctx.today()
    client = make_person(ctx, consent=True, first_name=FIRST_NAME, last_name=LAST_NAME,
                         gender="female", birth_date=BIRTH_DATE, nationality="TR",
                         municipality="kleve", address=ADDRESS, phone=PHONE, email=EMAIL,
                         languages="Türkisch, Deutsch")
    daughter = make_person(ctx, consent=True, first_name=DAUGHTER_FIRST_NAME,
                           last_name=LAST_NAME, gender="female",
                           birth_date=DAUGHTER_BIRTH_DATE, nationality="TR",
                           municipality="kleve", address=ADDRESS, phone="", languages="")
    household = create_household(ctx, "Familie K.", "kleve", ADDRESS, first_member=client.id,
                                 role="Haushaltsvorstand")
    add_to_household(ctx, household.id, daughter.id, "Kind")
    add_relation(ctx, client.id, daughter.id, "parent_of")
    opened = today - timedelta(days=240)
    case = make_case(ctx, client, CM, opened_on=opened, household_id=household.id,
                     concern="Ausbildung finden; Kinderbetreuung für Elif fehlt",
                     topics=["qualification", "childcare", "work"])
    for phase, days in (("assessment", 14), ("planning", 30), ("linking", 40),
                        ("monitoring", 60)):
        case = change_phase(ctx, case.id, phase, on=opened + timedelta(days=days))
    assessments = {
        "work": (2, "Frau Kılıçarslan möchte schnell Geld verdienen, Schulden"),
        "social_integration": (1, "wenig Kraft neben Alltag und Erziehung"),
        "childcare": (3, "Keine Kinderbetreuung für Elif; Kita-Platz beantragt"),
        "qualification": (3, "Realschulabschluss, Sprachkenntnisse noch nicht ausreichend"),
        "health": (2, "Elif ist immer wieder krank"),
    }
    for area, (need, problems) in assessments.items():
        save_assessment(ctx, case.id, client.id, AssessmentInput(
            life_area=area, need=need, problems=problems, situation=""))
    goal = add_goal(ctx, case.id, client.id, GOAL, life_area="qualification",
                    detail=f"{FIRST_NAME} sucht ein Berufsfeld")
    institutions = {
        "jobcenter": make_institution(ctx, "jobcenter"),
        "daycare": make_institution(ctx, "daycare", name="Kita Regenbogen Kleve"),
        "language": make_institution(ctx, "integration_course_provider",
                                     name="Sprachschule Niederrhein"),
        "paediatrician": make_institution(ctx, "health_care",
                                          name="Kinderarztpraxis Dr. Hendriks"),
    }
    for key, purpose in (("jobcenter", "berufsvorbereitende Maßnahme"),
                         ("daycare", "Betreuungsplatz für Elif"),
                         ("language", "Sprachkurs B1"),
                         ("paediatrician", "Vorsorge der Tochter")):
        refer(ctx, case.id, ReferralInput(institution_id=institutions[key].id, purpose=purpose,
                                          referred_on=opened + timedelta(days=40)))
    for days, note in (
        (10, f"Frau {LAST_NAME} (geb. {BIRTH_DATE:%d.%m.%Y}) kam mit {DAUGHTER_FIRST_NAME} "
             f"ins Büro; erreichbar unter {PHONE}."),
        (70, f"{FIRST_NAME} berichtet: Maßnahme des Jobcenters scheitert an der "
             "Kinderbetreuung."),
        (200, f"Rückruf an {EMAIL}; {DAUGHTER_FIRST_NAME} wieder krank, Termin beim "
              "Kinderarzt."),
    ):
        record_contact(ctx, case.id, ContactInput(
            contact_on=opened + timedelta(days=days), mode="office", duration_minutes=50,
            topics=["childcare"], note=note))
    return Example5(client, daughter, case, goal, institutions)


def example5_reconstruction_input(**overrides: Any) -> ReconstructionInput:
    """The reconstruction Case Managerin B presents (concept 5.5.1, Beispiel 5)."""
    values: dict[str, Any] = {
        "title": "Fallrekonstruktion Frau A.: Ausbildung trotz fehlender Kinderbetreuung",
        "goal": GOAL, "presented_on": None,
        "life_areas": [dict(a, topics=list(a["topics"])) for a in LIFE_AREAS],
        "actors": [dict(a) for a in ACTORS], "relations": [dict(r) for r in RELATIONS]}
    return dataclasses.replace(ReconstructionInput(**values), **overrides)


def build_example5(ctx: Context) -> Example5Coordination:
    """From Frau A.'s case to a decision of the Lenkungsgruppe."""
    example = build_example5_case(ctx)
    today = ctx.today()
    reconstruction = create_reconstruction(
        ctx, example5_reconstruction_input(presented_on=today - timedelta(days=120)),
        case_id=example.case.id)
    theme = add_theme(ctx, reconstruction.id, THEME,
                      mandate="Projektgruppe mit Jobcenter, Jugendamt und Bildungsträgern")
    findings = (
        record_finding(ctx, FindingInput(
            life_area="childcare", barrier="compatibility", institution_type="education_provider",
            description="Berufsvorbereitende Maßnahmen ohne Kinderbetreuung: Alleinerziehende "
                        "können nicht teilnehmen.", source="case",
            noted_on=today - timedelta(days=150), theme_id=theme.id), case_id=example.case.id),
        record_finding(ctx, FindingInput(
            life_area="childcare", barrier="capacity", institution_type="daycare",
            description="Wartezeit auf einen Kita-Platz länger als ein Jahr.",
            source="team_meeting", municipality="goch", noted_on=today - timedelta(days=100),
            theme_id=theme.id)),
    )
    group = create_project_group(ctx, ProjectGroupInput(
        name="Vereinbarkeit von Familie und Qualifizierung",
        principal_goal=THEME,
        framework_goals=[
            FrameworkGoal("Maßnahmen der Berufsvorbereitung bieten Kinderbetreuung an.",
                          ["Kinderbetreuung bei Maßnahmeplanung des Jobcenters mitdenken",
                           "Kooperation mit der Kindertagespflege"]),
            FrameworkGoal("Alleinerziehende erhalten vorrangig einen Betreuungsplatz.",
                          ["Vereinbarung mit dem Jugendamt zur Platzvergabe"]),
        ],
        members=[example.institutions["jobcenter"].id, example.institutions["daycare"].id],
        theme_ids=[theme.id], finding_ids=[f.id for f in findings], status="reported",
        started_on=today - timedelta(days=90), ends_on=today + timedelta(days=90)))
    meeting = create_meeting(ctx, MeetingInput(held_on=today - timedelta(days=30),
                                               title="Lenkungsgruppe, 4. Sitzung"))
    decision = record_decision(ctx, DecisionInput(
        title="Kinderbetreuung in berufsvorbereitenden Maßnahmen",
        decided_on=meeting.held_on, text="Jobcenter und Jugendamt vereinbaren ein "
        "Kontingent an Betreuungsplätzen für Teilnehmende.",
        responsible="Fachbereichsleitung 4 Jugend, Soziales und Jobcenter",
        follow_up_on=today + timedelta(days=60), theme_ids=[theme.id],
        finding_ids=[f.id for f in findings], project_group_id=group.id,
        meeting_id=meeting.id))
    return Example5Coordination(example, reconstruction, theme, findings, group, decision)
