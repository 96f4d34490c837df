"""The Auskunft of a person imported from a list on one laptop and edited on a colleague's:
it says the data came from a list, names the colleague's edit with its author (known from the
synced change history), and its JSON companion validates against the documented schema."""

from __future__ import annotations

import json
from pathlib import Path

from kimdesk.casework import disclosure
from kimdesk.casework.clients import find_clients, update_client
from kimdesk.casework.context import Context
from kimdesk.casework.importing import import_clients
from kimdesk.reports.auskunft_data import auskunft_json
from kimdesk.reports.personal import auskunft
from tests.reports.json_schema import problems
from tests.reports.pdftext import text
from tests.sync.team import Team

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "auskunft.schema.json")
                    .read_text(encoding="utf-8"))


def _imported(anna: Context, tmp_path: Path) -> str:
    path = tmp_path / "liste.csv"
    path.write_text("Nachname;Vorname;Geburtsdatum;Staatsangehörigkeit;Kommune\r\n"
                    "Bondarenko;Iryna;02.09.1984;ukrainisch;Goch\r\n", encoding="utf-8")
    import_clients(anna, path, consent_on_file=True)
    [hit] = find_clients(anna, "Bondarenko")
    return hit.id


def test_the_auskunft_names_the_list_and_the_colleagues_edit(
        pair: tuple[Team, Context, Context], tmp_path: Path) -> None:
    team, anna, ewa = pair
    person_id = _imported(anna, tmp_path)
    team.sync_all()
    update_client(ewa, person_id, {"phone": "0152 3344556"})
    team.sync_all()

    content = text(auskunft(anna, person_id))

    assert "Aus Liste übernommen (von Anna Becker am " in content
    assert "Von Ihnen selbst" not in content  # nothing was ever said in a conversation
    section = content[content.index("Änderungen durch Kolleg:innen"):]
    assert "Ewa Nowak" in section
    assert "Telefon" in section[:section.index("8. Weitere Informationen")]
    assert "von Ewa Nowak (Kolleg:in im Team) erfasst oder geändert" in content

    document = json.loads(auskunft_json(anna, person_id))
    assert problems(document, SCHEMA) == []
    assert [s["kind"] for s in document["sources"]] == ["list_import", "colleague"]
    [change] = document["colleague_changes"]
    assert (change["author"], change["area"], change["fields"]) == (
        "Ewa Nowak", "Stammdaten", "Telefon")
    assert document["person"]["phone"] == "0152 3344556"


def test_on_the_colleagues_laptop_the_list_and_the_importer_are_named(
        pair: tuple[Team, Context, Context], tmp_path: Path) -> None:
    """Ewa's vault has no audit entry of the import: the consent form tells it."""
    team, anna, ewa = pair
    person_id = _imported(anna, tmp_path)
    team.sync_all()

    with ewa.vault.reading() as session:
        sources = disclosure.data_sources(ewa, session, person_id)
        edits = disclosure.colleague_edits(session, person_id)

    assert [(s.kind, s.who) for s in sources] == [
        (disclosure.LIST_IMPORT, "Anna Becker"), (disclosure.COLLEAGUE, "Anna Becker")]
    assert {e.author for e in edits} == {"Anna Becker"}
    assert {e.table for e in edits} == {"clients", "consents"}
