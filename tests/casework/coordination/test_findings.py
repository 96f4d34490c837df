"""Erkenntnisse: the standard form without personal data, the register's filters, counts per
month and quarter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import (
    FindingFilter,
    FindingInput,
    assign_theme,
    delete_finding,
    finding_counts,
    finding_rows,
    record_finding,
    update_finding,
)
from kimdesk.casework.coordination.reconstructions import add_theme
from kimdesk.casework.coordination.reviews import ReviewDraft, prepare_review
from kimdesk.errors import ValidationError
from kimdesk.models import Finding
from tests.coordination_builders import FIRST_NAME, PHONE, Example5, build_example5_case
from tests.factories import TODAY, make_contact


@pytest.fixture
def example(ctx: Context) -> Example5:
    return build_example5_case(ctx)


def _input(**overrides: object) -> FindingInput:
    values: dict[str, object] = {
        "life_area": "childcare", "barrier": "capacity", "institution_type": "daycare",
        "description": "Kita-Plätze im Planungsraum Nord über ein Jahr Wartezeit.",
        "source": "team_meeting", "municipality": "kleve", "noted_on": TODAY}
    return FindingInput(**(values | overrides))  # type: ignore[arg-type]


def _count(ctx: Context) -> int:
    with ctx.vault.reading() as session:
        return session.scalar(select(func.count()).select_from(Finding)) or 0


def test_from_a_case_the_description_is_checked_and_the_kommune_taken(
        ctx: Context, example: Example5) -> None:
    finding = record_finding(ctx, _input(source="case", municipality=""), case_id=example.case.id)

    assert finding.municipality == "kleve"
    (row,) = finding_rows(ctx)
    assert (row.source_label, row.life_area_label, row.barrier_label, row.municipality_label,
            row.institution_type_label) == ("Fall", "Kinderbetreuung",
                                            "Angebot ausgelastet, Wartezeit", "Kleve", "Kita")
    with pytest.raises(ValidationError) as refused:
        record_finding(ctx, _input(source="case", description=f"{FIRST_NAME} wartet auf Kita"),
                       case_id=example.case.id)
    assert refused.value.field == "description" and FIRST_NAME not in refused.value.message
    assert _count(ctx) == 1


def test_from_a_contact_and_a_review(ctx: Context, example: Example5) -> None:
    contact = make_contact(ctx, example.case).contact
    review = prepare_review(ctx, example.case.id, ReviewDraft("Wie weiter mit Kind 1?"))

    with pytest.raises(ValidationError, match="Telefon"):
        record_finding(ctx, _input(source="contact", description=f"Rückruf {PHONE}"),
                       contact_id=contact.id)
    by_contact = record_finding(ctx, _input(source="contact"), contact_id=contact.id)
    by_review = record_finding(ctx, _input(source="review"), review_id=review.id)

    assert by_contact.review_id is None  # a contact or case is never remembered
    assert by_review.review_id == review.id
    with pytest.raises(ValidationError, match="Fallbesprechung angeben"):
        record_finding(ctx, _input(source="review"))


def test_the_form_is_checked(ctx: Context) -> None:
    for overrides, field_name in (({"life_area": "space"}, "life_area"),
                                  ({"barrier": "moon"}, "barrier"),
                                  ({"source": "rumour"}, "source"),
                                  ({"institution_type": "castle"}, "institution_type"),
                                  ({"municipality": "berlin"}, "municipality"),
                                  ({"noted_on": TODAY + timedelta(1)}, "noted_on"),
                                  ({"description": " "}, "description"),
                                  ({"description": "Mail an x@y.de"}, "description")):
        with pytest.raises(ValidationError) as refused:
            record_finding(ctx, _input(**overrides))
        assert refused.value.field == field_name
    assert _count(ctx) == 0


def test_register_filters_and_counts(ctx: Context) -> None:
    theme = add_theme(ctx, None, "Alleinerziehende finden einen Betreuungsplatz.")
    days = [date(2026, 1, 15), date(2026, 2, 3), date(2026, 2, 20), date(2026, 5, 5),
            date(2026, 11, 2)]
    ids = [record_finding(ctx, _input(noted_on=day, barrier="capacity" if i % 2 else "no_offer",
                                      municipality="goch" if i == 4 else "kleve")).id
           for i, day in enumerate(days)]
    assign_theme(ctx, ids[:3], theme.id)

    assert len(finding_rows(ctx)) == 5
    assert [r.noted_on for r in finding_rows(ctx, FindingFilter(barrier="capacity"))] == [
        date(2026, 5, 5), date(2026, 2, 3)]
    assert len(finding_rows(ctx, FindingFilter(theme_id=theme.id))) == 3
    assert len(finding_rows(ctx, FindingFilter(theme_id="none"))) == 2
    assert len(finding_rows(ctx, FindingFilter(municipality="goch"))) == 1
    assert len(finding_rows(ctx, FindingFilter(start=date(2026, 2, 1),
                                               end=date(2026, 2, 28)))) == 2
    assert finding_rows(ctx, FindingFilter(theme_id=theme.id))[0].theme_statement == (
        "Alleinerziehende finden einen Betreuungsplatz.")

    months = finding_counts(ctx, FindingFilter(start=date(2026, 1, 1), end=date(2026, 3, 31)))
    assert [(m.period, m.label, m.count) for m in months] == [
        ("2026-01", "Januar 2026", 1), ("2026-02", "Februar 2026", 2), ("2026-03", "März 2026", 0)]
    quarters = finding_counts(ctx, granularity="quarter")
    assert [(q.label, q.count) for q in quarters] == [
        ("1. Quartal 2026", 3), ("2. Quartal 2026", 1), ("3. Quartal 2026", 0),
        ("4. Quartal 2026", 1)]
    assert quarters[0].start == date(2026, 1, 1) and quarters[0].end == date(2026, 3, 31)
    with pytest.raises(ValidationError):
        finding_counts(ctx, granularity="week")


def test_update_and_delete(ctx: Context) -> None:
    finding = record_finding(ctx, _input())
    update_finding(ctx, finding.id, _input(barrier="interface",
                                           description="Übergabe Jobcenter–Jugendamt hakt."))
    (row,) = finding_rows(ctx)
    assert (row.barrier, row.description) == ("interface", "Übergabe Jobcenter–Jugendamt hakt.")
    delete_finding(ctx, finding.id)
    assert finding_rows(ctx) == []
