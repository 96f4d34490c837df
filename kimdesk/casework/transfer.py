"""Cases that move between teams (issue 15): the consent check, the bundle of a client's file,
its import in the receiving team and the removal in the sending team.

A client moves, e.g. from Kleve (Team Nord) to Goch (Team Mitte). The case manager asks for the
transfer (:func:`request_transfer`); it needs a consent that covers passing the file within the
KIM (:func:`consent_problem`). The sync (``kimdesk.sync.transfer``) then builds the bundle
(:func:`export_bundle`: the client, the household members in her cases, her cases with their
whole history, her documents with their bytes and her consents), encrypts it for the receiving
team's certified devices and uploads it. A device of the receiving team applies it with
:func:`import_bundle` in ONE vault transaction (its normal sync then shares the records with its
team) and acknowledges; on the acknowledgement the sending device erases the moved records with
the erasure mechanism of the retention rules (:func:`hand_over`: wins everywhere, purges on
every device of the team) and keeps only the note "übergeben an Team … am …".

Records get new ids in the receiving team (:func:`moved_id`: derived from the transfer id and
the old id, so every device that imports the transfer makes the same records, and a file that
comes back to a team it once left does not collide with that team's erasures); institutions
keep theirs (shared reference data of the county). The audit entry of the import names the
sending team's case id. The moved cases are filed under the receiving team and the new Kommune,
so after the transfer only the receiving team counts them (docs/sync.md).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, delete, or_, select
from sqlalchemy.orm import Session

from kimdesk.casework import search
from kimdesk.casework.common import active_consents, load, record
from kimdesk.casework.context import Context
from kimdesk.casework.retention import purge_client
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Appointment,
    Assessment,
    Attachment,
    AuditEntry,
    Case,
    CaseHandover,
    CaseKindChange,
    CaseParticipant,
    CaseTopic,
    CaseTransfer,
    ChecklistItem,
    Client,
    Consent,
    Contact,
    Deadline,
    DeletionProposal,
    Entity,
    Goal,
    Household,
    Institution,
    PhaseChange,
    Referral,
    Relation,
    ResidenceRecord,
    Step,
    SyncDevice,
    VaultProfile,
    new_id,
)
from kimdesk.models.base import UTCDateTime, table_of
from kimdesk.models.changelog import RecordState
from kimdesk.models.enums import ConsentKind, ProposalStatus
from kimdesk.models.transfer import (
    CLOSED,
    HANDED_OVER,
    IMPORTED,
    KEPT,
    KEPT_CLOSED,
    OUT,
    QUARANTINED,
    REQUESTED,
    UPLOADED,
)

BUNDLE_FORMAT = "kimdesk case transfer v1"
# A data-processing consent covers passing the file within the KIM when its purpose names the
# KIM as a whole ("Integrationsmanagement" or "KIM"; the default purpose does).
# Insert order of a bundle's records: every record after the ones it refers to.
_ORDER: tuple[type[Entity], ...] = (
    Household, Institution, Client, Relation, ResidenceRecord, ChecklistItem, Consent, Case,
    CaseParticipant, CaseTopic, CaseKindChange, PhaseChange, Contact, Assessment, Goal, Step,
    Referral, Deadline, Appointment, CaseHandover, Attachment,
)
_MODELS = {model.__tablename__: model for model in _ORDER}


class TransferRefused(ValidationError):
    """A transfer that cannot start (German message: what is needed); nothing changed."""


def own_team(ctx: Context) -> str:
    """The team this device works for: its enrolment, else its vault profile."""
    with ctx.vault.reading() as session:
        device = session.get(SyncDevice, 1)
        if device is not None:
            return device.team
        profile = session.scalars(select(VaultProfile.team)).first()
    return profile or ctx.team


def team_name(ctx: Context, code: str) -> str:
    try:
        return ctx.reference.team(code).name
    except KeyError:  # an unknown code is shown as it is
        return f"Team {code}"


def receiving_teams(ctx: Context) -> list[tuple[str, str]]:
    """(code, name) of the teams a case of this device's team can move to."""
    mine = own_team(ctx)
    return [(t.code, t.name) for t in ctx.reference.teams if t.code != mine]


