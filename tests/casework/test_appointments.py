"""Termine with a time of day, in Heute's data, and their iCalendar export without client data
(checked by byte search in the file, and by reading the file back as RFC 5545 text)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimdesk.casework import appointments
from kimdesk.casework.appointments import (
    ESCORT,
    add_appointment,
    appointments_between,
    cancel_appointment,
    escape_text,
    export_icalendar,
    fold,
    upcoming,
)
from kimdesk.casework.context import Context
from kimdesk.casework.handover import hand_over_case
from kimdesk.errors import ValidationError
from tests.factories import CM, make_case, make_person


def unfold(data: bytes) -> list[str]:
    """Content lines of an iCalendar file (RFC 5545 3.1), every physical line checked."""
    physical = data.split(b"\r\n")
    assert physical[-1] == b""
    assert all(len(line) <= 75 for line in physical), "a line longer than 75 octets"
    logical: list[bytes] = []
    for line in physical[:-1]:
        if line.startswith(b" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return [line.decode("utf-8") for line in logical]


def test_appointment_with_a_time_is_listed_for_its_case_manager(ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    day = ctx.today() + timedelta(days=3)
    escort = add_appointment(ctx, client.id, day, time(9, 30), kind=ESCORT,
                             duration_minutes=90, title="Ausländerbehörde: Verlängerung",
                             place="Ausländerbehörde Kleve", case_id=case.id)
    add_appointment(ctx, client.id, day, time(8, 0), title="Erstgespräch", case_id=case.id)

    rows = upcoming(ctx)
    assert [(r.starts_at, r.title) for r in rows] == [
        (time(8, 0), "Erstgespräch"), (time(9, 30), "Ausländerbehörde: Verlängerung")]
    assert rows[1].kind_label == "Begleitung zu einer Behörde"
    assert rows[1].ends_at == datetime.combine(day, time(11, 0))
    # A colleague's Heute does not list them; after a handover it does.
    mehmet = dataclasses.replace(ctx, user="Mehmet Yılmaz")
    assert upcoming(mehmet) == []
    hand_over_case(ctx, case.id, "Mehmet Yılmaz", "Urlaubsvertretung wird dauerhaft")
    assert [r.id for r in upcoming(mehmet)][1] == escort.id
    cancel_appointment(mehmet, escort.id)
    assert [r.title for r in upcoming(mehmet)] == ["Erstgespräch"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "party"}, "kind"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": 721}, "duration_minutes"),
    ({"title": "x" * 301}, "title"),
])
def test_bad_appointment_is_refused(ctx: Context, changes: dict[str, object],
                                    field: str) -> None:
    client = make_person(ctx, consent=True)
    with pytest.raises(ValidationError) as refused:
        add_appointment(ctx, client.id, ctx.today(), time(10, 0), **changes)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert appointments_between(ctx, ctx.today(), ctx.today()) == []


def test_icalendar_export_holds_no_client_data(ctx: Context) -> None:
    client = make_person(ctx, consent=True, first_name="Rasha", last_name="Tahhan",
                         birth_date=date(1987, 5, 14))
    case = make_case(ctx, client, CM)
    add_appointment(ctx, client.id, date(2026, 12, 3), time(9, 30), kind=ESCORT,
                    duration_minutes=90, title="Tahhan: Jobcenter, Weiterbewilligung",
                    place="Hoffmannallee 12, Kleve", note="bringt Pass mit", case_id=case.id)
    add_appointment(ctx, client.id, date(2027, 7, 1), time(14, 0), title="Rasha Rückruf",
                    case_id=case.id)

    data = export_icalendar(ctx, date(2026, 12, 1), date(2027, 12, 31))

    for secret in ("Rasha", "Tahhan", "TAHHAN", "1987", "14.05", "19870514", "Hoffmannallee",
                   "Pass", "Jobcenter", "Weiterbewilligung", "Rückruf", client.id):
        assert secret.encode("utf-8") not in data, secret
    lines = unfold(data)
    code = case.id[:4].upper()
    assert lines.count(f"SUMMARY:Begleitung KIM – Fall {code}") == 1
    assert lines.count(f"SUMMARY:Termin KIM – Fall {code}") == 1
    # Local wall-clock times with the TZID the file defines; 1 July is summer time.
    assert "DTSTART;TZID=Europe/Berlin:20261203T093000" in lines
    assert "DTEND;TZID=Europe/Berlin:20261203T110000" in lines
    assert "DTSTART;TZID=Europe/Berlin:20270701T140000" in lines
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    assert "TZID:Europe/Berlin" in lines
    assert all(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines
               if line.startswith("DTSTAMP"))


def test_icalendar_export_lists_only_the_own_appointments(ctx: Context) -> None:
    mehmet = dataclasses.replace(ctx, user="Mehmet Yılmaz")
    client = make_person(ctx, consent=True)
    own = make_case(ctx, client, CM)
    other = make_case(mehmet, make_person(ctx, consent=True), CM)
    add_appointment(ctx, client.id, ctx.today(), time(10, 0), case_id=own.id)
    add_appointment(mehmet, other.client_id, ctx.today(), time(11, 0), case_id=other.id)

    lines = unfold(export_icalendar(ctx, ctx.today(), ctx.today()))
    assert [line for line in lines if line.startswith("SUMMARY")] == [
        f"SUMMARY:Termin KIM – Fall {own.id[:4].upper()}"]


def test_text_values_are_escaped() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))
def test_folding_keeps_every_line_short_and_unfolds_to_the_original(value: str) -> None:
    line = "SUMMARY:" + value
    folded = fold(line)
    assert folded.endswith(b"\r\n")
    assert unfold(folded) == [line]


def test_file_is_stamped_in_utc() -> None:
    data = appointments.icalendar([], datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    assert b"BEGIN:VTIMEZONE" in data and b"VEVENT" not in data


def test_akte_and_fall_show_the_termine(ctx: Context) -> None:
    from kimdesk.casework.case_views import load_case
    from kimdesk.casework.views import open_client_file

    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, CM)
    later = add_appointment(ctx, client.id, date(2026, 12, 3), time(14, 0), title="Rückruf",
                            case_id=case.id)
    add_appointment(ctx, client.id, date(2026, 12, 3), time(9, 0), kind=ESCORT,
                    title="Ausländerbehörde", place="Kleve", case_id=case.id)
    cancelled = add_appointment(ctx, client.id, date(2026, 12, 4), time(9, 0),
                                title="abgesagt", case_id=case.id)
    cancel_appointment(ctx, cancelled.id)

    assert [a.title for a in load_case(ctx, case.id).appointments] == ["Ausländerbehörde",
                                                                        "Rückruf"]
    file = open_client_file(ctx, client.id)
    assert [a.id for a in file.appointments][1] == later.id
    titles = [e.title for e in file.timeline if e.kind == "appointment"]
    assert sorted(titles) == ["Begleitung zu einer Behörde um 09:00 Uhr: Ausländerbehörde",
                              "Termin um 14:00 Uhr: Rückruf"]


def test_appointments_of_a_person_from_today(ctx: Context) -> None:
    client, other = make_person(ctx, consent=True), make_person(ctx, consent=True)
    add_appointment(ctx, client.id, ctx.today() - timedelta(days=1), time(9, 0), title="vorbei")
    later = add_appointment(ctx, client.id, ctx.today() + timedelta(days=1), time(9, 0))
    now = add_appointment(ctx, client.id, ctx.today(), time(16, 0))
    add_appointment(ctx, other.id, ctx.today(), time(8, 0))
    gone = add_appointment(ctx, client.id, ctx.today(), time(8, 0))
    cancel_appointment(ctx, gone.id)
    assert [a.id for a in appointments.appointments_of(ctx, client.id)] == [now.id, later.id]
