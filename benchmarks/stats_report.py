"""Benchmark: the statistics report (figures with suppression, Zielsystem, PDF) over 5,000
clients and 50,000 contacts renders in under 0.5 s (issue 17; issue 6 had asked for 3 s).

Setup (not timed): a throw-away vault filled with synthetic cases in ONE transaction straight
through the models: clients, cases with kind and phase history, topics, contacts, referrals,
assessments, goals, residence records, findings and purged-case counts. This bypasses casework
for speed only (55,000 audited use-case calls would take many minutes); statistics read the
same rows either way.

Timed: :func:`kimdesk.reports.statistics.statistics_pdf` for the whole Kreis over 22 months,
the real report code end to end (reading the vault, building and suppressing all figures,
measuring the Zielsystem, rendering the PDF in memory). Median of 5 runs after one warm-up;
the parts (figures only, CSV and XLSX export) are printed for information, each with the CPU
time of the process (user + system) beside the wall time and the load average: on a shared
machine the wall time grows with the load, the CPU time much less.

Run: .venv/bin/python benchmarks/stats_report.py [--clients N] [--contacts N] [--runs R]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from kimdesk.casework.profile import context_for, create_profile
from kimdesk.models import (
    Assessment,
    Case,
    CaseKindChange,
    CaseTopic,
    Client,
    Contact,
    Finding,
    Goal,
    Institution,
    PhaseChange,
    PurgedCaseCount,
    Referral,
    ResidenceRecord,
)
from kimdesk.reference import load_reference
from kimdesk.reports.statistics import statistics_pdf
from kimdesk.stats import exports
from kimdesk.stats.figures import statistics as compute_statistics
from kimdesk.stats.scope import Period
from kimdesk.vault import KdfParams, create_vault

TARGET_MS = 500.0  # issue 17
TODAY = date(2026, 11, 25)
PERIOD = Period("2025-01", "2026-10")
PHASES = ("intake", "assessment", "planning", "linking", "monitoring", "evaluation")


def build(data_dir: Path, clients: int, contacts: int) -> None:
    ref = load_reference()
    rng = random.Random(6)
    municipalities = [m.code for m in ref.municipalities]
    vault, _ = create_vault(data_dir, "benchmark-passwort", kdf=KdfParams.for_tests())
    create_profile(vault, "Koordination", "nord", role="coordinator")
    topics = ref.codes("topics")
    with vault.writing() as session:
        institutions = [Institution(name=f"Einrichtung {i}", institution_type=t,
                                    legal_domain="none")
                        for i, t in enumerate(ref.codes("institution_types"))]
        session.add_all(institutions)
        session.flush()
        case_ids: list[tuple[str, str, date, date | None]] = []
        for number in range(clients):
            municipality = rng.choice(municipalities)
            client = Client(first_name=f"Vorname{number}", last_name=f"Nachname{number}",
                            gender=rng.choice(ref.codes("genders")), municipality=municipality,
                            birth_date=date(rng.randint(1945, 2020), rng.randint(1, 12), 1),
                            nationality=rng.choice(["PL", "RO", "SY", "TR", "UA", "AF", "IQ",
                                                    "NL", "BG", "IT", "ER", "IR", None]))
            session.add(client)
            session.flush()
            for _ in range(1 if rng.random() < 0.8 else 2):
                kind = rng.choice(ref.codes("case_kinds"))
                opened = date(2024, 1, 1) + timedelta(days=rng.randint(0, 1030))
                closed = (opened + timedelta(days=rng.randint(20, 400))
                          if rng.random() < 0.55 else None)
                if closed and closed > TODAY:
                    closed = None
                team = ("welcome" if rng.random() < 0.1
                        else ref.team_for_municipality(municipality).code)
                phase = rng.choice(PHASES) if kind == "case_management" else None
                case = Case(client_id=client.id, kind=kind, phase=phase,
                            status="closed" if closed else "open", opened_on=opened,
                            closed_on=closed,
                            closing_reason=rng.choice(ref.codes("closing_reasons"))
                            if closed else "",
                            access_route=rng.choice(ref.codes("access_routes")), team=team,
                            municipality=municipality, case_manager="Benchmark")
                session.add(case)
                session.flush()
                case_ids.append((case.id, client.id, opened, closed))
                session.add(CaseKindChange(case_id=case.id, to_kind=kind, changed_on=opened))
                if phase:
                    for step in PHASES[:PHASES.index(phase) + 1]:
                        session.add(PhaseChange(case_id=case.id, to_phase=step,
                                                changed_on=opened))
                for topic in rng.sample(topics, rng.randint(1, 3)):
                    session.add(CaseTopic(case_id=case.id, topic=topic))
                if rng.random() < 0.5:
                    session.add(Referral(case_id=case.id, client_id=client.id,
                                         institution_id=rng.choice(institutions).id,
                                         referred_on=opened + timedelta(days=10),
                                         outcome=rng.choice(ref.codes("referral_outcomes"))))
                if kind == "case_management":
                    area = rng.choice(topics)
                    session.add(Assessment(case_id=case.id, client_id=client.id,
                                           life_area=area, need=rng.randint(0, 3),
                                           assessed_on=opened))
                    session.add(Goal(case_id=case.id, client_id=client.id, title="Ziel",
                                     life_area=area, agreed_on=opened + timedelta(days=20),
                                     attainment=rng.choice(["", "full", "partial", "none"]),
                                     evaluated_on=opened + timedelta(days=200)))
            if rng.random() < 0.4:
                session.add(ResidenceRecord(client_id=client.id,
                                            status=rng.choice(ref.codes("residence_statuses")),
                                            granted_on=date(2023, 6, 1)))
        for _ in range(contacts):
            case_id, client_id, opened, closed = rng.choice(case_ids)
            last = closed or TODAY
            session.add(Contact(case_id=case_id, client_id=client_id,
                                contact_on=opened + timedelta(
                                    days=rng.randint(0, max(0, (last - opened).days))),
                                duration_minutes=rng.choice([15, 30, 45, 60, 90]),
                                mode=rng.choice(ref.codes("contact_kinds")),
                                interpreter=rng.random() < 0.3))
        for _ in range(300):
            session.add(Finding(noted_on=date(2025, 1, 1) + timedelta(days=rng.randint(0, 660)),
                                source="case", life_area=rng.choice(topics),
                                barrier=rng.choice(["waiting_times", "language", "no_offer"]),
                                municipality=rng.choice(municipalities)))
        for _ in range(500):
            session.add(PurgedCaseCount(opened_month="2025-0" + str(rng.randint(1, 9)),
                                        closed_month="2025-1" + str(rng.randint(0, 2)),
                                        team="sued", municipality="geldern",
                                        kind=rng.choice(ref.codes("case_kinds")),
                                        gender="female", nationality_group="Polen",
                                        contacts=rng.randint(0, 8), contact_minutes=120,
                                        topics=["work"]))
    vault.close()


def timed(action: Callable[[], object], runs: int) -> tuple[float, list[float], float]:
    """Median wall time, all wall times and median CPU time of ``runs`` runs (ms)."""
    action()  # warm-up: imports, font registration, SQLite page cache
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), times, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from kimdesk.vault import open_vault

    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    with tempfile.TemporaryDirectory(prefix="kimdesk-bench-stats-") as tmp:
        data_dir = Path(tmp) / "vault"
        start = time.perf_counter()
        build(data_dir, args.clients, args.contacts)
        print(f"setup: {args.clients} clients, {args.contacts} contacts "
              f"({time.perf_counter() - start:.1f} s, not timed)")
        vault = open_vault(data_dir, "benchmark-passwort")
        try:
            ctx = dataclasses.replace(context_for(vault), clock=lambda: TODAY)
            pdf = statistics_pdf(ctx, PERIOD)
            print(f"report: {PERIOD.label}, Kreis, {len(pdf) // 1024} KB PDF")
            figures_ms, _, figures_cpu = timed(lambda: compute_statistics(ctx, PERIOD),
                                               args.runs)
            stats = compute_statistics(ctx, PERIOD)
            csv_ms, _, _ = timed(lambda: exports.to_csv(stats), args.runs)
            xlsx_ms, _, _ = timed(lambda: exports.to_xlsx(stats), args.runs)
            median, times, cpu = timed(lambda: statistics_pdf(ctx, PERIOD), args.runs)
        finally:
            vault.close()
    print(f"figures only (read + suppress): median {figures_ms:.0f} ms (CPU {figures_cpu:.0f} ms)")
    print(f"export CSV: median {csv_ms:.0f} ms; export XLSX: median {xlsx_ms:.0f} ms")
    print("statistics report PDF (figures, Zielsystem, PDF): "
          + ", ".join(f"{t:.0f}" for t in times) + " ms")
    print(f"median of {args.runs} runs: {median:.0f} ms (CPU {cpu:.0f} ms); load average now: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"target < {TARGET_MS:.0f} ms: {'OK' if median < TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
