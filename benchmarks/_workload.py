"""Shared pieces of the import, demo and SQLCipher-cost benchmarks: lists and empty vaults.

Not a benchmark itself (the leading underscore keeps it out of ``make bench``).
"""

from __future__ import annotations

import csv
import random
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from kimdesk.casework.profile import create_profile
from kimdesk.demo import random_person
from kimdesk.reference import load_reference
from kimdesk.vault import KdfParams, create_vault

PASSWORD = "benchmark-passwort"
TODAY = date(2026, 11, 25)


def client_list(path: Path, rows: int, seed: int = 17) -> Path:
    """A CSV list as a Kommune exports it: ``rows`` people of the Kreis Kleve's clientele."""
    rng = random.Random(seed)
    reference = load_reference()
    kommunen = [m.name for m in reference.municipalities]
    names = {n.code: n.name for n in reference.nationalities}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Nachname", "Vorname", "Geburtsdatum", "Staatsangehörigkeit",
                         "Kommune"])
        for _ in range(rows):
            person = random_person(rng, TODAY)
            writer.writerow([person.last_name, person.first_name,
                             person.birth_date.strftime("%d.%m.%Y"),
                             names.get(person.nationality, ""), rng.choice(kommunen)])
    return path


def empty_vault(template: Path, target: Path) -> Path:
    """A copy of an empty vault with a profile (the template is made once: Argon2id, migrations
    and the profile are not what these benchmarks measure)."""
    if not template.exists():
        vault, _code = create_vault(template, PASSWORD, kdf=KdfParams.for_tests())
        try:
            create_profile(vault, "Anna Becker", "nord")
        finally:
            vault.close()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(template, target)
    return target


def median_of(runs: int, once: Callable[[int], float]) -> tuple[float, list[float]]:
    """The median and all of ``runs`` timings (seconds) of ``once(run_number)``."""
    times = [once(run) for run in range(runs)]
    return statistics.median(times), times


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