def municipalities_of(ctx: Context, team: str) -> list[tuple[str, str]]:
    """(code, name) of the Kommunen the receiving team works in (every Kommune for a team that
    works county-wide)."""
    try:
        wanted = ctx.reference.team(team)
    except KeyError:
        return []
    codes = set(wanted.municipalities)
    return [(m.code, m.name) for m in ctx.reference.municipalities
            if wanted.countywide or m.code in codes]


def consent_problem(ctx: Context, session: Session, client_id: str, to_team: str) -> str | None:
    """What is missing for passing the file to ``to_team`` (German), None if a consent covers
    it: an active Einwilligung in die Datenverarbeitung for the KIM as a whole, or an active
    Schweigepflichtentbindung that names the receiving team."""
    name = team_name(ctx, to_team)
    for consent in active_consents(session, client_id, ctx.today()):
        purpose = consent.purpose.casefold()
        words = purpose.replace("-", " ").replace(",", " ").replace(".", " ").split()
        if consent.kind == ConsentKind.DATA_PROCESSING and (
                "integrationsmanagement" in purpose or "kim" in words):
            return None
        if consent.kind == ConsentKind.RELEASE:
            named = consent.recipient_text.casefold()
            if to_team.casefold() in named.split() or name.casefold() in named:
                return None
    return (f"Für die Übergabe an {name} fehlt eine Einwilligung, die die Weitergabe der Akte "
            "innerhalb des Kommunalen Integrationsmanagements abdeckt: eine gültige "
            "Einwilligung in die Datenverarbeitung für das KIM des Kreises Kleve oder eine "
            f"Schweigepflichtentbindung, die {name} als Empfänger nennt. Bitte die Einwilligung "
            "einholen und erfassen; es wurde nichts geändert.")


def consent_message(ctx: Context, case_id: str, to_team: str) -> str | None:
    """:func:`consent_problem` for the client of a case (the dialog shows it at once)."""
    with ctx.vault.reading() as session:
        case = load(session, Case, case_id, "Der Fall")
        return consent_problem(ctx, session, case.client_id, to_team)


def check_transfer(ctx: Context, case_id: str, to_team: str, municipality: str) -> None:
    """TransferRefused (German, names the field) if the case cannot move so; changes nothing."""
    with ctx.vault.reading() as session:
        _check(ctx, session, case_id, to_team, municipality)


def _check(ctx: Context, session: Session, case_id: str, to_team: str,
           municipality: str) -> Case:
    case = load(session, Case, case_id, "Der Fall")
    if to_team not in {code for code, _ in receiving_teams(ctx)}:
        raise TransferRefused("Bitte ein anderes Team des Kreises wählen.", "to_team")
    if municipality not in {code for code, _ in municipalities_of(ctx, to_team)}:
        raise TransferRefused(f"Bitte eine Kommune wählen, für die {team_name(ctx, to_team)} "
                              "zuständig ist.", "municipality")
    running = session.scalars(select(CaseTransfer.id).where(
        CaseTransfer.direction == OUT, CaseTransfer.client_id == case.client_id,
        CaseTransfer.state.not_in((HANDED_OVER, CLOSED, KEPT_CLOSED)))).first()
    if running is not None:
        raise TransferRefused("Die Übergabe dieser Akte ist bereits unterwegs.", "case_id")
    problem = consent_problem(ctx, session, case.client_id, to_team)
    if problem is not None:
        raise TransferRefused(problem, "consent")
    return case


def request_transfer(ctx: Context, case_id: str, to_team: str, municipality: str
                     ) -> CaseTransfer:
    """Ask for the transfer of the case's client file to ``to_team`` (the Kommune she moved
    to); the next sync uploads it. TransferRefused without a covering consent."""
    with ctx.vault.writing() as session:
        case = _check(ctx, session, case_id, to_team, municipality)
        row = CaseTransfer(id=new_id(), direction=OUT, state=REQUESTED,
                           from_team=own_team(ctx), to_team=to_team, client_id=case.client_id,
                           case_id=case.id, municipality=municipality, requested_by=ctx.user,
                           note=f"Übergabe an {team_name(ctx, to_team)} angefordert")
        session.add(row)
        record(ctx, session, "transfer_requested", case.client_id, case, transfer_id=row.id,
               to_team=to_team, municipality=municipality)
        session.flush()
        session.expunge(row)
        return row


