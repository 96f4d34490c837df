"""What a statistic covers: a period of whole months and an area (Kreis, team, Planungsraum,
Kommune). Statistics never look at anything finer than a month."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kimdesk.errors import ValidationError
from kimdesk.reference import Reference

_MONTH = re.compile(r"(\d{4})-(\d{2})")
MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
               "September", "Oktober", "November", "Dezember")


def parse_month(text: str) -> str:
    """``"2026-03"`` as typed (JJJJ-MM); German ValidationError otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValidationError(f"„{text}“ ist kein Monat im Format JJJJ-MM (z. B. 2026-03).",
                              "month")
    return f"{match.group(1)}-{match.group(2)}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def month_label(month: str) -> str:
    """``"2026-03"`` → ``"März 2026"``."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


def add_months(month: str, count: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """Whole months from ``start`` to ``end`` (both ``YYYY-MM``, inclusive)."""

    start: str
    end: str

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if parse_month(value) != value:
                raise ValidationError(f"„{value}“ ist kein Monat im Format JJJJ-MM.", "month")
        if self.start > self.end:
            raise ValidationError("Der Zeitraum endet vor seinem Beginn.", "period")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        return cls(parse_month(start), parse_month(end))

    @property
    def first_day(self) -> date:
        year, month = (int(part) for part in self.start.split("-"))
        return date(year, month, 1)

    @property
    def last_day(self) -> date:
        year, month = (int(part) for part in self.end.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])

    @property
    def months(self) -> int:
        return (int(self.end[:4]) - int(self.start[:4])) * 12 + int(self.end[5:]) - int(
            self.start[5:]) + 1

    def contains_month(self, month: str) -> bool:
        return bool(month) and self.start <= month <= self.end

    def contains(self, day: date | None) -> bool:
        return day is not None and self.first_day <= day <= self.last_day

    @property
    def label(self) -> str:
        if self.start == self.end:
            return month_label(self.start)
        return f"{month_label(self.start)} bis {month_label(self.end)}"


class ScopeKind(StrEnum):
    COUNTY = "county"
    TEAM = "team"
    PLANNING_AREA = "planning_area"
    MUNICIPALITY = "municipality"

    @property
    def label(self) -> str:
        return {"county": "Kreis", "team": "Team", "planning_area": "Planungsraum",
                "municipality": "Kommune"}[self.value]


@dataclass(frozen=True)
class Scope:
    """The area a statistic covers.

    ``team``: the cases a team handles (the Welcome-Center's cases count for the Welcome-Center,
    wherever the person lives). ``planning_area``: the cases of the Kommunen of that Planungsraum,
    whichever team handles them; its code is the code of the regional team the Planungsraum
    belongs to. ``municipality``: the cases of one Kommune.
    """

    kind: ScopeKind = ScopeKind.COUNTY
    code: str = ""

    @classmethod
    def county(cls) -> Scope:
        return cls(ScopeKind.COUNTY)

    def check(self, ref: Reference) -> None:
        """German ValidationError if the code does not fit the reference data."""
        if self.kind == ScopeKind.COUNTY:
            return
        if self.kind == ScopeKind.MUNICIPALITY:
            if self.code not in {m.code for m in ref.municipalities}:
                raise ValidationError(f"Unbekannte Kommune „{self.code}“.", "scope")
            return
        teams = ref.teams if self.kind == ScopeKind.TEAM else ref.regional_teams
        if self.code not in {t.code for t in teams}:
            known = ", ".join(t.code for t in teams)
            what = "Team" if self.kind == ScopeKind.TEAM else "Planungsraum"
            raise ValidationError(f"Unbekanntes {what} „{self.code}“ (möglich: {known}).",
                                  "scope")

    def label(self, ref: Reference) -> str:
        self.check(ref)
        if self.kind == ScopeKind.COUNTY:
            return "Kreis Kleve (alle Teams)"
        if self.kind == ScopeKind.TEAM:
            return ref.team(self.code).name
        if self.kind == ScopeKind.PLANNING_AREA:
            return ref.team(self.code).planning_area or self.code
        return f"Kommune {ref.municipality(self.code).name}"

    def municipalities(self, ref: Reference) -> tuple[str, ...]:
        """The Kommunen this scope shows (all of them for the Kreis and the Welcome-Center)."""
        if self.kind == ScopeKind.MUNICIPALITY:
            return (self.code,)
        if self.kind == ScopeKind.COUNTY or ref.team(self.code).countywide:
            return tuple(m.code for m in ref.municipalities)
        return ref.team(self.code).municipalities

    def covers(self, ref: Reference, team: str, municipality: str) -> bool:
        """Whether a case of ``team`` in ``municipality`` falls into this scope."""
        if self.kind == ScopeKind.COUNTY:
            return True
        if self.kind == ScopeKind.TEAM:
            return team == self.code
        return municipality in self.municipalities(ref)
