"""Desktop speed targets of issue 3, measured on real widgets (offscreen):

- the Ratsuchende list filters as you type in under 100 ms per keystroke with 5,000 clients
  and 50,000 contacts in the vault;
- a client file with 200 contacts opens in under 300 ms.

Setup writes the volume data straight through the models in one transaction (with the same
search-index call the use cases make), because 55,000 audited use-case calls would take
minutes; the timed parts are the real screens calling the real casework read functions.

Run: .venv/bin/python benchmarks/ui_speed.py
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from kimdesk.casework import search
from kimdesk.casework.profile import create_profile
from kimdesk.models import Case, Client, Consent, Contact
from kimdesk.ui.client_file import ClientFileScreen
from kimdesk.ui.clients_screen import ClientsScreen
from kimdesk.ui.hub import Hub
from kimdesk.ui.state import AppState
from kimdesk.vault import KdfParams, create_vault

CLIENTS = 5_000
CONTACTS = 50_000
BIG_FILE_CONTACTS = 200
TODAY = date(2026, 11, 25)
FIRST = ["Mohammed", "Ahmad", "Fatima", "Aisha", "Olena", "Oleksandr", "Zofia", "Łucja",
         "Mehmet", "Ayşe", "Ion", "Ștefan", "Yusuf", "Mariam", "Hassan", "Nour", "Dmytro",
         "Iryna", "Kateryna", "Ali", "Omid", "Zahra", "Bilal", "Elif", "Piotr", "Andrei"]
LAST = ["Al-Hassan", "Haidari", "Kovalenko", "Wiśniewska", "Yılmaz", "Popescu", "Ștefănescu",
        "Rahimi", "Shevchenko", "Nowak", "Demir", "Ibrahim", "Mahmoud", "Bondarenko",
        "Kaya", "Ionescu", "Karimi", "Sultani", "Hussein", "Melnyk", "Kowalski", "Öztürk"]


def build(data_dir: Path) -> str:
    rng = random.Random(7)
    vault, _ = create_vault(data_dir, "benchmark-passwort", kdf=KdfParams.for_tests())
    create_profile(vault, "Benchmark", "nord")
    municipalities = ["kleve", "bedburg-hau", "kranenburg"]
    big_client = ""
    with vault.writing() as session:
        case_ids = []
        for i in range(CLIENTS):
            client = Client(first_name=rng.choice(FIRST), last_name=rng.choice(LAST),
                            municipality=rng.choice(municipalities),
                            birth_date=date(1960, 1, 1) + timedelta(days=rng.randrange(20000)),
                            nationality=rng.choice(["SY", "AF", "UA", "TR", "PL", "RO"]))
            session.add(client)
            session.flush()
            session.add(Consent(client_id=client.id, kind="data_processing", purpose="KIM",
                                given_on=date(2025, 1, 1)))
            case = Case(client_id=client.id, kind=rng.choice(
                ["short_intervention", "process_support", "case_management"]),
                opened_on=date(2025, 1, 1), team="nord", municipality=client.municipality,
                case_manager="Benchmark")
            if case.kind == "case_management":
                case.phase = "monitoring"
            session.add(case)
            session.flush()
            search.reindex(session, client)
            case_ids.append((case.id, client.id))
            if i == 0:
                big_client = client.id
        big_case = case_ids[0][0]
        for n in range(CONTACTS):
            case_id, client_id = (case_ids[0] if n < BIG_FILE_CONTACTS
                                  else case_ids[rng.randrange(1, len(case_ids))])
            session.add(Contact(case_id=case_id, client_id=client_id,
                                contact_on=date(2025, 1, 1) + timedelta(days=n % 600),
                                duration_minutes=30, mode="office", topics=["language"],
                                note="Beratung"))
        assert big_case
    vault.close()
    return big_client


def main() -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "vault"
        started = time.perf_counter()
        big_client = build(data_dir)
        print(f"setup: {CLIENTS} clients, {CONTACTS} contacts in "
              f"{time.perf_counter() - started:.1f} s")
        state = AppState(data_dir, Hub(), clock=lambda: TODAY)
        state.unlock("benchmark-passwort")
        screen = ClientsScreen(state)
        screen.resize(1366, 768)
        screen.show()
        app.processEvents()
        timings = []
        for word in ("Mohamad", "Wisniewska", "Kovalenko", "Yilmaz", "Stefanescu", "Haidari"):
            typed = ""
            for char in word:
                typed += char
                start = time.perf_counter()
                screen.search.setText(typed)
                screen.apply_filter()
                app.processEvents()
                timings.append((time.perf_counter() - start) * 1000)
            screen.search.clear()
            screen.apply_filter()
        timings.sort()
        median = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"client list filter per keystroke: median {median:.1f} ms, p95 {p95:.1f} ms, "
              f"max {timings[-1]:.1f} ms over {len(timings)} keystrokes")
        print(f"target < 100 ms: {'OK' if p95 < 100 else 'MISSED'}")

        file_screen = ClientFileScreen(state)
        file_screen.resize(1366, 768)
        file_screen.show()
        opens = []
        for _ in range(7):
            start = time.perf_counter()
            file_screen.show_client(big_client)
            app.processEvents()
            opens.append((time.perf_counter() - start) * 1000)
        print(f"client file with {BIG_FILE_CONTACTS} contacts opens: median "
              f"{statistics.median(opens):.1f} ms, max {max(opens):.1f} ms")
        print(f"target < 300 ms: {'OK' if statistics.median(opens) < 300 else 'MISSED'}")
        file_screen.close()
        screen.close()
        state.lock()


if __name__ == "__main__":
    main()