def transfers(ctx: Context, *, direction: str | None = None) -> list[CaseTransfer]:
    """This device's transfers, newest first (for the sync and the Fall screen)."""
    with ctx.vault.reading() as session:
        query = select(CaseTransfer).order_by(CaseTransfer.requested_at.desc())
        if direction is not None:
            query = query.where(CaseTransfer.direction == direction)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows


def transfer_note(ctx: Context, case_id: str) -> str:
    """The note of an outgoing transfer of this case ("" if none)."""
    with ctx.vault.reading() as session:
        note = session.scalars(select(CaseTransfer.note).where(
            CaseTransfer.direction == OUT, CaseTransfer.case_id == case_id)
            .order_by(CaseTransfer.requested_at.desc())).first()
    return note or ""


def transfer_status(ctx: Context, case_id: str) -> str:
    """What the Fall screen says about an outgoing transfer of this case's file ("" if none is
    running and none was kept): requested, on its way, or acknowledged but kept here because
    the file changed after it was sent."""
    with ctx.vault.reading() as session:
        row = session.scalars(select(CaseTransfer).where(
            CaseTransfer.direction == OUT, CaseTransfer.case_id == case_id)
            .order_by(CaseTransfer.requested_at.desc())).first()
        if row is None:
            return ""
        name = team_name(ctx, row.to_team)
        if row.state == REQUESTED:
            asked = row.requested_at.astimezone()  # stored in UTC, said in local time
            return (f"Übergabe an {name} angefordert am {asked:%d.%m.%Y}; sie geht beim "
                    "nächsten Abgleich hinaus.")
        if row.state == UPLOADED:
            return (f"Übergabe an {name} unterwegs: übermittelt, wartet auf die Bestätigung "
                    "des Teams. Spätere Änderungen bleiben hier erhalten.")
        if row.state in (KEPT, KEPT_CLOSED) and row.done_on is not None:
            return (f"An {name} übergeben am {row.done_on:%d.%m.%Y}, hier danach noch geändert: "
                    f"die Akte bleibt auch in diesem Team. Bitte die Änderungen mit {name} "
                    "abstimmen und die Akte danach hier löschen.")
        return ""


def set_state(ctx: Context, transfer_id: str, state: str) -> None:
    with ctx.vault.writing() as session:
        row = session.get(CaseTransfer, transfer_id)
        if row is not None:
            row.state = state


# --- the bundle -----------------------------------------------------------------------------


def _participants(session: Session, case_ids: list[str], client_id: str) -> list[str]:
    """The other persons in the client's cases (household members)."""
    return sorted(set(session.scalars(select(CaseParticipant.client_id).where(
        CaseParticipant.case_id.in_(case_ids), CaseParticipant.client_id != client_id))))


