"""The county-wide view: figures built from what the teams uploaded to the county server.

The server holds per team, month, Kommune, dimension and measure a count already protected by
the cell key method (``kimdesk.sync.statistics``, ``kimdesk.server.statistics``). This module
turns the cells of a period into :class:`Statistics` that the Statistik screen, the exports and
the Statistikbericht show like the figures of one vault: cases per team, per Kommune and per
dimension, each with the cases opened and closed in the period (summed over its months) and
the cases open at the end (of the last month each team uploaded). Every value is a sum of
protected counts (0 or at least 5), so it is 0 or at least 5 too; totals are sums of the rows.
The notes name the data basis and the last upload of every team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from kimdesk.reference import Reference
from kimdesk.stats.figures import TOTAL, Column, Figure, Row, Statistics, nationality_groups
from kimdesk.stats.scope import Period, Scope, ScopeKind, month_label

MEASURES = (("new", "Neu aufgenommen im Zeitraum"), ("closed", "Abgeschlossen im Zeitraum"),
            ("open_at_end", "Laufend am Ende"))
DIMENSION_FIGURES = (
    ("case_kind", "Fallart", "case_kinds"),
    ("phase", "Phase (laufende CM-Fälle)", "phases"),
    ("age_band", "Altersgruppe", "age_bands"),
    ("gender", "Geschlecht", "genders"),
    ("nationality_group", "Staatsangehörigkeit (Gruppe)", None),
    ("residence_group", "Aufenthaltsstatus (Gruppe)", "residence_groups"),
    ("topic", "Handlungsfeld", "topics"),
)
BASIS = ("Kreisserver: die von den Teams übermittelten, nach dem Cell-Key-Verfahren "
         "geschützten Monatszahlen")


@dataclass(frozen=True)
class Cell:
    team: str
    municipality: str
    dimension: str
    value: str
    measure: str
    count: int


@dataclass
class CountyData:
    """The server's cells of a period (new and closed summed over its months, open cases of
    the last uploaded month per team) and the last upload of every team."""

    period: Period
    cells: list[Cell] = field(default_factory=list)
    uploads: dict[str, tuple[datetime | None, str]] = field(default_factory=dict)


def combine(period: Period, answers: Iterable[Mapping[str, object]]) -> CountyData:
    """One server answer per month of ``period`` (GET /stats?period=JJJJ-MM) → CountyData."""
    per_month = list(answers)
    latest: dict[str, str] = {}
    uploaded: dict[str, datetime | None] = {}
    for answer in per_month:
        for upload in answer.get("uploads", ()):  # type: ignore[attr-defined]
            team, month = str(upload["team"]), str(upload["as_of_month"])
            latest[team] = max(month, latest.get(team, month))
            at = upload.get("last_upload")
            when = datetime.fromisoformat(at) if isinstance(at, str) else None
            before = uploaded.get(team)
            if before is None or (when is not None and when > before):
                uploaded[team] = when
    sums: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for answer in per_month:
        month = str(answer.get("first_month"))
        for raw in answer.get("cells", ()):  # type: ignore[attr-defined]
            cell = Cell(str(raw["team"]), str(raw["municipality"]), str(raw["dimension"]),
                        str(raw["value"]), str(raw["measure"]), int(raw["count"]))
            if cell.measure == "open_at_end" and latest.get(cell.team) != month:
                continue
            sums[(cell.team, cell.municipality, cell.dimension, cell.value,
                  cell.measure)] += cell.count
    data = CountyData(period, [Cell(*key, count) for key, count in sorted(sums.items())])
    data.uploads = {team: (uploaded.get(team), latest[team]) for team in sorted(latest)}
    return data


def build_county(data: CountyData, ref: Reference, scope: Scope, created_on: date
                 ) -> Statistics:
    """The county figures of ``scope`` (teams, Kommunen, dimensions) from the server's cells."""
    scope.check(ref)
    cells = [c for c in data.cells if scope.covers(ref, c.team, c.municipality)]
    figures: list[Figure] = []
    kinds = [c for c in cells if c.dimension == "case_kind"]  # one per case: the case counts
    if scope.kind in (ScopeKind.COUNTY, ScopeKind.PLANNING_AREA):
        figures.append(_figure("kreis_cases_by_team", "Fälle nach Team", "Team",
                               [(t.code, t.name) for t in ref.teams],
                               _sum(kinds, "team")))
    if scope.kind != ScopeKind.MUNICIPALITY:
        municipalities = [(m.code, m.name) for m in ref.municipalities
                          if m.code in scope.municipalities(ref)]
        figures.append(_figure(
            "kreis_cases_by_municipality", "Fälle nach Kommune", "Kommune", municipalities,
            _sum(kinds, "municipality")))
    for dimension, heading, vocabulary in DIMENSION_FIGURES:
        rows = (nationality_groups(ref) if vocabulary is None
                else [(t.code, t.label) for t in ref.terms(vocabulary)])
        chosen = [c for c in cells if c.dimension == dimension]
        figures.append(_figure(
            f"kreis_cases_by_{dimension}", f"Fälle nach {heading}", heading, rows,
            _sum(chosen, "value"), total=dimension != "topic"))
    notes = [f"Datengrundlage: {BASIS}. Neu aufgenommene und abgeschlossene Fälle sind über "
             "die Monate des Zeitraums addiert; laufende Fälle: am Ende des letzten "
             "übermittelten Monats je Team. Jede Zahl ist eine Summe geschützter Werte."]
    notes += upload_notes(data, ref, scope)
    return Statistics(data.period, scope, f"{scope.label(ref)} – Kreisserver", created_on,
                      tuple(figures), tuple(notes))


