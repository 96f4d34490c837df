"""Fallrekonstruktion (concept 5.5.1, Beispiel 5): life areas and their topics, the goal they are
read under, the service chain of actors and relations/obstacles, and generative themes.

JSON shapes (the diagram canvas and the PDF use exactly these):

- ``life_areas``: ``[{"area": "Kinderbetreuung", "topics": ["keine Kinderbetreuung …"]}]``
- ``actors``: ``[{"id": "a1", "label": "Jobcenter", "kind": "institution"|"person"|"offer",
  "x": 120.0, "y": 80.0}]``; a "person" actor is a neutral label only ("Frau A.", "Kind 1").
- ``relations``: ``[{"id": "r1", "source": "a1", "target": "a2", "kind": "cooperation"|
  "precondition"|"obstacle"|"influence", "label": "…"}]``; an obstacle must say what hinders.

A reconstruction is anonymised and abstracted by construction: it does not refer to a case.
When it is built from a case (``case_id``), every text is checked against the identifying values
of that case's people before it is stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kimdesk.casework.common import add_recorded, load, record, stamp, update_recorded
from kimdesk.casework.context import Context
from kimdesk.casework.pseudonymise import (
    CasePseudonymiser,
    FreeTextCandidate,
    PersonLabel,
    check_general_text,
    read_for_coordination,
)
from kimdesk.errors import ValidationError
from kimdesk.models import (
    Assessment,
    CaseReconstruction,
    CaseTopic,
    Finding,
    GenerativeTheme,
    Goal,
    Institution,
    ProjectGroup,
    Referral,
    SteeringDecision,
)

ACTOR_KINDS = {"institution": "Einrichtung", "person": "Person", "offer": "Angebot/Maßnahme"}
RELATION_KINDS = {
    "cooperation": "Zusammenarbeit",
    "precondition": "Voraussetzung",
    "obstacle": "Hindernis",
    "influence": "Wechselwirkung",
}
# A person in the diagram is a neutral label, optionally with a role: "Kind 1 (Tochter)".
PERSON_LABEL = re.compile(
    r"(?:(?:Frau|Herr|Person) [A-Z]{1,2}\.|Kind \d{1,3})(?: \([^()]{1,40}\))?")
MAX_LABEL = 120
MAX_TEXT = 2000
# Words that usually mark a deficit; a generative theme names the improved state instead.
_NEGATIVE_WORDS = re.compile(
    r"\b(?:kein\w*|nicht|fehl\w*|mangel\w*|ohne|unzureichend\w*|schlecht\w*|problem\w*)\b",
    re.IGNORECASE)
# Diagram layout of a draft: persons on the left, institutions and offers in columns.
_COLUMN_X = {"person": 80.0, "institution": 340.0, "offer": 600.0}
_ROW_HEIGHT = 110.0


@dataclass
class ReconstructionInput:
    """A Fallrekonstruktion as the form and the canvas edit it (shapes: module docstring)."""

    title: str
    goal: str = ""  # the Zielsetzung the life areas are read under
    presented_on: date | None = None
    life_areas: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ReconstructionDraft:
    """A starting point built from a case: pseudonymised people as person actors, the
    institutions of its referrals, its Handlungsfelder as life areas, its goals and assessment
    texts as candidates. Nothing here is confirmed yet."""

    title: str  # "Fallrekonstruktion Frau A."
    people: tuple[PersonLabel, ...]
    planning_area: str
    life_areas: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    goal_candidates: tuple[FreeTextCandidate, ...]
    topic_candidates: tuple[FreeTextCandidate, ...]


@dataclass(frozen=True)
class ThemeRow:
    id: str
    statement: str
    mandate: str  # Arbeitsauftrag
    reconstruction_id: str | None
    reconstruction_title: str
    findings: int  # findings assigned to this theme


@dataclass(frozen=True)
class ReconstructionRow:
    id: str
    title: str
    presented_on: date | None
    life_areas: int
    actors: int
    obstacles: int
    themes: int


@dataclass(frozen=True)
class ReconstructionDetail:
    id: str
    title: str
    goal: str
    presented_on: date | None
    life_areas: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    themes: tuple[ThemeRow, ...]


# --- validation -------------------------------------------------------------------------------


def _text(value: Any, what: str, field_name: str, *, required: bool = True,
          limit: int = MAX_LABEL) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what}: bitte einen Text angeben.", field_name)
    text = value.strip()
    if required and not text:
        raise ValidationError(f"{what}: die Bezeichnung fehlt.", field_name)
    if len(text) > limit:
        raise ValidationError(f"{what}: höchstens {limit} Zeichen.", field_name)
    return text


def validate_life_areas(life_areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked and normalised life areas; German ValidationError on a bad shape."""
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(life_areas, start=1):
        if not isinstance(entry, dict):
            raise ValidationError(f"Lebensbereich {index}: ungültiger Eintrag.", "life_areas")
        area = _text(entry.get("area"), f"Lebensbereich {index}", "life_areas")
        if area.casefold() in seen:
            raise ValidationError(f"Der Lebensbereich „{area}“ kommt doppelt vor.",
                                  "life_areas")
        seen.add(area.casefold())
        topics = entry.get("topics", [])
        if not isinstance(topics, list):
            raise ValidationError(f"Lebensbereich „{area}“: Themen sind eine Liste.",
                                  "life_areas")
        result.append({"area": area, "topics": [
            _text(t, f"Lebensbereich „{area}“, Thema {n}", "life_areas", limit=300)
            for n, t in enumerate(topics, start=1)]})
    return result


