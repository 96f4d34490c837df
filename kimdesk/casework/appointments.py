"""Termine with a time of day (an appointment, an escort to an authority) and their iCalendar
export without client data.

A Frist has a date; a Termin has a date, a local starting time and a duration. Times are the
county's wall-clock time (Europe/Berlin), stored as the user agreed them, so a Termin at 9:00
stays at 9:00 across a change to summer time.

The iCalendar export lets a case manager carry her week in her phone's calendar without carrying
client data: each event's title is pseudonymised ("Termin KIM – Fall 4F2A", the code from the
case id), and it holds no name, birth date, place, note or subject. The file is RFC 5545 text
written here (CRLF lines folded at 75 octets, TEXT values escaped, local times with a TZID that
the file defines in its own VTIMEZONE): eighty lines of code, against adding the ``icalendar``
package to every installation (and ``tzdata`` on Windows for its time-zone support) for the
same dozen properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from kimdesk.casework.caseload import own_scope
from kimdesk.casework.cases import case_people
from kimdesk.casework.common import load, record, stamp
from kimdesk.casework.context import Context
from kimdesk.errors import ValidationError
from kimdesk.models import Appointment, Case, Client, utcnow
from kimdesk.models.enums import CaseStatus

APPOINTMENT = "appointment"
ESCORT = "escort"
KINDS = {APPOINTMENT: "Termin", ESCORT: "Begleitung zu einer Behörde"}
MAX_MINUTES = 12 * 60
MAX_TEXT = 300
TZID = "Europe/Berlin"
PRODID = "-//Kreis Kleve//KIMdesk//DE"


@dataclass(frozen=True)
class AppointmentRow:
    """One Termin as Heute and the Akte list it."""

    id: str
    client_id: str
    case_id: str | None
    kind: str
    day: date
    starts_at: time
    duration_minutes: int
    title: str
    place: str
    note: str
    cancelled: bool

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day, self.starts_at) + timedelta(
            minutes=self.duration_minutes)


def appointment_row(a: Appointment) -> AppointmentRow:
    return AppointmentRow(a.id, a.client_id, a.case_id, a.kind, a.day, a.starts_at,
                          a.duration_minutes, a.title, a.place, a.note, a.cancelled)


def _check(kind: str, starts_at: time, duration_minutes: int, title: str, place: str) -> None:
    if kind not in KINDS:
        raise ValidationError("Bitte die Art des Termins wählen.", "kind")
    if starts_at.tzinfo is not None:
        raise ValidationError("Bitte die Uhrzeit ohne Zeitzone angeben.", "starts_at")
    if not 5 <= duration_minutes <= MAX_MINUTES:
        raise ValidationError("Die Dauer muss zwischen 5 und 720 Minuten liegen.",
                              "duration_minutes")
    if len(title) > MAX_TEXT:
        raise ValidationError(f"Der Betreff ist zu lang (höchstens {MAX_TEXT} Zeichen).",
                              "title")
    if len(place) > 200:
        raise ValidationError("Der Ort ist zu lang (höchstens 200 Zeichen).", "place")


def add_appointment(ctx: Context, client_id: str, day: date, starts_at: time, *,
                    kind: str = APPOINTMENT, duration_minutes: int = 60, title: str = "",
                    place: str = "", note: str = "", case_id: str | None = None
                    ) -> AppointmentRow:
    """A new Termin of a person (of her case, if given), on ``day`` at local ``starts_at``."""
    title = " ".join(title.split()) or KINDS.get(kind, "")
    place = place.strip()
    _check(kind, starts_at, duration_minutes, title, place)
    with ctx.vault.writing() as session:
        load(session, Client, client_id, "Die Person")
        if case_id is not None:
            case = load(session, Case, case_id, "Der Fall")
            if case.status != CaseStatus.OPEN:
                raise ValidationError("Der Fall ist abgeschlossen.", "case_id")
            if client_id not in case_people(session, case):
                raise ValidationError("Die Person gehört nicht zu diesem Fall.", "client_id")
        appointment = Appointment(client_id=client_id, case_id=case_id, kind=kind, day=day,
                                  start_minute=starts_at.hour * 60 + starts_at.minute,
                                  duration_minutes=duration_minutes, title=title, place=place,
                                  note=note.strip())
        stamp(ctx, appointment, created=True)
        session.add(appointment)
        session.flush()
        record(ctx, session, "create", client_id, appointment, kind=kind)
        return appointment_row(appointment)


def cancel_appointment(ctx: Context, appointment_id: str) -> AppointmentRow:
    with ctx.vault.writing() as session:
        appointment = load(session, Appointment, appointment_id, "Der Termin")
        if appointment.cancelled:
            raise ValidationError("Dieser Termin ist bereits abgesagt.")
        appointment.cancelled = True
        stamp(ctx, appointment)
        record(ctx, session, "update", appointment.client_id, appointment, fields=["cancelled"])
        return appointment_row(appointment)


def appointments_between(ctx: Context, first: date, last: date, *, own: bool = False,
                         include_cancelled: bool = False) -> list[AppointmentRow]:
    """Termine from ``first`` to ``last`` (inclusive) by time; with ``own`` only the user's
    (the rule of :mod:`kimdesk.casework.caseload`, as for Fristen)."""
    if last < first:
        raise ValidationError("Das Ende des Zeitraums liegt vor dem Anfang.", "last")
    with ctx.vault.reading() as session:
        scope = own_scope(session, ctx.user) if own else None
        query = select(Appointment).where(Appointment.day >= first, Appointment.day <= last)
        if not include_cancelled:
            query = query.where(Appointment.cancelled.is_(False))
        rows = session.scalars(query.order_by(Appointment.day, Appointment.start_minute,
                                              Appointment.created_at))
        return [appointment_row(a) for a in rows
                if scope is None or scope.owns(a.case_id, a.client_id, a.created_by)]


def upcoming(ctx: Context, within_days: int = 14) -> list[AppointmentRow]:
    """The user's own Termine from today on, as Heute lists them."""
    today = ctx.today()
    return appointments_between(ctx, today, today + timedelta(days=within_days), own=True)