def _selection(session: Session, client_id: str) -> dict[type[Entity], list[str]]:
    """The ids of every record of the client's file, by model (what ``purge_client`` erases,
    plus the household members in her cases and the institutions the file refers to)."""
    case_ids = list(session.scalars(select(Case.id).where(Case.client_id == client_id)))
    members = _participants(session, case_ids, client_id)
    persons = [client_id, *members]
    goal_ids = list(session.scalars(select(Goal.id).where(
        or_(Goal.client_id == client_id, Goal.case_id.in_(case_ids)))))
    conditions: dict[type[Entity], Any] = {
        Client: Client.id.in_(persons),
        Relation: Relation.client_id.in_(persons) & Relation.other_id.in_(persons),
        ResidenceRecord: ResidenceRecord.client_id.in_(persons),
        ChecklistItem: ChecklistItem.client_id == client_id,
        Consent: Consent.client_id.in_(persons),
        Case: Case.id.in_(case_ids),
        CaseParticipant: CaseParticipant.case_id.in_(case_ids),
        CaseTopic: CaseTopic.case_id.in_(case_ids),
        CaseKindChange: CaseKindChange.case_id.in_(case_ids),
        PhaseChange: PhaseChange.case_id.in_(case_ids),
        Contact: or_(Contact.client_id == client_id, Contact.case_id.in_(case_ids)),
        Assessment: or_(Assessment.client_id == client_id, Assessment.case_id.in_(case_ids)),
        Goal: Goal.id.in_(goal_ids),
        Step: Step.goal_id.in_(goal_ids),
        Referral: or_(Referral.client_id == client_id, Referral.case_id.in_(case_ids)),
        Deadline: or_(Deadline.client_id == client_id, Deadline.case_id.in_(case_ids)),
        Appointment: or_(Appointment.client_id == client_id, Appointment.case_id.in_(case_ids)),
        CaseHandover: CaseHandover.case_id.in_(case_ids),
        Attachment: or_(Attachment.client_id == client_id, Attachment.case_id.in_(case_ids)),
    }
    chosen = {model: list(session.scalars(select(model.id).where(condition)))
              for model, condition in conditions.items()}
    households = {*session.scalars(select(Client.household_id).where(Client.id.in_(persons))),
                  *session.scalars(select(Case.household_id).where(Case.id.in_(case_ids)))}
    chosen[Household] = sorted(h for h in households if h is not None)
    institutions = {*session.scalars(select(Referral.institution_id).where(
        Referral.id.in_(chosen[Referral]))),
        *session.scalars(select(Consent.recipient_institution_id).where(
            Consent.id.in_(chosen[Consent])))}
    chosen[Institution] = sorted(i for i in institutions if i is not None)
    return chosen


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(model: type[Entity], entity: Entity) -> dict[str, Any]:
    return {column.key: _plain(getattr(entity, column.key))
            for column in table_of(model).columns}


def file_version(session: Session, selection: dict[type[Entity], list[str]]) -> str:
    """A digest of the file's records and the newest clock of each: it changes with every
    entry added to the file and every change of one of its records, here or synced from a
    colleague (institutions, shared by the county, do not count)."""
    ids = sorted({i for model, chosen in selection.items() if model is not Institution
                  for i in chosen})
    clocks: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        clocks.update((record_id, hlc) for record_id, hlc in session.execute(
            select(RecordState.record_id, RecordState.max_hlc)
            .where(RecordState.record_id.in_(ids[start:start + 500]))))
    digest = hashlib.sha256()
    for record_id in ids:
        digest.update(f"{record_id}:{clocks.get(record_id, '')}\n".encode())
    return digest.hexdigest()


def export_bundle(ctx: Context, transfer_id: str) -> dict[str, Any]:
    """The bundle of an outgoing transfer: the client's file as it is now, with the bytes of
    its documents (base64). Plaintext: only ever held in memory and sealed at once. The
    transfer remembers the version of the file the bundle holds (:func:`hand_over`)."""
    with ctx.vault.reading() as session:
        row = load_transfer(session, transfer_id)
        selection = _selection(session, row.client_id)
        version = file_version(session, selection)
        records: dict[str, list[dict[str, Any]]] = {}
        for model in _ORDER:
            ids = selection.get(model, [])
            entities = list(session.scalars(select(model).where(model.id.in_(ids))))
            if model is Contact:
                entities = _superseded_first(entities)
            records[model.__tablename__] = [_row(model, e) for e in entities]
        documents = {}
        for attachment_id in selection[Attachment]:
            content = ctx.vault.attachments.get(attachment_id)
            documents[attachment_id] = base64.b64encode(content).decode("ascii")
        bundle = {"format": BUNDLE_FORMAT, "transfer_id": row.id, "from_team": row.from_team,
                  "to_team": row.to_team, "client_id": row.client_id, "case_id": row.case_id,
                  "municipality": row.municipality, "records": records,
                  "documents": documents}
    with ctx.vault.writing() as session:
        load_transfer(session, transfer_id).sealed_version = version
    return bundle


def _superseded_first(contacts: list[Any]) -> list[Any]:
    """Contacts ordered so a correction comes after the entry it supersedes."""
    by_id = {c.id: c for c in contacts}
    done: set[str] = set()
    ordered: list[Any] = []

    def visit(contact: Any) -> None:
        if contact.id in done:
            return
        done.add(contact.id)
        earlier = by_id.get(contact.supersedes_id or "")
        if earlier is not None:
            visit(earlier)
        ordered.append(contact)

    for contact in sorted(contacts, key=lambda c: (c.created_at, c.id)):
        visit(contact)
    return ordered


