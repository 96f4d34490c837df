"""Fristen and Wiedervorlagen, the Aufenthaltsstatus with its dates, and the § 104c rules.

§ 104c AufenthG (Chancen-Aufenthaltsrecht): always 18 months from the grant, not extendable;
the § 25a/§ 25b application must be filed before expiry, so reminders come 8 and 6 weeks ahead,
and the checklist (Lebensunterhalt, Sprache, Identität, Familie) is kept with the person.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk.casework.caseload import own_scope
from kimdesk.casework.cases import case_people
from kimdesk.casework.common import (
    check_code,
    check_not_future,
    load,
    record,
    require_processing_consent,
    stamp,
)
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Case, ChecklistItem, Client, Deadline, ResidenceRecord
from kimdesk.reference import ResidenceStatus

P104C = "p104c"
# Deadline kinds a residence status with an end date produces.
_EXPIRY_KIND = {
    "duldung": "duldung_expiry",
    "duldung_training": "duldung_expiry",
    "duldung_employment": "duldung_expiry",
    "gestattung": "gestattung_expiry",
    "fiktion": "fiktion_expiry",
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where the day does not exist)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def p104c_expiry(ctx: Context, granted_on: date) -> date:
    """18 months counted from the grant (§§ 187 Abs. 2, 188 Abs. 2 BGB): the permit ends the
    day before the same date; where that month has no such date (a grant on 31.08. or 31.12.),
    it ends with the month's last day (§ 188 Abs. 3 BGB)."""
    same_date = add_months(granted_on, ctx.reference.rules.p104c_validity_months)
    if same_date.day != granted_on.day:
        return same_date  # add_months fell back to the month's last day
    return same_date - timedelta(days=1)


@dataclass(frozen=True)
class DueItem:
    """One line of the Heute view."""

    deadline_id: str
    client_id: str
    case_id: str | None
    kind: str
    title: str
    due_on: date
    overdue: bool
    p104c: bool
    expired: bool = False  # a § 104c permit that has run out: "abgelaufen", not "läuft ab"

    @property
    def display_title(self) -> str:
        """The title as Heute shows it; an expired § 104c says so."""
        if self.expired:
            return f"§ 104c abgelaufen am {self.due_on:%d.%m.%Y} – kein Aufenthaltsrecht mehr " \
                "nach § 104c; Antrag § 25a/§ 25b prüfen"
        return self.title


@dataclass(frozen=True)
class P104cState:
    """The newest § 104c grant of a person, as the Akte header shows it."""

    granted_on: date | None
    valid_until: date
    expired: bool
    days_left: int  # negative once expired

    @property
    def label(self) -> str:
        if self.expired:
            return f"§ 104c abgelaufen am {self.valid_until:%d.%m.%Y}"
        return f"§ 104c gültig bis {self.valid_until:%d.%m.%Y} (noch {self.days_left} Tage)"


def p104c_state(ctx: Context, client_id: str) -> P104cState | None:
    """The person's § 104c state from her newest residence record, or None when that record is
    not a § 104c grant (a later status replaces it)."""
    with ctx.vault.reading() as session:
        newest = session.scalar(select(ResidenceRecord).where(
            ResidenceRecord.client_id == client_id)
            .order_by(ResidenceRecord.created_at.desc()).limit(1))
        if newest is None or newest.valid_until is None:
            return None
        term = ctx.reference.term("residence_statuses", newest.status)
        if not (isinstance(term, ResidenceStatus) and term.chancen_104c):
            return None
        days_left = (newest.valid_until - ctx.today()).days
        return P104cState(newest.granted_on, newest.valid_until, days_left < 0, days_left)


def add_deadline(ctx: Context, client_id: str, kind: str, due_on: date, title: str,
                 case_id: str | None = None, note: str = "") -> Deadline:
    check_code(ctx, "deadline_kinds", kind, "kind", "Fristart")
    title = title.strip() or ctx.reference.label("deadline_kinds", kind)
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        if case_id is not None:
            case = load(session, Case, case_id, "Der Fall")
            if case.status != "open":
                raise ValidationError("Der Fall ist abgeschlossen.", "case_id")
            if client_id not in case_people(session, case):
                raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        deadline = Deadline(client_id=client_id, case_id=case_id, kind=kind, due_on=due_on,
                            title=title, note=note)
        stamp(ctx, deadline, created=True)
        session.add(deadline)
        session.flush()
        record(ctx, session, "create", client_id, deadline)
        return deadline


def complete_deadline(ctx: Context, deadline_id: str, done_on: date | None = None,
                      note: str = "") -> Deadline:
    done_on = done_on or ctx.today()
    check_not_future(ctx, done_on, "done_on", "Das Erledigt-Datum")
    with ctx.vault.writing() as session:
        deadline = load(session, Deadline, deadline_id, "Die Frist")
        if deadline.done_on is not None:
            raise ValidationError(
                f"Diese Frist ist bereits seit {deadline.done_on:%d.%m.%Y} erledigt.", "done_on")
        deadline.done_on = done_on
        if note:
            deadline.note = (deadline.note + "\n" if deadline.note else "") + note
        stamp(ctx, deadline)
        record(ctx, session, "update", deadline.client_id, deadline, fields=["done_on"])
        return deadline


