"""The Auskunft's content in German words, and its machine-readable companion (Art. 20 DSGVO).

The PDF (``personal.auskunft``) and the JSON (:func:`auskunft_json`) say the same: what is
stored about a person, where it came from (:mod:`kimdesk.casework.disclosure`), which
colleagues changed it, who opened or changed the file. Internal names of tables and fields
never reach the person: every one is looked up in :data:`ENTITY_LABELS` / :data:`FIELD_LABELS`
and an unknown one reads "weitere Angaben".

The JSON follows ``docs/auskunft.schema.json`` (JSON Schema 2020-12): stable English keys,
ISO dates, codes together with their German labels.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework import audit, disclosure, views
from kimdesk.casework.common import load, record
from kimdesk.casework.context import Context
from kimdesk.casework.disclosure import ColleagueEdit, Source
from kimdesk.models import (
    Assessment,
    Case,
    CaseParticipant,
    Client,
    Contact,
    Deadline,
    Goal,
    Institution,
    Referral,
    Step,
)
from kimdesk.reference import Reference

SCHEMA_ID = "https://kimdesk.kreis-kleve.de/schema/auskunft-1.json"
UNKNOWN = "weitere Angaben"
AUSKUNFT_JSON = "auskunft_art20_json"

ENTITY_LABELS = {
    "clients": "Stammdaten",
    "households": "Haushalt",
    "relations": "Beziehung",
    "cases": "Fall",
    "case_participants": "Beteiligung an einem Fall",
    "case_topics": "Themen des Falls",
    "case_kind_changes": "Wechsel der Fallart",
    "phase_changes": "Phasenwechsel",
    "case_reviews": "Fallbesprechung",
    "contacts": "Kontakt",
    "consents": "Einwilligung oder Schweigepflichtentbindung",
    "assessments": "Assessment",
    "goals": "Ziel",
    "steps": "Handlungsschritt",
    "referrals": "Vermittlung",
    "deadlines": "Frist/Wiedervorlage",
    "attachments": "Dokument",
    "residence_records": "Aufenthaltsstatus",
    "checklist_items": "Prüfpunkt § 104c",
    "deletion_proposals": "Löschvorschlag",
    "institutions": "Einrichtung",
}
FIELD_LABELS = {
    "first_name": "Vorname", "last_name": "Nachname", "organisation_name": "Name",
    "gender": "Geschlecht", "birth_date": "Geburtsdatum", "nationality": "Staatsangehörigkeit",
    "languages": "Sprachen", "interpreter_language": "Sprache für Sprachmittlung",
    "municipality": "Kommune", "address": "Anschrift", "phone": "Telefon", "email": "E-Mail",
    "arrival_date": "Einreisedatum", "household_id": "Haushalt",
    "household_role": "Rolle im Haushalt", "notes": "Notizen", "anonymous": "anonym",
    "kind": "Art", "phase": "Phase", "status": "Status", "concern": "Anliegen",
    "access_route": "Zugangsweg", "cm_indicated": "Indikation Case Management",
    "art13_informed_on": "Information nach Art. 13 DSGVO", "done_on": "erledigt am",
    "attainment": "Zielerreichung", "outcome": "Ergebnis", "revoked_on": "Widerruf",
    "postponed_until": "zurückgestellt bis",
    # Fallbesprechung
    "advice": "Empfehlungen des Teams", "next_steps": "nächste Schritte",
    "occasion": "Anlass und Fragestellung", "relevant_information": "relevante Informationen",
    "development": "bisheriger Verlauf", "network": "beteiligtes Netzwerk",
    "tags": "Bedarfe, Ressourcen, Herausforderungen", "held_on": "Datum der Besprechung",
    "presenter": "vorstellende Fachkraft", "confirmed_by": "bestätigt von",
    "confirmed_at": "bestätigt am",
    # cases, contacts, planning
    "opened_on": "eröffnet am", "closed_on": "abgeschlossen am",
    "closing_reason": "Abschlussgrund", "closing_note": "Abschlussvermerk",
    "team": "Team", "case_manager": "Case Manager:in", "contact_on": "Datum des Kontakts",
    "mode": "Kontaktart", "duration_minutes": "Dauer", "place": "Ort",
    "interpreter": "Sprachmittlung", "client_present": "anwesend", "topics": "Themen",
    "topic": "Thema", "note": "Notiz", "superseded": "ersetzt", "life_area": "Lebensbereich",
    "situation": "Situation", "resources": "Ressourcen", "problems": "Probleme",
    "client_view": "Ihre Sicht", "need": "Bedarf", "assessed_on": "Datum des Assessments",
    "title": "Titel", "detail": "Beschreibung", "priority": "Priorität",
    "agreed_on": "vereinbart am", "evaluated_on": "bewertet am", "description": "Beschreibung",
    "responsible": "verantwortlich", "due_on": "fällig am", "from_kind": "bisherige Fallart",
    "to_kind": "neue Fallart", "from_phase": "bisherige Phase", "to_phase": "neue Phase",
    "changed_on": "geändert am", "reason": "Begründung",
    # consents, referrals, residence, documents
    "given_on": "erteilt am", "valid_until": "gültig bis", "purpose": "Zweck",
    "information_kinds": "Arten von Informationen", "special_categories": "Gesundheitsdaten",
    "mutual": "gegenseitig", "form": "Form", "language": "Sprache",
    "recipient_type": "Empfänger", "recipient_text": "Empfänger",
    "recipient_institution_id": "Empfänger", "revocation_note": "Notiz zum Widerruf",
    "referred_on": "vermittelt am", "outcome_on": "Ergebnis am",
    "shares_data": "Datenweitergabe", "institution_id": "Einrichtung",
    "granted_on": "erteilt am", "item": "Prüfpunkt", "fulfilled": "erfüllt",
    "fulfilled_on": "erfüllt am", "filename": "Dateiname", "media_type": "Dateiart",
    "size": "Größe", "sha256": "Prüfsumme", "label": "Bezeichnung", "source": "Herkunft",
    "created_at": "erfasst am", "created_by": "erfasst von", "updated_at": "geändert am",
    "updated_by": "geändert von", "requested_on": "Antrag vom", "due_since": "fällig seit",
    "decided_by": "entschieden von", "decided_on": "entschieden am",
}


def entity_label(name: str) -> str:
    return ENTITY_LABELS.get(name, UNKNOWN) if name else "–"


def field_labels(names: Any) -> str:
    """German names of fields, each once, in the given order; unknown ones as one phrase."""
    if not isinstance(names, list):
        return ""
    labels: list[str] = []
    for name in names:
        label = FIELD_LABELS.get(str(name), UNKNOWN)
        if label not in labels:
            labels.append(label)
    return ", ".join(labels)


def _label(ref: Reference, vocabulary: str, code: str | None) -> str:
    if not code:
        return ""
    try:
        return ref.label(vocabulary, code)
    except KeyError:
        return code


def source_text(ref: Reference, source: Source, institutions: dict[str, str]) -> str:
    """One source as the person reads it."""
    on = f" am {source.on:%d.%m.%Y}" if source.on else ""
    if source.kind == disclosure.LIST_IMPORT:
        by = f" von {source.who}" if source.who else ""
        return f"aus Liste übernommen ({by.strip() or 'Import'}{on})".replace("( ", "(")
    if source.kind == disclosure.COLLEAGUE:
        return f"von {source.who} (Kolleg:in im Team) erfasst oder geändert"
    if source.kind == disclosure.INSTITUTION:
        if source.route:
            since = f" des Falls vom {source.on:%d.%m.%Y}" if source.on else ""
            return f"über {_label(ref, 'access_routes', source.route)} (Zugangsweg{since})"
        who = institutions.get(source.who) or _label(ref, "institution_types", source.who)
        return f"von {who or 'einer Stelle'} (gegenseitige Schweigepflichtentbindung{on})"
    return "von Ihnen selbst in den Gesprächen"


def edit_row(edit: ColleagueEdit) -> dict[str, str]:
    return {"at": edit.at.isoformat(timespec="seconds"),
            "author": edit.author or "Kolleg:in im Team",
            "area": entity_label(edit.table), "fields": field_labels(edit.fields)}


def provenance(ctx: Context, client_id: str) -> tuple[list[Source], list[ColleagueEdit],
                                                       dict[str, str]]:
    """The sources, the colleagues' edits and the institutions' names (by id)."""
    with ctx.vault.reading() as session:
        sources = disclosure.data_sources(ctx, session, client_id)
        edits = disclosure.colleague_edits(session, client_id)
        institutions = {i.id: i.name for i in session.scalars(select(Institution))}
    return sources, edits, institutions


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _coded(ref: Reference, vocabulary: str, code: str | None) -> dict[str, str] | None:
    return {"code": code, "label": _label(ref, vocabulary, code)} if code else None


def auskunft_document(ctx: Context, client_id: str) -> dict[str, Any]:
    """Everything the PDF Auskunft holds, as one JSON-ready dictionary (schema version 1)."""
    ref = ctx.reference
    file = views.open_client_file(ctx, client_id)
    client = file.client
    sources, edits, institutions = provenance(ctx, client_id)
    with ctx.vault.reading() as session:
        case_ids = [c.id for c in file.cases]
        contacts = list(session.scalars(select(Contact).where(
            Contact.client_id == client_id, Contact.superseded.is_(False))
            .order_by(Contact.contact_on)))
        assessments = list(session.scalars(select(Assessment).where(
            Assessment.client_id == client_id)))
        goals = list(session.scalars(select(Goal).where(Goal.client_id == client_id)))
        steps = list(session.scalars(select(Step).where(Step.goal_id.in_([g.id for g in goals]))))
        referrals = list(session.scalars(select(Referral).where(Referral.client_id == client_id)))
        deadlines = list(session.scalars(select(Deadline).where(
            Deadline.client_id == client_id).order_by(Deadline.due_on)))
        shared = list(session.scalars(select(Case).where(
            Case.id.in_(_participations(session, client_id)), Case.id.not_in(case_ids))))
        trail = audit.entries_for_client(session, client_id)
    person: dict[str, Any] = {
        "first_name": client.first_name, "last_name": client.last_name,
        "organisation_name": client.organisation_name, "anonymous": client.anonymous,
        "gender": _coded(ref, "genders", client.gender),
        "birth_date": _iso(client.birth_date), "nationality": client.nationality,
        "languages": client.languages, "interpreter_language": client.interpreter_language,
        "municipality": client.municipality, "address": client.address, "phone": client.phone,
        "email": client.email, "arrival_date": _iso(client.arrival_date),
        "household": file.household.label if file.household else None,
        "household_role": client.household_role, "notes": client.notes,
        "recorded_on": _iso(client.created_at), "recorded_by": client.created_by,
    }
    return {
        "$schema": SCHEMA_ID,
        "document": "Auskunft nach Art. 15 DSGVO",
        "schema_version": 1,
        "created_on": _iso(ctx.today()),
        "controller": "Kreis Kleve – Kommunales Integrationsmanagement",
        "person": person,
        "sources": [{"kind": s.kind, "text": source_text(ref, s, institutions)}
                    for s in sources],
        "colleague_changes": [edit_row(e) for e in edits],
        "consents": [{
            "kind": _coded(ref, "consent_kinds", c.kind), "purpose": c.purpose,
            "recipient": institutions.get(c.recipient_institution_id or "")
            or _label(ref, "institution_types", c.recipient_type) or c.recipient_text,
            "information_kinds": [_label(ref, "information_kinds", k)
                                  for k in c.information_kinds],
            "special_categories": c.special_categories, "mutual": c.mutual,
            "given_on": _iso(c.given_on), "form": c.form, "valid_until": _iso(c.valid_until),
            "revoked_on": _iso(c.revoked_on)} for c in file.consents],
        "residence": [{"status": _coded(ref, "residence_statuses", r.status),
                       "granted_on": _iso(r.granted_on), "valid_until": _iso(r.valid_until),
                       "note": r.note} for r in file.residence],
        "cases": [{
            "kind": _coded(ref, "case_kinds", c.kind), "own": c.client_id == client_id,
            "opened_on": _iso(c.opened_on), "closed_on": _iso(c.closed_on),
            "status": "abgeschlossen" if c.closed_on else "laufend",
            "team": c.team, "municipality": c.municipality, "case_manager": c.case_manager,
            "concern": c.concern if c.client_id == client_id else "",
            "access_route": _coded(ref, "access_routes", c.access_route)
            if c.client_id == client_id else None,
        } for c in [*file.cases, *shared]],
        "contacts": [{"on": _iso(c.contact_on), "mode": _coded(ref, "contact_kinds", c.mode),
                      "duration_minutes": c.duration_minutes, "note": c.note,
                      "topics": [_label(ref, "topics", t) for t in c.topics]}
                     for c in contacts],
        "assessments": [{"life_area": _coded(ref, "life_areas", a.life_area),
                         "assessed_on": _iso(a.assessed_on), "situation": a.situation,
                         "resources": a.resources, "problems": a.problems,
                         "client_view": a.client_view, "need": a.need} for a in assessments],
        "goals": [{"title": g.title, "detail": g.detail, "status": g.status,
                   "steps": [{"description": s.description, "responsible": s.responsible,
                              "due_on": _iso(s.due_on), "done_on": _iso(s.done_on)}
                             for s in steps if s.goal_id == g.id]} for g in goals],
        "referrals": [{"on": _iso(r.referred_on), "institution":
                       institutions.get(r.institution_id, ""), "purpose": r.purpose,
                       "outcome": _coded(ref, "referral_outcomes", r.outcome),
                       "shared_information": [_label(ref, "information_kinds", k)
                                              for k in r.information_kinds]
                       if r.shares_data else []} for r in referrals],
        "deadlines": [{"due_on": _iso(d.due_on), "kind": _coded(ref, "deadline_kinds", d.kind),
                       "title": d.title, "done_on": _iso(d.done_on)} for d in deadlines],
        "documents": [{"filename": a.filename, "description": a.description,
                       "media_type": a.media_type, "size": a.size,
                       "stored_on": _iso(a.created_at)} for a in file.attachments],
        "access_log": [{"at": _iso(e.at), "by": e.actor,
                        "action": audit.ACTION_LABELS.get(e.action, UNKNOWN),
                        "area": entity_label(e.entity),
                        "fields": field_labels((e.detail or {}).get("fields"))}
                       for e in trail],
    }


def _participations(session: Session, client_id: str) -> list[str]:
    return list(session.scalars(select(CaseParticipant.case_id).where(
        CaseParticipant.client_id == client_id)))


def auskunft_json(ctx: Context, client_id: str) -> bytes:
    """The JSON companion, UTF-8, indented; the export is audited like the PDF's (first, so
    the access log it contains lists it)."""
    with ctx.vault.writing() as session:
        client = load(session, Client, client_id, "Die Person")
        record(ctx, session, "export", client_id, client, document=AUSKUNFT_JSON)
    document = auskunft_document(ctx, client_id)
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