def upload_notes(data: CountyData, ref: Reference, scope: Scope) -> list[str]:
    """Per team of the scope: when it last uploaded, and up to which month."""
    teams = [t for t in ref.teams
             if scope.kind != ScopeKind.TEAM or t.code == scope.code]
    lines = []
    for team in teams:
        upload = data.uploads.get(team.code)
        if upload is None:
            lines.append(f"{team.name}: keine Übermittlung für diesen Zeitraum.")
            continue
        at, month = upload
        when = f"{at.astimezone():%d.%m.%Y %H:%M} Uhr" if at else "unbekannt"
        lines.append(f"{team.name}: zuletzt übermittelt am {when}, Zahlen bis "
                     f"{month_label(month)}.")
    return lines


def _sum(cells: Sequence[Cell], by: str) -> dict[tuple[str, str], int]:
    """(row code, measure) → the sum of the cells' counts, rows taken from attribute ``by``."""
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for cell in cells:
        sums[(getattr(cell, by), cell.measure)] += cell.count
    return dict(sums)


def _figure(code: str, title: str, heading: str, rows: Sequence[tuple[str, str]],
            counts: Mapping[tuple[str, str], int], *, total: bool = True) -> Figure:
    known = {code for code, _ in rows}
    rows = [*rows, *[(extra, extra) for extra in sorted({r for r, _ in counts} - known)]]
    columns = tuple(Column(m, label) for m, label in MEASURES)
    values = [[counts.get((row, m), 0) for m, _ in MEASURES] for row, _ in rows]
    row_objects = [Row(row, label) for row, label in rows]
    notes: tuple[str, ...] = ()
    if total:
        values.append([sum(line[i] for line in values) for i in range(len(MEASURES))])
        row_objects.append(Row(TOTAL, "Insgesamt", total=True))
        notes = ("Insgesamt: Summe der Zeilen.",)
    else:
        notes = ("Ein Fall kann mehrere Handlungsfelder haben; die Zeilen ergeben keine Summe.",)
    return Figure(code=code, title=title, row_heading=heading, columns=columns,
                  rows=tuple(row_objects), cells=tuple(tuple(line) for line in values),
                  notes=notes)