def load_transfer(session: Session, transfer_id: str) -> CaseTransfer:
    row = session.get(CaseTransfer, transfer_id)
    if row is None:
        raise ValidationError("Diese Übergabe ist auf diesem Gerät nicht bekannt.")
    return row


class BundleInvalid(ValidationError):
    """A decrypted bundle that does not have the form of one (nothing applied)."""


def _value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(str(value))
    if isinstance(column.type, Date):
        return date.fromisoformat(str(value))
    return value


def moved_id(transfer_id: str, record_id: str) -> str:
    """The id a record of the bundle gets in the receiving team: new (the sending team's log
    holds the old id's erasure, and a file that once left this team may come back), and the
    same on every device that imports this transfer (two imports never make two copies)."""
    return hashlib.sha256(f"kimdesk transfer {transfer_id} {record_id}".encode()
                          ).hexdigest()[:32]


def import_bundle(ctx: Context, bundle: dict[str, Any], *,
                  each: Callable[[int], None] | None = None) -> bool:
    """Apply a verified, decrypted bundle in ONE vault transaction: every record of the file
    (the moved cases filed under this team and the new Kommune), the documents' bytes, the
    audit entry and the transfer's own row, all or nothing. False if this transfer was applied
    before (idempotent by transfer id). ``each(i)`` runs before the i-th record."""
    transfer_id = str(bundle.get("transfer_id", ""))
    if bundle.get("format") != BUNDLE_FORMAT or len(transfer_id) != 32:
        raise BundleInvalid("Die Übergabe hat nicht die erwartete Form.")
    records = bundle.get("records")
    documents = bundle.get("documents")
    if not isinstance(records, dict) or not isinstance(documents, dict) or \
            set(records) - set(_MODELS):
        raise BundleInvalid("Die Übergabe hat nicht die erwartete Form.")
    to_team = str(bundle["to_team"])
    municipality = str(bundle["municipality"])
    renamed = {str(r["id"]) for table, rows in records.items() if table != "institutions"
               and isinstance(rows, list) for r in rows if isinstance(r, dict) and "id" in r}

    def new(value: Any) -> Any:
        return moved_id(transfer_id, value) if isinstance(value, str) and value in renamed \
            else value

    client_id = new(str(bundle["client_id"]))
    with ctx.vault.writing() as session:
        known = session.get(CaseTransfer, transfer_id)
        if known is not None and known.state != QUARANTINED:
            return False
        if known is not None:
            session.delete(known)  # a quarantined try before: replaced by this one
            session.flush()
        index = 0
        for model in _ORDER:
            columns = {c.key: c for c in table_of(model).columns}
            for values in records.get(model.__tablename__, []):
                if each is not None:
                    each(index)
                index += 1
                if not isinstance(values, dict) or set(values) - set(columns) or \
                        not isinstance(values.get("id"), str):
                    raise BundleInvalid("Ein Datensatz der Übergabe hat nicht die erwartete "
                                        "Form.")
                original = values["id"]
                values = {k: new(v) if k == "id" or columns[k].foreign_keys else v
                          for k, v in values.items()}
                if session.get(model, values["id"]) is not None:
                    continue  # an institution the team knows already
                entity = model(**{k: _value(columns[k], v) for k, v in values.items()})
                if isinstance(entity, Case):
                    entity.team = to_team
                    entity.municipality = municipality
                if isinstance(entity, Client) and entity.id == client_id:
                    entity.municipality = municipality
                session.add(entity)
                session.flush()
                if isinstance(entity, Attachment):
                    content = base64.b64decode(str(documents.get(original, "")))
                    if hashlib.sha256(content).hexdigest() != entity.sha256:
                        raise BundleInvalid("Ein Dokument der Übergabe passt nicht zu seiner "
                                            "Prüfsumme.")
                    ctx.vault.attachments.put(entity.id, content)
        for client in session.scalars(select(Client).where(Client.id.in_(
                [new(r["id"]) for r in records.get("clients", [])]))):
            search.reindex(session, client)
        session.add(CaseTransfer(
            id=transfer_id, direction="in", state=IMPORTED, from_team=str(bundle["from_team"]),
            to_team=to_team, client_id=client_id, case_id=new(str(bundle["case_id"])),
            municipality=municipality, requested_by=ctx.user, done_on=ctx.today(),
            note=f"übernommen von {team_name(ctx, str(bundle['from_team']))} am "
                 f"{ctx.today():%d.%m.%Y}"))
        record(ctx, session, "transfer_received", client_id, None, transfer_id=transfer_id,
               from_team=str(bundle["from_team"]), from_case_id=str(bundle["case_id"]))
    return True