def validate_diagram(actors: list[dict[str, Any]], relations: list[dict[str, Any]]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Checked and normalised actors and relations of the service chain.

    Refuses duplicate ids, unknown kinds, empty labels, non-finite positions, relations to
    unknown actors or an actor itself, an obstacle without a label, and a person actor that is
    not a neutral label ("Frau A.", "Herr B.", "Person C.", "Kind 1", optionally "(Tochter)").
    """
    checked_actors: list[dict[str, Any]] = []
    ids: set[str] = set()
    for index, actor in enumerate(actors, start=1):
        if not isinstance(actor, dict):
            raise ValidationError(f"Akteur {index}: ungültiger Eintrag.", "actors")
        actor_id = _text(actor.get("id"), f"Akteur {index}", "actors", limit=40)
        if actor_id in ids:
            raise ValidationError(f"Die Kennung „{actor_id}“ kommt bei den Akteuren doppelt "
                                  "vor.", "actors")
        ids.add(actor_id)
        label = _text(actor.get("label"), f"Akteur {index}", "actors")
        kind = actor.get("kind")
        if kind not in ACTOR_KINDS:
            raise ValidationError(f"Akteur „{label}“: unbekannte Art.", "actors")
        if kind == "person" and not PERSON_LABEL.fullmatch(label):
            raise ValidationError(
                f"Akteur {index}: Personen erscheinen nur mit neutraler Bezeichnung "
                "(z. B. „Frau A.“, „Herr B.“, „Kind 1“), nie mit Namen.", "actors")
        position = []
        for axis in ("x", "y"):
            value = actor.get(axis, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value)):
                raise ValidationError(f"Akteur „{label}“: ungültige Position.", "actors")
            position.append(float(value))
        checked_actors.append({"id": actor_id, "label": label, "kind": kind,
                               "x": position[0], "y": position[1]})
    checked_relations: list[dict[str, Any]] = []
    relation_ids: set[str] = set()
    for index, relation in enumerate(relations, start=1):
        if not isinstance(relation, dict):
            raise ValidationError(f"Beziehung {index}: ungültiger Eintrag.", "relations")
        relation_id = _text(relation.get("id"), f"Beziehung {index}", "relations", limit=40)
        if relation_id in relation_ids:
            raise ValidationError(f"Die Kennung „{relation_id}“ kommt bei den Beziehungen "
                                  "doppelt vor.", "relations")
        relation_ids.add(relation_id)
        source, target = relation.get("source"), relation.get("target")
        if source not in ids or target not in ids:
            raise ValidationError(f"Beziehung {index} verweist auf einen unbekannten Akteur.",
                                  "relations")
        if source == target:
            raise ValidationError(f"Beziehung {index} verbindet einen Akteur mit sich selbst.",
                                  "relations")
        kind = relation.get("kind")
        if kind not in RELATION_KINDS:
            raise ValidationError(f"Beziehung {index}: unbekannte Art.", "relations")
        label = _text(relation.get("label", ""), f"Beziehung {index}", "relations",
                      required=kind == "obstacle")
        checked_relations.append({"id": relation_id, "source": source, "target": target,
                                  "kind": kind, "label": label})
    return checked_actors, checked_relations


def positive_wording_hint(statement: str) -> str | None:
    """A hint when a generative theme reads like a deficit; None when it reads as a goal.

    Concept 5.5.1: generative themes are formulated positively, as the improved state. This is
    a hint for the form, not a rule: "nicht nur …, sondern auch …" is a fine theme.
    """
    if _NEGATIVE_WORDS.search(statement):
        return ("Generative Themen werden positiv formuliert, als verbesserter Zustand "
                "(z. B. „Die Vereinbarkeit von Familie und Qualifizierung wird … gewährleistet.“).")
    return None


# --- use cases --------------------------------------------------------------------------------


def _checker(ctx: Context, session: Session, case_id: str | None) -> CasePseudonymiser | None:
    return read_for_coordination(ctx, session, case_id) if case_id is not None else None


def _check(p: CasePseudonymiser | None, text: str, field_name: str, label: str) -> str:
    if p is None:
        return check_general_text(text, field_name, label)
    return p.check(text, field_name, label)


def _checked_input(ctx: Context, session: Session, data: ReconstructionInput,
                   case_id: str | None) -> dict[str, Any]:
    title = _text(data.title, "Titel", "title", limit=200)
    goal = _text(data.goal, "Zielsetzung", "goal", required=False, limit=MAX_TEXT)
    life_areas = validate_life_areas(data.life_areas)
    actors, relations = validate_diagram(data.actors, data.relations)
    p = _checker(ctx, session, case_id)
    _check(p, title, "title", "Der Titel")
    _check(p, goal, "goal", "Die Zielsetzung")
    for area in life_areas:
        _check(p, area["area"], "life_areas", "Ein Lebensbereich")
        for topic in area["topics"]:
            _check(p, topic, "life_areas", f"Ein Thema im Lebensbereich „{area['area']}“")
    _check_diagram_texts(p, actors, relations)
    return {"title": title, "goal": goal, "presented_on": data.presented_on,
            "life_areas": life_areas, "actors": actors, "relations": relations}


def _check_diagram_texts(p: CasePseudonymiser | None, actors: list[dict[str, Any]],
                         relations: list[dict[str, Any]]) -> None:
    for actor in actors:
        _check(p, actor["label"], "actors", "Die Bezeichnung eines Akteurs")
    for relation in relations:
        _check(p, relation["label"], "relations", "Die Bezeichnung einer Beziehung")


def create_reconstruction(ctx: Context, data: ReconstructionInput, *,
                          case_id: str | None = None) -> CaseReconstruction:
    """A new Fallrekonstruktion; with ``case_id`` its texts are checked against that case."""
    with ctx.vault.writing() as session:
        values = _checked_input(ctx, session, data, case_id)
        reconstruction = CaseReconstruction(**values)
        add_recorded(ctx, session, reconstruction)
        return reconstruction


def update_reconstruction(ctx: Context, reconstruction_id: str, data: ReconstructionInput, *,
                          case_id: str | None = None) -> CaseReconstruction:
    with ctx.vault.writing() as session:
        reconstruction = load(session, CaseReconstruction, reconstruction_id,
                              "Die Fallrekonstruktion")
        values = _checked_input(ctx, session, data, case_id)
        update_recorded(ctx, session, reconstruction, values)
        return reconstruction


def save_diagram(ctx: Context, reconstruction_id: str, actors: list[dict[str, Any]],
                 relations: list[dict[str, Any]], *, case_id: str | None = None
                 ) -> CaseReconstruction:
    """Store the service chain as drawn on the canvas (actors with positions, relations)."""
    checked_actors, checked_relations = validate_diagram(actors, relations)
    with ctx.vault.writing() as session:
        reconstruction = load(session, CaseReconstruction, reconstruction_id,
                              "Die Fallrekonstruktion")
        _check_diagram_texts(_checker(ctx, session, case_id), checked_actors,
                             checked_relations)
        reconstruction.actors = checked_actors
        reconstruction.relations = checked_relations
        stamp(ctx, reconstruction)
        record(ctx, session, "update", None, reconstruction, fields=["actors", "relations"])
        return reconstruction


def delete_reconstruction(ctx: Context, reconstruction_id: str) -> None:
    """Remove a Fallrekonstruktion that has no generative themes (those carry on its work)."""
    with ctx.vault.writing() as session:
        reconstruction = load(session, CaseReconstruction, reconstruction_id,
                              "Die Fallrekonstruktion")
        if session.scalar(select(func.count()).select_from(GenerativeTheme).where(
                GenerativeTheme.reconstruction_id == reconstruction_id)):
            raise ValidationError("Die Fallrekonstruktion hat generative Themen; bitte diese "
                                  "zuerst entfernen.")
        record(ctx, session, "delete", None, reconstruction)
        session.delete(reconstruction)


def draft_from_case(ctx: Context, case_id: str) -> ReconstructionDraft:
    """A pseudonymised starting point for a Fallrekonstruktion of ``case_id``."""
    with ctx.vault.writing() as session:
        p = read_for_coordination(ctx, session, case_id)
        areas: list[str] = []
        for code in [a.life_area for a in session.scalars(
                select(Assessment).where(Assessment.case_id == case_id)
                .order_by(Assessment.need.desc(), Assessment.created_at))] + list(
                session.scalars(select(CaseTopic.topic).where(CaseTopic.case_id == case_id))):
            label = _label(ctx, "life_areas", code)
            if label not in areas:
                areas.append(label)
        actors: list[dict[str, Any]] = []
        rows = {"person": 0, "institution": 0, "offer": 0}

        def add(label: str, kind: str) -> None:
            if any(a["label"] == label and a["kind"] == kind for a in actors):
                return
            actors.append({"id": f"a{len(actors) + 1}", "label": label, "kind": kind,
                           "x": _COLUMN_X[kind], "y": 60.0 + rows[kind] * _ROW_HEIGHT})
            rows[kind] += 1

        for person in p.people:
            add(person.label, "person")
        add("Kommunales Integrationsmanagement", "institution")
        for kind in session.scalars(select(Institution.institution_type).join(
                Referral, Referral.institution_id == Institution.id)
                .where(Referral.case_id == case_id).order_by(Referral.referred_on)):
            add(_label(ctx, "institution_types", kind), "institution")
        kim = next(a["id"] for a in actors if a["label"] == "Kommunales Integrationsmanagement")
        main = next((a["id"] for a in actors if a["kind"] == "person"), None)
        relations = [] if main is None else [
            {"id": "r1", "source": kim, "target": main, "kind": "cooperation",
             "label": "Case Management"}]
        goals: list[FreeTextCandidate] = []
        for goal in session.scalars(select(Goal).where(Goal.case_id == case_id)
                                    .order_by(Goal.created_at)):
            goals.append(p.candidate(f"goal:{goal.id}:title",
                                     f"Ziel von {p.label_of(goal.client_id)}", "goal",
                                     goal.title))
        topics: list[FreeTextCandidate] = []
        for a in session.scalars(select(Assessment).where(Assessment.case_id == case_id)
                                 .order_by(Assessment.created_at)):
            area = _label(ctx, "life_areas", a.life_area)
            for name, what in (("problems", "Probleme"), ("situation", "Situation")):
                text = getattr(a, name)
                if text.strip():
                    topics.append(p.candidate(f"assessment:{a.id}:{name}",
                                              f"{area}: {what}", area, text))
        main_label = next((x.label for x in p.people if x.main), "")
        return ReconstructionDraft(
            title=f"Fallrekonstruktion {main_label}".strip(), people=p.people,
            planning_area=p.planning_area,
            life_areas=[{"area": area, "topics": []} for area in areas], actors=actors,
            relations=relations, goal_candidates=tuple(goals), topic_candidates=tuple(topics))


def add_theme(ctx: Context, reconstruction_id: str | None, statement: str,
              mandate: str = "") -> GenerativeTheme:
    """A generative Thema (of a reconstruction, or from elsewhere when ``None``)."""
    statement = check_general_text(_text(statement, "Generatives Thema", "statement",
                                         limit=MAX_TEXT), "statement", "Das Thema")
    mandate = check_general_text(_text(mandate, "Arbeitsauftrag", "mandate", required=False,
                                       limit=MAX_TEXT), "mandate", "Der Arbeitsauftrag")
    with ctx.vault.writing() as session:
        if reconstruction_id is not None:
            load(session, CaseReconstruction, reconstruction_id, "Die Fallrekonstruktion")
        theme = GenerativeTheme(reconstruction_id=reconstruction_id, statement=statement,
                                mandate=mandate)
        add_recorded(ctx, session, theme)
        return theme


def update_theme(ctx: Context, theme_id: str, statement: str, mandate: str = ""
                 ) -> GenerativeTheme:
    statement = check_general_text(_text(statement, "Generatives Thema", "statement",
                                         limit=MAX_TEXT), "statement", "Das Thema")
    mandate = check_general_text(_text(mandate, "Arbeitsauftrag", "mandate", required=False,
                                       limit=MAX_TEXT), "mandate", "Der Arbeitsauftrag")
    with ctx.vault.writing() as session:
        theme = load(session, GenerativeTheme, theme_id, "Das generative Thema")
        theme.statement, theme.mandate = statement, mandate
        stamp(ctx, theme)
        record(ctx, session, "update", None, theme, fields=["statement", "mandate"])
        return theme


def delete_theme(ctx: Context, theme_id: str) -> None:
    """Remove a generative theme nothing builds on yet (findings, Projektgruppen, Beschlüsse)."""
    with ctx.vault.writing() as session:
        theme = load(session, GenerativeTheme, theme_id, "Das generative Thema")
        used = session.scalar(select(func.count()).select_from(Finding).where(
            Finding.theme_id == theme_id)) or 0
        used += sum(theme_id in g.theme_ids for g in session.scalars(select(ProjectGroup)))
        used += sum(theme_id in d.theme_ids for d in session.scalars(select(SteeringDecision)))
        if used:
            raise ValidationError("Auf dieses Thema verweisen Erkenntnisse, Projektgruppen oder "
                                  "Beschlüsse; es kann nicht gelöscht werden.", THEME_IN_USE)
        record(ctx, session, "delete", None, theme)
        session.delete(theme)


# The field of the error a refused theme deletion raises (the editor shows the theme again).
THEME_IN_USE = "theme_in_use"


@dataclass(frozen=True)
class ThemeEdit:
    """A generative theme as the editor holds it: ``id`` None for a new one."""

    id: str | None
    statement: str
    mandate: str = ""


def save_reconstruction(ctx: Context, reconstruction_id: str | None, data: ReconstructionInput,
                        themes: list[ThemeEdit], *, removed_theme_ids: tuple[str, ...] = (),
                        case_id: str | None = None) -> tuple[str, list[str]]:
    """The reconstruction with its themes in one transaction: all stored, or nothing.

    With ``case_id`` the themes' texts are checked against that case's people too. Returns
    the reconstruction's id and the themes' ids in the order given."""
    with ctx.vault.writing() as session:
        if reconstruction_id is None:
            reconstruction_id = create_reconstruction(ctx, data, case_id=case_id).id
        else:
            update_reconstruction(ctx, reconstruction_id, data, case_id=case_id)
        for theme_id in removed_theme_ids:
            delete_theme(ctx, theme_id)
        checker = _checker(ctx, session, case_id)
        stored = {t.id: t for t in _theme_rows(session, reconstruction_id)}
        ids: list[str] = []
        for theme in themes:
            _check(checker, theme.statement, "statement", "Das generative Thema")
            _check(checker, theme.mandate, "mandate", "Der Arbeitsauftrag")
            if theme.id is None or theme.id not in stored:
                ids.append(add_theme(ctx, reconstruction_id, theme.statement, theme.mandate).id)
                continue
            if (stored[theme.id].statement, stored[theme.id].mandate) != (
                    theme.statement, theme.mandate):
                update_theme(ctx, theme.id, theme.statement, theme.mandate)
            ids.append(theme.id)
    return reconstruction_id, ids


# --- reads ------------------------------------------------------------------------------------


def theme_rows(ctx: Context, reconstruction_id: str | None = None) -> list[ThemeRow]:
    """Generative themes (of one reconstruction, or all), oldest first."""
    with ctx.vault.reading() as session:
        return _theme_rows(session, reconstruction_id)


def _theme_rows(session: Session, reconstruction_id: str | None = None) -> list[ThemeRow]:
    query = select(GenerativeTheme)
    if reconstruction_id is not None:
        query = query.where(GenerativeTheme.reconstruction_id == reconstruction_id)
    themes = list(session.scalars(query.order_by(GenerativeTheme.created_at)))
    titles = dict(session.execute(select(CaseReconstruction.id, CaseReconstruction.title)).all())
    counts = dict(session.execute(select(Finding.theme_id, func.count()).where(
        Finding.theme_id.is_not(None)).group_by(Finding.theme_id)).all())
    return [ThemeRow(t.id, t.statement, t.mandate, t.reconstruction_id,
                     titles.get(t.reconstruction_id, "") if t.reconstruction_id else "",
                     counts.get(t.id, 0)) for t in themes]


def reconstruction_rows(ctx: Context) -> list[ReconstructionRow]:
    with ctx.vault.reading() as session:
        themes = dict(session.execute(
            select(GenerativeTheme.reconstruction_id, func.count())
            .group_by(GenerativeTheme.reconstruction_id)).all())
        return [
            ReconstructionRow(r.id, r.title, r.presented_on, len(r.life_areas), len(r.actors),
                              sum(1 for x in r.relations if x.get("kind") == "obstacle"),
                              themes.get(r.id, 0))
            for r in session.scalars(select(CaseReconstruction).order_by(
                CaseReconstruction.created_at.desc()))]


def reconstruction_detail(ctx: Context, reconstruction_id: str) -> ReconstructionDetail:
    with ctx.vault.reading() as session:
        r = load(session, CaseReconstruction, reconstruction_id, "Die Fallrekonstruktion")
        return ReconstructionDetail(
            r.id, r.title, r.goal, r.presented_on, [dict(a) for a in r.life_areas],
            [dict(a) for a in r.actors], [dict(x) for x in r.relations],
            tuple(_theme_rows(session, r.id)))


def _label(ctx: Context, vocabulary: str, code: str) -> str:
    try:
        return ctx.reference.label(vocabulary, code)
    except KeyError:
        return code
