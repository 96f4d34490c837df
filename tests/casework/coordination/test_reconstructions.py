"""Fallrekonstruktion: the JSON shapes the canvas uses are validated, person actors are neutral
labels, texts from a case are checked, generative themes."""

from __future__ import annotations

from typing import Any

import pytest

from kimdesk.casework.context import Context
from kimdesk.casework.coordination.reconstructions import (
    ThemeEdit,
    add_theme,
    create_reconstruction,
    delete_reconstruction,
    delete_theme,
    draft_from_case,
    positive_wording_hint,
    reconstruction_detail,
    reconstruction_rows,
    save_diagram,
    save_reconstruction,
    theme_rows,
    update_reconstruction,
    update_theme,
)
from kimdesk.errors import ValidationError
from tests.coordination_builders import (
    ACTORS,
    GOAL,
    OBSTACLE,
    RELATIONS,
    THEME,
    build_example5_case,
    example5_reconstruction_input,
)


def test_beispiel_5_round_trips(ctx: Context) -> None:
    example = build_example5_case(ctx)
    reconstruction = create_reconstruction(ctx, example5_reconstruction_input(),
                                           case_id=example.case.id)
    theme = add_theme(ctx, reconstruction.id, THEME, mandate="Projektgruppe einberufen")

    detail = reconstruction_detail(ctx, reconstruction.id)

    assert detail.goal == GOAL
    assert [a["area"] for a in detail.life_areas] == [
        "Arbeit", "Soziale Integration", "Kinderbetreuung",
        "Qualifikation/Berufliche Orientierung", "Gesundheit"]
    assert detail.actors == ACTORS
    assert detail.relations == RELATIONS
    assert [(t.id, t.statement, t.mandate) for t in detail.themes] == [
        (theme.id, THEME, "Projektgruppe einberufen")]
    (row,) = reconstruction_rows(ctx)
    assert (row.life_areas, row.actors, row.obstacles, row.themes) == (5, 8, 1, 1)


def _with(actors: list[dict[str, Any]] | None = None,
          relations: list[dict[str, Any]] | None = None) -> Any:
    return example5_reconstruction_input(
        actors=actors if actors is not None else [dict(a) for a in ACTORS],
        relations=relations if relations is not None else [dict(r) for r in RELATIONS])


@pytest.mark.parametrize(("change", "message"), [
    (lambda a, r: r.append({"id": "r9", "source": "a1", "target": "a99",
                            "kind": "cooperation", "label": ""}), "unbekannten Akteur"),
    (lambda a, r: a.append(dict(a[0])), "doppelt"),
    (lambda a, r: r.append(dict(r[0])), "doppelt"),
    (lambda a, r: a[2].update(label="  "), "Bezeichnung fehlt"),
    (lambda a, r: a[2].update(kind="planet"), "unbekannte Art"),
    (lambda a, r: a[2].update(x=float("nan")), "Position"),
    (lambda a, r: a[0].update(label="Dilara K."), "neutraler Bezeichnung"),
    (lambda a, r: r[1].update(label=""), "Bezeichnung fehlt"),  # an obstacle names what hinders
    (lambda a, r: r[0].update(kind="friendship"), "unbekannte Art"),
    (lambda a, r: r[0].update(target=r[0]["source"]), "mit sich selbst"),
])
def test_the_diagram_shapes_are_validated(ctx: Context, change: Any, message: str) -> None:
    actors = [dict(a) for a in ACTORS]
    relations = [dict(r) for r in RELATIONS]
    change(actors, relations)

    with pytest.raises(ValidationError, match=message):
        create_reconstruction(ctx, _with(actors, relations))
    assert reconstruction_rows(ctx) == []


def test_life_areas_are_validated(ctx: Context) -> None:
    for areas, message in (([{"area": "Arbeit"}, {"area": "arbeit"}], "doppelt"),
                           ([{"area": ""}], "Bezeichnung fehlt"),
                           ([{"area": "Arbeit", "topics": ["", "x"]}], "Bezeichnung fehlt"),
                           ([{"area": "Arbeit", "topics": "Schulden"}], "Liste")):
        with pytest.raises(ValidationError, match=message):
            create_reconstruction(ctx, example5_reconstruction_input(life_areas=areas))