def quarantine(ctx: Context, transfer_id: str, from_team: str, to_team: str,
               reason: str) -> None:
    """Note an incoming transfer that was refused (``reason`` German, names no person)."""
    with ctx.vault.writing() as session:
        row = session.get(CaseTransfer, transfer_id)
        if row is None:
            session.add(CaseTransfer(id=transfer_id, direction="in", state=QUARANTINED,
                                     from_team=from_team[:40], to_team=to_team[:40],
                                     note=reason))
        elif row.state == QUARANTINED:
            row.note = reason


def hand_over(ctx: Context, transfer_id: str) -> str:
    """The receiving team acknowledged: erase the moved records in this team (tombstones that
    win and purge on every device of the team, with the documents' ciphertexts), drop the
    client's audit entries behind one entry without personal data, and keep the note
    "übergeben an Team … am …". Returns ``HANDED_OVER``.

    If the file changed here after its bundle was sealed (an entry added, a record edited,
    also by a colleague whose change this device has received), erasing it would lose that
    change: the file stays, the transfer is ``KEPT`` with a note saying so, and the people
    concerned settle it with the receiving team. "" if the acknowledgement was taken before."""
    with ctx.vault.writing() as session:
        row = load_transfer(session, transfer_id)
        if row.state in (HANDED_OVER, KEPT, KEPT_CLOSED, CLOSED):
            return ""
        if row.sealed_version and \
                file_version(session, _selection(session, row.client_id)) != row.sealed_version:
            record(ctx, session, "transfer_kept", row.client_id, None, transfer_id=transfer_id,
                   to_team=row.to_team)
            row.state = KEPT
            row.done_on = ctx.today()
            row.note = (f"an {team_name(ctx, row.to_team)} übergeben am {ctx.today():%d.%m.%Y}; "
                        "hier nach dem Versand geändert, daher nicht gelöscht")
            return KEPT
        case_ids = list(session.scalars(select(Case.id).where(Case.client_id == row.client_id)))
        members = _participants(session, case_ids, row.client_id)
        attachment_ids: list[str] = []
        persons = [row.client_id]
        if session.get(Client, row.client_id) is not None:
            attachment_ids += purge_client(session, row.client_id)
        for member in members:  # household members with nothing else in this team go too
            if session.scalar(select(Case.id).where(Case.client_id == member).limit(1)) or \
                    session.scalar(select(CaseParticipant.id).where(
                        CaseParticipant.client_id == member).limit(1)):
                continue
            if session.get(Client, member) is not None:
                attachment_ids += purge_client(session, member)
                persons.append(member)
        removed = list(session.scalars(select(AuditEntry.seq).where(
            AuditEntry.client_id.in_(persons))))
        # A purge entry (the audit chain accepts the gap of the entries it lists), chained
        # before the client's entries go, as in retention.purge_file.
        record(ctx, session, "purge", None, None, ground="transfer", transfer_id=transfer_id,
               to_team=row.to_team, cases=len(case_ids), removed_seqs=removed)
        session.execute(delete(AuditEntry).where(AuditEntry.client_id.in_(persons)))
        # Open deletion proposals of the file go with it (the receiving team's rules apply).
        session.execute(delete(DeletionProposal).where(
            DeletionProposal.client_id.in_(persons),
            DeletionProposal.status != ProposalStatus.DONE))
        row.state = HANDED_OVER
        row.done_on = ctx.today()
        row.note = f"übergeben an {team_name(ctx, row.to_team)} am {ctx.today():%d.%m.%Y}"
    for attachment_id in attachment_ids:
        ctx.vault.attachments.delete(attachment_id)
    return HANDED_OVER
