"""PDFs about one person or case: Zielvereinbarung, Auskunft nach Art. 15 DSGVO, Fallübersicht.

The client file is read through ``casework`` (``views.open_client_file`` audits the read); what
casework has no read function for is read from the models, read-only. Every document is then
recorded in the client's audit trail as "exportiert" with the kind of document, in its own
write transaction, before the PDF is built (so the Auskunft lists its own export).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer
from sqlalchemy import select

from kimdesk.casework import audit, cases, network, planning, views
from kimdesk.casework.common import load, record
from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import (
    AuditEntry,
    Case,
    CaseKindChange,
    CaseParticipant,
    Client,
    Contact,
    Deadline,
    Goal,
    Institution,
    PhaseChange,
    Referral,
    Step,
)
from kimdesk.models.enums import CaseKind, CaseStatus, ClientKind, GoalStatus, Phase
from kimdesk.reference import Reference
from kimdesk.reports.auskunft_data import (
    AUSKUNFT_JSON,
    UNKNOWN,
    edit_row,
    entity_label,
    field_labels,
    provenance,
    source_text,
)
from kimdesk.reports.layout import (
    DocumentInfo,
    content_width,
    fields,
    german_date,
    markup,
    para,
    render,
    signature_lines,
    styles,
    table,
    text,
)

ZIELVEREINBARUNG = "zielvereinbarung"
AUSKUNFT = "auskunft_art15"
FALLUEBERSICHT = "fallübersicht"

GOAL_STATUS = {
    GoalStatus.OPEN: "offen",
    GoalStatus.IN_PROGRESS: "in Arbeit",
    GoalStatus.DONE: "abgeschlossen",
    GoalStatus.DROPPED: "nicht weiter verfolgt",
}
CONSENT_FORMS = {"schriftlich": "schriftlich", "elektronisch": "elektronisch",
                 "muendlich": "mündlich (dokumentiert)", "liste": "aus Liste übernommen"}
RELATION_LABELS = {"spouse": "Ehepartner:in", "parent_of": "Elternteil von",
                   "sibling": "Geschwister", "other": "sonstige Beziehung"}


def _zone() -> ZoneInfo | None:
    try:
        return ZoneInfo("Europe/Berlin")
    except ZoneInfoNotFoundError:  # no time zone data on this system: show UTC
        return None


def _local(moment: datetime) -> str:
    zone = _zone()
    return (f"{moment.astimezone(zone):%d.%m.%Y %H:%M}" if zone
            else f"{moment:%d.%m.%Y %H:%M} UTC")


def person_name(client: Client) -> str:
    """The name as a document addressed to the person writes it: "Vorname Nachname"."""
    if client.kind == ClientKind.ORGANISATION:
        return client.organisation_name
    if client.anonymous:
        return "Anonyme Beratung"
    return " ".join(part for part in (client.first_name, client.last_name) if part)


def _label(ref: Reference, vocabulary: str, code: str | None, empty: str = "–") -> str:
    if not code:
        return empty
    try:
        return ref.label(vocabulary, code)
    except KeyError:
        return code


def _labels(ref: Reference, vocabulary: str, codes: Sequence[str]) -> str:
    return ", ".join(_label(ref, vocabulary, code) for code in codes) or "–"


def _case_label(case: Case) -> str:
    kind = CaseKind(case.kind).label
    if case.phase and case.status == CaseStatus.OPEN:
        kind += f", Phase {Phase(case.phase).label}"
    return kind


def _team_name(ref: Reference, code: str) -> str:
    try:
        return ref.team(code).name
    except KeyError:
        return code


def _info(ctx: Context, title: str) -> DocumentInfo:
    return DocumentInfo(title=title, team=_team_name(ctx.reference, ctx.team),
                        printed_on=ctx.today())


def _record_export(ctx: Context, client_id: str, document: str, **detail: Any) -> None:
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        record(ctx, session, "export", client_id, client, document=document, **detail)


def _case_and_people(ctx: Context, case_id: str) -> tuple[Case, list[str]]:
    with ctx.vault.reading() as session:
        case = load(session, Case, case_id, "Der Fall")
        return case, cases.case_people(session, case)


# --- Zielvereinbarung -------------------------------------------------------------------------


def zielvereinbarung(ctx: Context, case_id: str, client_id: str | None = None,
                     language: str | None = None) -> bytes:
    """The Zielvereinbarung of one person in a case: goals, steps (who does what by when),
    lines to sign for the Ratsuchende:n and the Case Manager:in. With ``language`` (code or
    German name, e.g. "ar") headings and fixed text are bilingual; the goals stay German."""
    from kimdesk.reports.client_documents import bilingual, bilingual_signatures, title_block

    texts = bilingual("zielvereinbarung", language or "de")
    ref = ctx.reference
    case, people = _case_and_people(ctx, case_id)
    client_id = client_id or case.client_id
    if client_id not in people:
        raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
    goals = [g for g in planning.goals_of(ctx, case_id, client_id)
             if g.status != GoalStatus.DROPPED]
    if not goals:
        raise KimdeskError("Für diese Person sind in diesem Fall noch keine Ziele vereinbart.")
    client = views.open_client_file(ctx, client_id).client
    steps = {goal.id: planning.steps_of(ctx, goal.id) for goal in goals}
    _record_export(ctx, client_id, ZIELVEREINBARUNG, case_id=case_id,
                   **({"language": texts.other.code} if texts.other else {}))

    info = _info(ctx, "Zielvereinbarung")
    width = content_width(info)
    st = styles()
    story: list[Flowable] = [
        *(title_block(texts, width) if texts.other else [para(texts.de("title"), st.title)]),
        fields([
            (texts.both("client"), person_name(client)),
            (texts.both("birth_date"), german_date(client.birth_date, "")),
            (texts.both("case"), f"{_case_label(case)}, seit {german_date(case.opened_on)}"),
            (texts.both("case_manager"), case.case_manager),
            (texts.both("team"), _team_name(ref, case.team)),
        ], width, label_width=58 * mm if texts.other else 48 * mm),
        Spacer(1, 4 * mm),
        texts.rows(width, [[("intro", "body")]]) if texts.other else para(texts.de("intro")),
    ]
    for number, goal in enumerate(goals, start=1):
        goal_label = f"{texts.de('goal')} {number}"
        if texts.other:
            goal_label += f" / {texts.tr('goal')} {number}"
        block: list[Flowable] = [para(f"{goal_label}: {goal.title}", st.heading)]
        if goal.detail:
            block.append(markup(f"<b>Genauer:</b> {text(goal.detail)}"))
        details = [f"Lebensbereich: {_label(ref, 'life_areas', goal.life_area)}",
                   f"Zieldatum: {german_date(goal.due_on)}",
                   f"Stand: {GOAL_STATUS.get(GoalStatus(goal.status), goal.status)}"]
        if goal.agreed_on:
            details.insert(2, f"vereinbart am {german_date(goal.agreed_on)}")
        block.append(para(" · ".join(details), st.small))
        rows: list[list[Any]] = [[texts.heading_cell(key) if texts.other else texts.de(key)
                                  for key in ("step", "who", "until", "done")]]
        rows += [[s.description, s.responsible, german_date(s.due_on),
                  german_date(s.done_on, "")] for s in steps[goal.id]]
        if len(rows) == 1:
            rows.append(["(noch keine Schritte vereinbart)", "", "", ""])
        block += [Spacer(1, 1.5 * mm),
                  table(rows, [width - 98 * mm, 56 * mm, 21 * mm, 21 * mm])]
        story.append(KeepTogether(block))
    story += [Spacer(1, 6 * mm),
              para(f"{texts.de('next_review')}: ____________________")]
    if texts.other:
        story.append(texts.block(f"{texts.tr('next_review')}:", "small"))
    story += [
        Spacer(1, 8 * mm),
        bilingual_signatures(texts, ["sign_client", "sign_case_manager"], width)
        if texts.other else signature_lines([texts.de("sign_client"),
                                             texts.de("sign_case_manager")], width),
    ]
    return render(info, story)


# --- Auskunft nach Art. 15 DSGVO --------------------------------------------------------------


@dataclass
class _CaseRecord:
    case: Case
    own: bool  # the person's own case, or one they take part in
    kinds: list[CaseKindChange]
    phases: list[PhaseChange]
    goals: list[tuple[Goal, list[Step]]]
    assessments: list[Any]
    referrals: list[tuple[Referral, str]]


def auskunft(ctx: Context, client_id: str) -> bytes:
    """Everything stored about one person (Art. 15 DSGVO): Stammdaten, consents, residence,
    cases with contacts, assessments, goals and referrals, deadlines, documents, and who opened
    or changed the file when. Data of other persons (household members) are left out
    (Art. 15 Abs. 4 DSGVO)."""
    ref = ctx.reference
    file = views.open_client_file(ctx, client_id)
    client = file.client
    with ctx.vault.reading() as session:
        # Cases of household members in which this person takes part.
        shared = list(session.scalars(
            select(Case).join(CaseParticipant, CaseParticipant.case_id == Case.id)
            .where(CaseParticipant.client_id == client_id, Case.client_id != client_id)
            .order_by(Case.opened_on)))
        deadlines = list(session.scalars(
            select(Deadline).where(Deadline.client_id == client_id).order_by(Deadline.due_on)))
        own_contacts = list(session.scalars(
            select(Contact).where(Contact.client_id == client_id,
                                   Contact.superseded.is_(False))
            .order_by(Contact.contact_on, Contact.created_at)))
        institutions = {i.id: i for i in session.scalars(select(Institution))}
    records = [_case_record(ctx, case, client_id, own=True, institutions=institutions)
               for case in file.cases]
    records += [_case_record(ctx, case, client_id, own=False, institutions=institutions)
                for case in shared]
    # The export is recorded before the trail is read, so the Auskunft shows it too.
    _record_export(ctx, client_id, AUSKUNFT)
    with ctx.vault.reading() as session:
        trail = audit.entries_for_client(session, client_id)
    sources, edits, institution_names = provenance(ctx, client_id)

    info = _info(ctx, "Auskunft nach Art. 15 DSGVO")
    width = content_width(info)
    st = styles()
    story: list[Flowable] = [
        para("Auskunft nach Art. 15 DSGVO", st.title),
        para(f"über die im Kommunalen Integrationsmanagement gespeicherten Daten von "
             f"{person_name(client)}, Stand {german_date(ctx.today())}"),
        para("Diese Auskunft enthält alle Daten, die in KIMdesk zu Ihrer Person gespeichert "
             "sind, und wer Ihre Akte wann geöffnet oder geändert hat. Angaben über andere "
             "Personen, etwa Mitglieder Ihres Haushalts, sind zu deren Schutz nicht enthalten.",
             st.small),
        para("1. Angaben zur Person", st.heading),
        fields(_client_fields(ref, file), width),
    ]
    if file.relations:
        story.append(para("Beziehungen", st.subheading))
        story.append(para("; ".join(RELATION_LABELS.get(r.kind, r.kind) for r in
                                    file.relations) + " (weitere Person, Angaben nicht Teil "
                          "dieser Auskunft)"))

    story.append(para("2. Einwilligungen und Schweigepflichtentbindungen", st.heading))
    if file.consents:
        rows: list[list[Any]] = [["Art, Empfänger", "Informationen, Zweck", "Erteilt",
                                  "Gültig bis", "Widerruf"]]
        for consent in file.consents:
            recipient = ("KIM Kreis Kleve" if consent.kind == "data_processing" else
                         _recipient(ref, consent, institutions))
            what = consent.purpose
            if consent.information_kinds:
                what = f"{_labels(ref, 'information_kinds', consent.information_kinds)}; {what}"
            if consent.special_categories:
                what += " (einschließlich Gesundheitsdaten)"
            given = (f"{german_date(consent.given_on)}, "
                     f"{CONSENT_FORMS.get(consent.form, consent.form)}")
            rows.append([f"{_label(ref, 'consent_kinds', consent.kind)}\n{recipient}", what,
                         given, german_date(consent.valid_until),
                         german_date(consent.revoked_on)])
        story.append(table(rows, [54 * mm, width - 120 * mm, 26 * mm, 20 * mm, 20 * mm]))
    else:
        story.append(para("Keine."))

    story.append(para("3. Aufenthalt", st.heading))
    if file.residence:
        rows = [["Aufenthaltsstatus", "Erteilt am", "Gültig bis", "Bemerkung"]]
        rows += [[_label(ref, "residence_statuses", r.status), german_date(r.granted_on),
                  german_date(r.valid_until), r.note] for r in file.residence]
        story.append(table(rows, [62 * mm, 23 * mm, 23 * mm, width - 108 * mm]))
    else:
        story.append(para("Kein Aufenthaltsstatus gespeichert."))
    if file.checklist:
        story.append(para("Prüfpunkte Chancen-Aufenthaltsrecht (§ 104c AufenthG)",
                          st.subheading))
        rows = [["Prüfpunkt", "Erfüllt", "am", "Bemerkung"]]
        rows += [[_label(ref, "p104c_checklist", item.item), "ja" if item.fulfilled else "nein",
                  german_date(item.fulfilled_on), item.note] for item in file.checklist]
        story.append(table(rows, [62 * mm, 16 * mm, 23 * mm, width - 101 * mm]))

    story.append(para("4. Fälle", st.heading))
    if not records:
        story.append(para("Keine Fälle."))
    for record_ in records:
        story += _case_section(ref, record_, width, own_contacts)

    story.append(para("5. Fristen und Wiedervorlagen", st.heading))
    if deadlines:
        rows = [["Fällig am", "Art", "Titel", "Erledigt am"]]
        rows += [[german_date(d.due_on), _label(ref, "deadline_kinds", d.kind), d.title,
                  german_date(d.done_on)] for d in deadlines]
        story.append(table(rows, [23 * mm, 55 * mm, width - 101 * mm, 23 * mm]))
    else:
        story.append(para("Keine."))

    story.append(para("6. Dokumente", st.heading))
    if file.attachments:
        rows = [["Datei", "Beschreibung", "Art", "Größe", "Gespeichert am"]]
        rows += [[a.filename, a.description, a.media_type, f"{max(1, a.size // 1024)} KB",
                  german_date(a.created_at.date())] for a in file.attachments]
        story.append(table(rows, [50 * mm, width - 136 * mm, 38 * mm, 18 * mm, 30 * mm]))
        story.append(para("Kopien der Dokumente erhalten Sie auf Wunsch gesondert.", st.small))
    else:
        story.append(para("Keine."))

    story.append(para("7. Protokoll: wer Ihre Akte wann geöffnet oder geändert hat", st.heading))
    rows = [["Zeitpunkt", "Person", "Vorgang", "Bereich", "Betroffene Angaben"]]
    rows += [_audit_row(entry) for entry in trail]
    story.append(table(rows, [27 * mm, 32 * mm, 22 * mm, 49 * mm, width - 130 * mm],
                       zebra=True))
    story.append(para("Änderungen durch Kolleg:innen im Team (aus dem Abgleich ihrer Geräte)",
                      st.subheading))
    if edits:
        rows = [["Zeitpunkt", "Person", "Bereich", "Geänderte Angaben"]]
        for edit in edits:
            row = edit_row(edit)
            rows.append([_local(edit.at), row["author"], row["area"], row["fields"]])
        story.append(table(rows, [27 * mm, 40 * mm, 49 * mm, width - 116 * mm], zebra=True))
    else:
        story.append(para("Keine: alle Angaben wurden auf diesem Gerät erfasst."))

    story.append(para("8. Weitere Informationen nach Art. 15 Abs. 1 DSGVO", st.heading))
    origin = "; ".join(source_text(ref, s, institution_names) for s in sources)
    story += _art15_information(ref, file, records, institutions, width, origin)
    return render(info, story)


def _recipient(ref: Reference, consent: Any, institutions: dict[str, Institution]) -> str:
    if consent.recipient_institution_id in institutions:
        return institutions[consent.recipient_institution_id].name
    if consent.recipient_type:
        return _label(ref, "institution_types", consent.recipient_type)
    return consent.recipient_text or "–"


def _client_fields(ref: Reference, file: views.ClientFile) -> list[tuple[str, object]]:
    client = file.client
    nationality = "–"
    if client.nationality:
        try:
            nationality = ref.nationality(client.nationality).name
        except KeyError:
            nationality = client.nationality
    municipality = _municipality_name(ref, client.municipality)
    pairs: list[tuple[str, object]] = []
    if client.kind == ClientKind.ORGANISATION:
        pairs.append(("Organisation", client.organisation_name))
    else:
        pairs += [("Vorname", client.first_name), ("Nachname", client.last_name)]
        if client.anonymous:
            pairs.append(("Anonyme Beratung", "ja"))
    pairs += [
        ("Geschlecht", _label(ref, "genders", client.gender)),
        ("Geburtsdatum", german_date(client.birth_date)),
        ("Staatsangehörigkeit", nationality),
        ("Sprachen", client.languages),
        ("Sprache für Sprachmittlung", client.interpreter_language),
        ("Kommune", municipality),
        ("Anschrift", client.address),
        ("Telefon", client.phone),
        ("E-Mail", client.email),
        ("Einreisedatum", german_date(client.arrival_date)),
        ("Haushalt", file.household.label if file.household else "–"),
        ("Rolle im Haushalt", client.household_role),
        ("Notizen", client.notes),
        ("Erfasst am", f"{german_date(client.created_at.date())} von {client.created_by}"),
        ("Zuletzt geändert", f"{german_date(client.updated_at.date())} von {client.updated_by}"),
    ]
    return pairs


def _case_record(ctx: Context, case: Case, client_id: str, *, own: bool,
                 institutions: dict[str, Institution]) -> _CaseRecord:
    goals = planning.goals_of(ctx, case.id, client_id)
    referrals = [r for r in network.referrals_of(ctx, case.id) if r.client_id == client_id]
    return _CaseRecord(
        case=case, own=own,
        kinds=cases.kind_history(ctx, case.id),
        phases=cases.phase_history(ctx, case.id),
        goals=[(goal, planning.steps_of(ctx, goal.id)) for goal in goals],
        assessments=[a for a in planning.assessments_of(ctx, case.id) if a.client_id == client_id],
        referrals=[(r, institutions[r.institution_id].name if r.institution_id in institutions
                    else "–") for r in referrals],
    )


def _case_section(ref: Reference, item: _CaseRecord, width: float,
                  own_contacts: Sequence[Contact]) -> list[Flowable]:
    st = styles()
    case = item.case
    title = f"Fall: {CaseKind(case.kind).label}, seit {german_date(case.opened_on)}"
    if not item.own:
        title += " (Fall eines Haushaltsmitglieds, an dem Sie beteiligt sind)"
    status = _label(ref, "closing_reasons", case.closing_reason) if case.closing_reason else ""
    result: list[Flowable] = [para(title, st.subheading)]
    pairs: list[tuple[str, object]] = [
        ("Status", f"abgeschlossen am {german_date(case.closed_on)}"
         + (f" ({status})" if status else "") if case.status == CaseStatus.CLOSED
         else "laufend"),
        ("Team, Kommune", f"{_team_name(ref, case.team)}, "
                          f"{_municipality_name(ref, case.municipality)}"),
        ("Case Manager:in", case.case_manager),
    ]
    if item.own:
        pairs += [
            ("Zugangsweg", _label(ref, "access_routes", case.access_route)),
            ("Anliegen", case.concern),
            ("Information nach Art. 13 DSGVO", german_date(case.art13_informed_on)),
        ]
        if case.closing_note:
            pairs.append(("Abschlussvermerk", case.closing_note))
        if item.kinds:
            pairs.append(("Fallart", "; ".join(
                f"{german_date(k.changed_on)}: {CaseKind(k.to_kind).label}"
                + (f" ({k.reason})" if k.reason else "") for k in item.kinds)))
        if item.phases:
            pairs.append(("Phasen", "; ".join(
                f"{german_date(p.changed_on)}: {Phase(p.to_phase).label}" for p in item.phases)))
    result.append(fields(pairs, width))
    if item.assessments:
        rows: list[list[Any]] = [["Lebensbereich", "Situation, Ressourcen, Probleme",
                                  "Ihre Sicht", "Bedarf"]]
        for a in item.assessments:
            parts = [p for p in (a.situation, f"Ressourcen: {a.resources}" if a.resources else "",
                                 f"Probleme: {a.problems}" if a.problems else "") if p]
            rows.append([f"{_label(ref, 'life_areas', a.life_area)} "
                         f"({german_date(a.assessed_on)})", "\n".join(parts), a.client_view,
                         str(a.need)])
        result += [para("Assessment", st.label),
                   table(rows, [40 * mm, width - 104 * mm, 50 * mm, 14 * mm])]
    if item.goals:
        rows = [["Ziel", "Handlungsschritte (wer, bis wann)", "Stand"]]
        for goal, steps in item.goals:
            described = goal.title + (f"\n{goal.detail}" if goal.detail else "")
            step_text = "\n".join(
                f"• {s.description} ({s.responsible}, bis {german_date(s.due_on)}"
                + (f", erledigt {german_date(s.done_on)}" if s.done_on else "") + ")"
                for s in steps) or "–"
            state = GOAL_STATUS.get(GoalStatus(goal.status), goal.status)
            if goal.attainment:
                state += f", Zielerreichung: {_label(ref, 'goal_attainment', goal.attainment)}"
            rows.append([described, step_text, state])
        result += [para("Ziele", st.label),
                   table(rows, [55 * mm, width - 95 * mm, 40 * mm])]
    contacts = [c for c in own_contacts if c.case_id == case.id]
    if contacts:
        rows = [["Datum", "Art, Dauer", "Themen", "Notiz"]]
        for c in contacts:
            how = f"{_label(ref, 'contact_kinds', c.mode)}, {c.duration_minutes} Min."
            if c.interpreter:
                how += f", Sprachmittlung {c.interpreter_language}"
            if c.place:
                how += f", {c.place}"
            rows.append([german_date(c.contact_on), how, _labels(ref, "topics", c.topics),
                         c.note])
        result += [para("Kontakte", st.label),
                   table(rows, [21 * mm, 48 * mm, 40 * mm, width - 109 * mm])]
    if item.referrals:
        rows = [["Datum", "Einrichtung", "Zweck", "Ergebnis", "Weitergegebene Daten"]]
        for referral, institution in item.referrals:
            shared = (_labels(ref, "information_kinds", referral.information_kinds)
                      if referral.shares_data else "keine")
            rows.append([german_date(referral.referred_on), institution, referral.purpose,
                         _label(ref, "referral_outcomes", referral.outcome), shared])
        result += [para("Vermittlungen", st.label),
                   table(rows, [21 * mm, 40 * mm, width - 125 * mm, 28 * mm, 36 * mm])]
    result.append(Spacer(1, 2 * mm))
    return result


def _municipality_name(ref: Reference, code: str) -> str:
    try:
        return ref.municipality(code).name
    except KeyError:
        return code


def _audit_row(entry: AuditEntry) -> list[str]:
    detail = entry.detail or {}
    what = field_labels(detail.get("fields") or [])
    if entry.action == "export" and detail.get("document"):
        what = {ZIELVEREINBARUNG: "Zielvereinbarung (PDF)", AUSKUNFT: "diese Auskunft (PDF)",
                AUSKUNFT_JSON: "Auskunft als Datei (JSON, Art. 20 DSGVO)",
                FALLUEBERSICHT: "Fallübersicht (PDF)"}.get(detail["document"], "Dokument")
    return [_local(entry.at), entry.actor, audit.ACTION_LABELS.get(entry.action, UNKNOWN),
            entity_label(entry.entity), what]


def _art15_information(ref: Reference, file: views.ClientFile, records: list[_CaseRecord],
                       institutions: dict[str, Institution], width: float,
                       origin: str) -> list[Flowable]:
    st = styles()
    recipients = sorted({name for item in records for referral, name in item.referrals
                         if referral.shares_data}
                        | {_recipient(ref, c, institutions) for c in file.consents
                           if c.kind != "data_processing"})
    months = ref.rules.retention_months
    retention = ", ".join(
        f"{CaseKind(kind).label}: {months[kind]} Monate" for kind in
        (k.value for k in CaseKind) if kind in months)
    lines = [
        ("Zwecke", "Beratung und Begleitung im Kommunalen Integrationsmanagement "
                   "(Case Management), Vermittlung an zuständige Stellen mit Ihrer "
                   "Einwilligung; ohne Bezug zu Ihrer Person zusätzlich anonymisierte "
                   "Statistiken für die Steuerung des Programms."),
        ("Empfänger", "Daten wurden nur mit Ihrer Schweigepflichtentbindung weitergegeben an: "
                      + ", ".join(recipients) if recipients
         else "Es wurden keine Daten an andere Stellen weitergegeben."),
        ("Speicherdauer", f"Nach Abschluss des letzten Falls: {retention}; danach wird die "
                          "Akte gelöscht. Es bleiben nur anonyme Zahlen für die Statistik."),
        ("Herkunft der Daten", origin[:1].upper() + origin[1:] + "."),
        ("Ihre Rechte", "Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung der "
                        "Verarbeitung (Art. 18) und Widerspruch (Art. 21 DSGVO); eine "
                        "Einwilligung können Sie jederzeit für die Zukunft widerrufen "
                        "(Art. 7 Abs. 3). Sie können sich bei der Datenschutzaufsicht "
                        "beschweren (Art. 77 DSGVO)."),
        ("Automatisierte Entscheidungen", "Finden nicht statt."),
    ]
    return [fields(lines, width, 42 * mm),
            Spacer(1, 2 * mm),
            para("Bei Fragen wenden Sie sich an Ihre Case Managerin oder Ihren Case Manager.",
                 st.small)]


# --- Fallübersicht ----------------------------------------------------------------------------


def case_summary(ctx: Context, case_id: str) -> bytes:
    """A case at a glance (for a handover or the file): data, history, persons, assessment,
    goals, contacts, referrals and open deadlines."""
    ref = ctx.reference
    case, people = _case_and_people(ctx, case_id)
    file = views.open_client_file(ctx, case.client_id)
    with ctx.vault.reading() as session:
        participants = [session.get(Client, pid) for pid in people if pid != case.client_id]
        institutions = {i.id: i for i in session.scalars(select(Institution))}
        open_deadlines = list(session.scalars(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.done_on.is_(None))
            .order_by(Deadline.due_on)))
    contacts = cases.contacts_of(ctx, case_id)
    goals = planning.goals_of(ctx, case_id)
    steps = {goal.id: planning.steps_of(ctx, goal.id) for goal in goals}
    assessments = planning.assessments_of(ctx, case_id)
    referrals = network.referrals_of(ctx, case_id)
    kinds, phases = cases.kind_history(ctx, case_id), cases.phase_history(ctx, case_id)
    names = {case.client_id: person_name(file.client)}
    names.update({p.id: person_name(p) for p in participants if p is not None})
    _record_export(ctx, case.client_id, FALLUEBERSICHT, case_id=case_id)

    info = _info(ctx, "Fallübersicht")
    width = content_width(info)
    st = styles()
    client = file.client
    story: list[Flowable] = [
        para("Fallübersicht", st.title),
        fields([
            ("Ratsuchende:r", person_name(client)
             + (f", geb. {german_date(client.birth_date)}" if client.birth_date else "")),
            ("Weitere Personen", ", ".join(names[p.id] for p in participants if p) or "–"),
            ("Fallart", _case_label(case)),
            ("Status", "laufend" if case.status == CaseStatus.OPEN else
             f"abgeschlossen am {german_date(case.closed_on)} "
             f"({_label(ref, 'closing_reasons', case.closing_reason)})"),
            ("Eröffnet", german_date(case.opened_on)),
            ("Team, Kommune", f"{_team_name(ref, case.team)}, "
                              f"{_municipality_name(ref, case.municipality)}"),
            ("Case Manager:in", case.case_manager),
            ("Zugangsweg", _label(ref, "access_routes", case.access_route)),
            ("Anliegen", case.concern),
            ("Einwilligung", "liegt vor" if file.has_processing_consent else "liegt nicht vor"),
        ], width),
    ]
    history = [(k.changed_on, f"Fallart: {CaseKind(k.to_kind).label}", k.reason) for k in kinds]
    history += [(p.changed_on, f"Phase: {Phase(p.to_phase).label}", p.note) for p in phases]
    if history:
        story.append(para("Verlauf von Fallart und Phase", st.heading))
        rows: list[list[Any]] = [["Datum", "Änderung", "Bemerkung"]]
        rows += [[german_date(on), what, note] for on, what, note in sorted(
            history, key=lambda h: h[0])]
        story.append(table(rows, [23 * mm, 70 * mm, width - 93 * mm]))
    if assessments:
        story.append(para("Assessment", st.heading))
        rows = [["Person, Lebensbereich", "Situation und Ressourcen", "Sicht der Person",
                 "Bedarf"]]
        for a in assessments:
            rows.append([f"{names.get(a.client_id, '–')}: "
                         f"{_label(ref, 'life_areas', a.life_area)}",
                         "\n".join(p for p in (a.situation, a.resources, a.problems) if p),
                         a.client_view, str(a.need)])
        story.append(table(rows, [45 * mm, width - 109 * mm, 50 * mm, 14 * mm]))
    story.append(para("Ziele und Handlungsschritte", st.heading))
    if goals:
        rows = [["Person, Ziel", "Handlungsschritte (wer, bis wann)", "Stand"]]
        for goal in goals:
            step_text = "\n".join(
                f"• {s.description} ({s.responsible}, bis {german_date(s.due_on)}"
                + (", erledigt" if s.done_on else "") + ")" for s in steps[goal.id]) or "–"
            state = GOAL_STATUS.get(GoalStatus(goal.status), goal.status)
            if goal.attainment:
                state += f": {_label(ref, 'goal_attainment', goal.attainment)}"
            rows.append([f"{names.get(goal.client_id, '–')}: {goal.title}", step_text, state])
        story.append(table(rows, [55 * mm, width - 95 * mm, 40 * mm]))
    else:
        story.append(para("Noch keine Ziele vereinbart."))
    story.append(para(f"Kontakte ({len(contacts)})", st.heading))
    if contacts:
        rows = [["Datum", "Art, Dauer", "Themen", "Notiz"]]
        for c in contacts:
            how = f"{_label(ref, 'contact_kinds', c.mode)}, {c.duration_minutes} Min."
            if c.interpreter:
                how += f", Sprachmittlung {c.interpreter_language}"
            if c.client_id != case.client_id:
                how += f", mit {names.get(c.client_id, 'weiterer Person')}"
            rows.append([german_date(c.contact_on), how, _labels(ref, "topics", c.topics),
                         c.note])
        story.append(table(rows, [21 * mm, 48 * mm, 40 * mm, width - 109 * mm], zebra=True))
    if referrals:
        story.append(para("Vermittlungen", st.heading))
        rows = [["Datum", "Einrichtung", "Zweck", "Ergebnis"]]
        rows += [[german_date(r.referred_on),
                  institutions[r.institution_id].name if r.institution_id in institutions
                  else "–", r.purpose, _label(ref, "referral_outcomes", r.outcome)]
                 for r in referrals]
        story.append(table(rows, [21 * mm, 50 * mm, width - 101 * mm, 30 * mm]))
    story.append(para("Offene Fristen und Wiedervorlagen", st.heading))
    if open_deadlines:
        rows = [["Fällig am", "Art", "Titel"]]
        rows += [[german_date(d.due_on), _label(ref, "deadline_kinds", d.kind), d.title]
                 for d in open_deadlines]
        story.append(table(rows, [23 * mm, 60 * mm, width - 83 * mm]))
    else:
        story.append(para("Keine."))
    return render(info, story)