def pseudonym(row: AppointmentRow) -> str:
    """The event title outside KIMdesk: the kind and a short code of the case, no client data."""
    code = (row.case_id or row.id)[:4].upper()
    short = "Begleitung" if row.kind == ESCORT else "Termin"
    return f"{short} KIM – Fall {code}" if row.case_id else f"{short} KIM – {code}"


# --- iCalendar (RFC 5545) -----------------------------------------------------------------------

# Europe/Berlin since 1996: CEST from the last Sunday of March 02:00, CET from the last Sunday
# of October 03:00 (EU summer-time directive 2000/84/EC).
_VTIMEZONE = (
    "BEGIN:VTIMEZONE", f"TZID:{TZID}",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> bytes:
    """One content line, folded after at most 75 octets (RFC 5545 3.1) without splitting a
    UTF-8 sequence; continuation lines start with a space."""
    out: list[bytes] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current)
            current = b" "
            limit = 75
        current += encoded
    out.append(current)
    return b"\r\n".join(out) + b"\r\n"


def _local(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"


def icalendar(rows: Iterable[AppointmentRow], stamp_at: datetime | None = None) -> bytes:
    """The iCalendar file of these Termine: pseudonymised titles, times, nothing else."""
    stamp_at = (stamp_at or utcnow()).astimezone(UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", *_VTIMEZONE]
    for row in rows:
        start = datetime.combine(row.day, row.starts_at)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{row.id}@kimdesk.kreis-kleve.de",
            f"DTSTAMP:{stamp_at:%Y%m%dT%H%M%SZ}",
            f"DTSTART;TZID={TZID}:{_local(start)}",
            f"DTEND;TZID={TZID}:{_local(row.ends_at)}",
            f"SUMMARY:{escape_text(pseudonym(row))}",
            f"CATEGORIES:{escape_text(row.kind_label)}",
            "CLASS:CONFIDENTIAL",
            "TRANSP:OPAQUE",
            "STATUS:CANCELLED" if row.cancelled else "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(fold(line) for line in lines)


def export_icalendar(ctx: Context, first: date, last: date) -> bytes:
    """The user's own Termine from ``first`` to ``last`` as an iCalendar file (in memory; the
    UI writes it where the user saves it). The export is audited, without its content."""
    rows = appointments_between(ctx, first, last, own=True)
    with ctx.vault.writing() as session:
        record(ctx, session, "export", None, None, what="icalendar", events=len(rows))
    return icalendar(rows)


def appointments_of(ctx: Context, client_id: str, *, from_day: date | None = None
                    ) -> list[AppointmentRow]:
    """A person's Termine from ``from_day`` (default today) on, not cancelled, by time."""
    first = from_day or ctx.today()
    with ctx.vault.reading() as session:
        rows = session.scalars(select(Appointment).where(
            Appointment.client_id == client_id, Appointment.day >= first,
            Appointment.cancelled.is_(False))
            .order_by(Appointment.day, Appointment.start_minute))
        return [appointment_row(a) for a in rows]