def due_items(ctx: Context, within_days: int = 14, *, own: bool = False) -> list[DueItem]:
    """Open Fristen and Wiedervorlagen due by today + ``within_days``, overdue first; with
    ``own``, only the user's own (see :mod:`kimdesk.casework.caseload`), as Heute lists them."""
    today = ctx.today()
    horizon = today + timedelta(days=within_days)
    with ctx.vault.reading() as session:
        scope = own_scope(session, ctx.user) if own else None
        rows = session.scalars(
            select(Deadline).where(Deadline.done_on.is_(None), Deadline.due_on <= horizon)
            .order_by(Deadline.due_on, Deadline.created_at)
        )
        return [
            DueItem(d.id, d.client_id, d.case_id, d.kind, d.title, d.due_on, d.due_on < today,
                    d.kind == "p104c_expiry" or d.source.startswith(P104C),
                    d.kind == "p104c_expiry" and d.due_on < today)
            for d in rows
            if scope is None or scope.owns(d.case_id, d.client_id, d.created_by)
        ]


def record_residence(ctx: Context, client_id: str, status: str, *,
                     granted_on: date | None = None, valid_until: date | None = None,
                     note: str = "") -> ResidenceRecord:
    """A new Aufenthaltsstatus; its dates become Fristen, § 104c its full set of reminders."""
    check_code(ctx, "residence_statuses", status, "status", "Aufenthaltsstatus")
    term = ctx.reference.term("residence_statuses", status)
    assert isinstance(term, ResidenceStatus)
    rules = ctx.reference.rules
    check_not_future(ctx, granted_on, "granted_on", "Das Datum der Erteilung")
    if term.chancen_104c:
        if granted_on is None:
            raise ValidationError("Für § 104c bitte das Datum der Erteilung angeben.",
                                  "granted_on")
        if granted_on > rules.p104c_last_grant_date:
            raise ValidationError(
                "Ein Chancen-Aufenthaltsrecht konnte nur bis zum "
                f"{rules.p104c_last_grant_date:%d.%m.%Y} erteilt werden.", "granted_on")
        expiry = p104c_expiry(ctx, granted_on)
        if valid_until is not None and valid_until != expiry:
            raise ValidationError(
                f"§ 104c gilt immer {rules.p104c_validity_months} Monate und ist nicht "
                f"verlängerbar: gültig bis {expiry:%d.%m.%Y}.", "valid_until")
        valid_until = expiry
    if valid_until and granted_on and valid_until < granted_on:
        raise ValidationError("„Gültig bis“ liegt vor der Erteilung.", "valid_until")
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        require_processing_consent(ctx, session, client_id, "Der Aufenthaltsstatus", "status")
        residence = ResidenceRecord(client_id=client_id, status=status, granted_on=granted_on,
                                    valid_until=valid_until, note=note)
        stamp(ctx, residence, created=True)
        session.add(residence)
        session.flush()
        source = f"residence:{residence.id}"
        if term.chancen_104c:
            assert valid_until is not None
            _add(session, ctx, client_id, "p104c_expiry", valid_until,
                 "§ 104c läuft ab – Antrag § 25a/§ 25b muss gestellt sein", f"{P104C}:{source}")
            for weeks in rules.p104c_reminder_weeks:
                _add(session, ctx, client_id, "follow_up", valid_until - timedelta(weeks=weeks),
                     f"§ 104c: noch {weeks} Wochen – Antrag § 25a/§ 25b vorbereiten",
                     f"{P104C}:{source}")
            existing = set(session.scalars(select(ChecklistItem.item).where(
                ChecklistItem.client_id == client_id)))
            for item in rules.p104c_checklist:
                if item.code not in existing:
                    session.add(ChecklistItem(client_id=client_id, item=item.code,
                                              created_by=ctx.user))
        elif valid_until is not None:
            kind = _EXPIRY_KIND.get(status, "permit_expiry")
            _add(session, ctx, client_id, kind, valid_until,
                 f"{term.label}: gültig bis {valid_until:%d.%m.%Y}", source)
        if status == "ae_24" and valid_until is not None and (
            valid_until >= rules.p24_valid_on and granted_on is not None
        ):
            _add(session, ctx, client_id, "p24_continuation", rules.p24_continued_until,
                 "§ 24: Fortgeltung endet", source)
        record(ctx, session, "create", client_id, residence, status=status)
        return residence


def _add(session: Session, ctx: Context, client_id: str, kind: str, due_on: date, title: str,
         source: str) -> None:
    session.add(Deadline(client_id=client_id, case_id=None, kind=kind, due_on=due_on,
                         title=title, source=source, created_by=ctx.user, updated_by=ctx.user))


def set_checklist_item(ctx: Context, client_id: str, item: str, fulfilled: bool,
                       note: str = "", on: date | None = None) -> ChecklistItem:
    codes = [t.code for t in ctx.reference.rules.p104c_checklist]
    if item not in codes:
        raise ValidationError("Unbekannter Prüfpunkt.", "item")
    check_not_future(ctx, on, "fulfilled_on", "Das Datum")
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        require_processing_consent(ctx, session, client_id, "Die § 104c-Prüfliste", "item")
        entry = session.scalar(select(ChecklistItem).where(
            ChecklistItem.client_id == client_id, ChecklistItem.item == item))
        if entry is None:
            entry = ChecklistItem(client_id=client_id, item=item, created_by=ctx.user)
            session.add(entry)
        entry.fulfilled = fulfilled
        entry.fulfilled_on = (on or ctx.today()) if fulfilled else None
        entry.note = note
        stamp(ctx, entry)
        session.flush()
        record(ctx, session, "update", client_id, entry, fields=["fulfilled"])
        return entry


def residence_history(ctx: Context, client_id: str) -> list[ResidenceRecord]:
    with ctx.vault.reading() as session:
        return list(session.scalars(select(ResidenceRecord).where(
            ResidenceRecord.client_id == client_id).order_by(ResidenceRecord.created_at)))


def checklist(ctx: Context, client_id: str) -> list[ChecklistItem]:
    with ctx.vault.reading() as session:
        return list(session.scalars(select(ChecklistItem).where(
            ChecklistItem.client_id == client_id)))
