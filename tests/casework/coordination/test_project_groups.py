"""Projektgruppen: Zielschema, members, links, status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.findings import FindingInput, record_finding
from kimdesk.casework.coordination.project_groups import (
    FrameworkGoal,
    ProjectGroupInput,
    create_project_group,
    project_group_detail,
    project_group_rows,
    set_project_group_status,
    update_project_group,
)
from kimdesk.casework.coordination.reconstructions import add_theme
from kimdesk.errors import KimdeskError, ValidationError
from tests.coordination_builders import THEME
from tests.factories import TODAY, make_institution


def _input(ctx: Context, **overrides: object) -> ProjectGroupInput:
    values: dict[str, object] = {
        "name": "Vereinbarkeit von Familie und Qualifizierung", "principal_goal": THEME,
        "framework_goals": [FrameworkGoal("Maßnahmen bieten Kinderbetreuung an.",
                                          ["Kontingent mit der Kindertagespflege"])],
        "started_on": TODAY, "ends_on": TODAY + timedelta(days=180)}
    return ProjectGroupInput(**(values | overrides))  # type: ignore[arg-type]


def test_zielschema_members_and_links(ctx: Context) -> None:
    jobcenter = make_institution(ctx, "jobcenter")
    youth = make_institution(ctx, "youth_office", name="Jugendamt Kreis Kleve")
    theme = add_theme(ctx, None, THEME)
    finding = record_finding(ctx, FindingInput("childcare", "compatibility",
                                               "Maßnahmen ohne Kinderbetreuung."))

    group = create_project_group(ctx, _input(
        ctx, members=[jobcenter.id, youth.id, jobcenter.id], theme_ids=[theme.id],
        finding_ids=[finding.id]))

    detail = project_group_detail(ctx, group.id)
    assert detail.principal_goal == THEME
    assert detail.framework_goals == (FrameworkGoal("Maßnahmen bieten Kinderbetreuung an.",
                                                    ["Kontingent mit der Kindertagespflege"]),)
    assert [(m.name, m.institution_type_label) for m in detail.members] == [
        ("Jobcenter Kreis Kleve, Geschäftsstelle Kleve", "Jobcenter"),
        ("Jugendamt Kreis Kleve", "Jugendamt")]
    assert [t.label for t in detail.themes] == [THEME]
    assert [f.description for f in detail.findings] == ["Maßnahmen ohne Kinderbetreuung."]
    assert detail.status_label == "in Vorbereitung"
    (row,) = project_group_rows(ctx)
    assert (row.members, row.framework_goals, row.strategies, row.themes) == (2, 1, 1, 1)


def test_the_zielschema_is_checked(ctx: Context) -> None:
    for overrides, message in (
        ({"name": ""}, "Namen"),
        ({"principal_goal": ""}, "Grundsatzziel"),
        ({"framework_goals": [FrameworkGoal(" ")]}, "Rahmenziel 1"),
        ({"framework_goals": [FrameworkGoal("Ziel", ["ok", ""])]}, "Handlungsstrategie 2"),
        ({"status": "dreaming"}, "Status"),
        ({"ends_on": TODAY - timedelta(days=1)}, "Ende"),
        ({"members": ["0" * 32]}, "Einrichtung"),
        ({"status": "reported", "framework_goals": [FrameworkGoal("Ziel")]},
         "mindestens einer"),
    ):
        with pytest.raises(KimdeskError, match=message):  # an unknown member: NotFound
            create_project_group(ctx, _input(ctx, **overrides))
    assert project_group_rows(ctx) == []


def test_status_and_update(ctx: Context) -> None:
    group = create_project_group(ctx, _input(ctx, framework_goals=[]))
    with pytest.raises(ValidationError, match="Handlungsstrategie"):
        set_project_group_status(ctx, group.id, "reported")
    update_project_group(ctx, group.id, _input(ctx, status="active"))
    set_project_group_status(ctx, group.id, "reported")

    assert project_group_detail(ctx, group.id).status_label == (
        "Ergebnisse an die Lenkungsgruppe berichtet")