def test_texts_from_the_case_are_checked_against_its_people(ctx: Context) -> None:
    example = build_example5_case(ctx)
    actors = [dict(a) for a in ACTORS]
    actors[3]["label"] = "Kita Lindenallee 7"  # her street

    with pytest.raises(ValidationError, match="Adresse") as refused:
        create_reconstruction(ctx, _with(actors), case_id=example.case.id)
    assert "Lindenallee" not in refused.value.message
    with pytest.raises(ValidationError, match="Name"):
        create_reconstruction(ctx, example5_reconstruction_input(
            life_areas=[{"area": "Gesundheit", "topics": ["Elif oft krank"]}]),
            case_id=example.case.id)


def test_canvas_saves_positions(ctx: Context) -> None:
    reconstruction = create_reconstruction(ctx, example5_reconstruction_input())
    actors = [dict(a) for a in ACTORS]
    actors[0].update(x=10, y=20.5)

    save_diagram(ctx, reconstruction.id, actors, RELATIONS[:2])

    detail = reconstruction_detail(ctx, reconstruction.id)
    assert (detail.actors[0]["x"], detail.actors[0]["y"]) == (10.0, 20.5)
    assert [r["label"] for r in detail.relations] == ["schlägt Maßnahme vor", OBSTACLE]
    update_reconstruction(ctx, reconstruction.id, example5_reconstruction_input(title="Neu"))
    assert reconstruction_detail(ctx, reconstruction.id).title == "Neu"


def test_draft_from_a_case_is_pseudonymised(ctx: Context) -> None:
    example = build_example5_case(ctx)

    draft = draft_from_case(ctx, example.case.id)

    assert draft.title == "Fallrekonstruktion Frau A."
    assert [a["label"] for a in draft.actors if a["kind"] == "person"] == ["Frau A.", "Kind 1"]
    assert {a["label"] for a in draft.actors if a["kind"] == "institution"} >= {
        "Jobcenter", "Kita", "Integrationskursträger", "Gesundheitswesen"}
    assert draft.life_areas[0]["area"] == "Kinderbetreuung"  # highest need first
    assert [c.suggestion for c in draft.goal_candidates] == [GOAL]
    text = " ".join([draft.title, *(a["label"] for a in draft.actors),
                     *(c.suggestion for c in draft.topic_candidates)])
    for secret in example.secrets:
        assert secret not in text
    # The draft is a valid reconstruction as it stands.
    create_reconstruction(ctx, example5_reconstruction_input(
        title=draft.title, life_areas=draft.life_areas, actors=draft.actors,
        relations=draft.relations), case_id=example.case.id)


def test_themes(ctx: Context) -> None:
    reconstruction = create_reconstruction(ctx, example5_reconstruction_input())
    theme = add_theme(ctx, reconstruction.id, "Kinderbetreuung fehlt")
    update_theme(ctx, theme.id, THEME, "Auftrag an die Projektgruppe")

    (row,) = theme_rows(ctx)
    assert (row.statement, row.reconstruction_title) == (THEME, reconstruction.title)
    assert positive_wording_hint(THEME) is None
    assert positive_wording_hint("Es fehlt an Kita-Plätzen") is not None
    with pytest.raises(ValidationError, match="generative Themen"):
        delete_reconstruction(ctx, reconstruction.id)
    with pytest.raises(ValidationError):
        add_theme(ctx, reconstruction.id, " ")
    delete_theme(ctx, theme.id)
    delete_reconstruction(ctx, reconstruction.id)
    assert reconstruction_rows(ctx) == []


def test_a_reconstruction_and_its_themes_are_saved_all_or_nothing(ctx: Context) -> None:
    example = build_example5_case(ctx)
    data = example5_reconstruction_input()

    with pytest.raises(ValidationError, match="Name"):
        save_reconstruction(ctx, None, data,
                            [ThemeEdit(None, THEME), ThemeEdit(None, "Elif wird betreut.")],
                            case_id=example.case.id)
    assert reconstruction_rows(ctx) == []
    assert theme_rows(ctx) == []

    reconstruction_id, [theme_id] = save_reconstruction(
        ctx, None, data, [ThemeEdit(None, THEME, "Projektgruppe Kinderbetreuung")],
        case_id=example.case.id)
    assert [(t.id, t.statement) for t in theme_rows(ctx, reconstruction_id)] == [
        (theme_id, THEME)]

    renamed = example5_reconstruction_input(title="Fallrekonstruktion Frau A. (überarbeitet)")
    same_id, ids = save_reconstruction(ctx, reconstruction_id, renamed, [],
                                       removed_theme_ids=(theme_id,), case_id=example.case.id)
    assert (same_id, ids) == (reconstruction_id, [])
    assert reconstruction_detail(ctx, reconstruction_id).title.endswith("(überarbeitet)")
    assert theme_rows(ctx, reconstruction_id) == []
