"""Client search inside the encrypted database: FTS5 over folded names and phonetic codes.

The index (table ``client_search``) holds, per client, the folded words of the names, their
Kölner Phonetik codes and the birth date tokens; it lives in the SQLCipher file like all else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kimdesk import textmatch
from kimdesk.models import Client
from kimdesk.models.enums import ClientKind
from kimdesk.vault import Vault

DEFAULT_LIMIT = 50
# The folding and phonetic keys the index was built with; raise it whenever textmatch changes
# what index_tokens returns. Kept in the database header (PRAGMA user_version, which nothing
# else uses): 0 = built before the spelling rules (version 2: anyascii + spelling rules).
INDEX_VERSION = 2


@dataclass(frozen=True)
class ClientHit:
    """One search result, as the list and the CLI show it."""

    id: str
    display_name: str
    birth_date: date | None
    municipality: str
    nationality: str | None


class Indexed(Protocol):
    """What the index reads of a client: a :class:`Client`, or an import's row (Core)."""

    @property
    def id(self) -> str: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def organisation_name(self) -> str: ...
    @property
    def birth_date(self) -> date | None: ...


def _tokens(client: Indexed) -> str:
    names = [client.first_name, client.last_name, client.organisation_name]
    # "Al-Hassan" is also typed "Alhassan": index multi-word names joined as well.
    joined = ["".join(words) for name in names
              if len(words := textmatch.fold(name or "").split()) > 1]
    dates = textmatch.date_tokens(client.birth_date) if client.birth_date else []
    return " ".join(filter(None, [textmatch.index_tokens(*names, *joined), *dates]))


def _id_match(client_id: str) -> str:
    return f'client_id : "{client_id}"'


def reindex(session: Session, client: Client) -> None:
    """Bring the index entry of ``client`` up to date (call after every change of a name)."""
    session.flush()
    session.execute(
        text("DELETE FROM client_search WHERE client_search MATCH :m"),
        {"m": _id_match(client.id)},
    )
    if client.anonymous:
        return  # an anonymous Kurzintervention is not findable by name
    session.execute(
        text("INSERT INTO client_search (client_id, tokens) VALUES (:id, :tokens)"),
        {"id": client.id, "tokens": _tokens(client)},
    )


def reindex_many(session: Session, clients: Sequence[Indexed], *, new: bool = False) -> None:
    """:func:`reindex` for many clients with two statements (sync applies thousands).

    ``new``: none of them is in the index yet, so nothing needs removing first."""
    if not clients:
        return
    session.flush()
    if not new:
        session.execute(text("DELETE FROM client_search WHERE client_search MATCH :m"),
                        [{"m": _id_match(client.id)} for client in clients])
    rows = [{"id": client.id, "tokens": _tokens(client)} for client in clients
            if not client.anonymous]
    if rows:
        session.execute(
            text("INSERT INTO client_search (client_id, tokens) VALUES (:id, :tokens)"), rows)


def rebuild_index(session: Session) -> int:
    """Build the whole index anew with the current folding; returns the clients indexed."""
    session.execute(text("DELETE FROM client_search"))
    count = 0
    batch: list[Client] = []
    for client in session.scalars(select(Client).execution_options(yield_per=1000)):
        batch.append(client)
        if len(batch) == 1000:
            count += len(batch)
            reindex_many(session, batch, new=True)
            batch = []
    count += len(batch)
    reindex_many(session, batch, new=True)
    session.execute(text(f"PRAGMA user_version = {INDEX_VERSION:d}"))
    return count


def index_is_current(session: Session) -> bool:
    return session.execute(text("PRAGMA user_version")).scalar() == INDEX_VERSION


def ensure_index_current(vault: Vault) -> None:
    """Rebuild the index of a vault whose index was made by an older folding (on unlock)."""
    with vault.reading() as session:
        if index_is_current(session):
            return
    with vault.writing() as session:
        if not index_is_current(session):
            rebuild_index(session)


def unindex(session: Session, client_id: str) -> None:
    session.execute(
        text("DELETE FROM client_search WHERE client_search MATCH :m"), {"m": _id_match(client_id)}
    )


def matching_ids(session: Session, query: str, limit: int = DEFAULT_LIMIT, *,
                 ranked: bool = True) -> list[str]:
    """Ids of the clients matching what a user typed, best first; [] for an empty query.

    ``ranked=False`` skips the relevance ordering (bm25 over every hit), for callers that
    only need the set, such as the list filter.
    """
    expression = textmatch.fts_query(query)
    if expression is None:
        return []
    # Queries of one or two letters per word match thousands by prefix: not worth ranking.
    order = "ORDER BY rank " if ranked and textmatch.worth_ranking(query) else ""
    rows = session.execute(
        text(
            f"SELECT client_id FROM client_search WHERE client_search MATCH :q {order}"
            "LIMIT :limit"
        ),
        {"q": f"tokens : ({expression})", "limit": limit},
    )
    return [row[0] for row in rows]


def hits(session: Session, query: str, limit: int = DEFAULT_LIMIT) -> list[ClientHit]:
    ids = matching_ids(session, query, limit)
    if not ids:
        return []
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(ids)))}
    return [to_hit(clients[i]) for i in ids if i in clients]


def to_hit(client: Client) -> ClientHit:
    return ClientHit(
        id=client.id,
        display_name=client.display_name,
        birth_date=client.birth_date,
        municipality=client.municipality,
        nationality=client.nationality,
    )


def likely_duplicates(
    session: Session, first_name: str, last_name: str, birth_date: date | None,
    exclude_id: str | None = None,
) -> list[ClientHit]:
    """Existing clients that are probably the same person (phonetic names, same birth date)."""
    candidates = matching_ids(session, last_name, limit=200) + matching_ids(
        session, first_name, limit=200
    )
    ids = [i for i in dict.fromkeys(candidates) if i != exclude_id]
    if not ids:
        return []
    # One statement for all candidates, not one per candidate.
    loaded = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(ids)))}
    key = textmatch.PersonKey(first_name, last_name, birth_date)
    found: list[ClientHit] = []
    for client_id in ids:
        client = loaded.get(client_id)
        if client is None:
            continue
        other = textmatch.PersonKey(client.first_name, client.last_name, client.birth_date)
        if textmatch.likely_same_person(key, other):
            found.append(to_hit(client))
    return found


class DuplicateIndex:
    """Set-based duplicate detection for many new clients at once (an import).

    Holds every named person of the vault, read with one statement, in buckets by pairs of
    duplicate keys (:func:`textmatch.name_keys`) of first and last name: two persons can only be
    :func:`textmatch.likely_same_person` if they share such a pair, straight or swapped, so a
    new person is compared with a handful of others, not with everyone called Mohammed.
    Persons added with :meth:`add` are found too: two rows of one list that are the same person
    are caught as well.
    """

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], list[tuple[textmatch.PersonKey, str]]] = {}

    @classmethod
    def load(cls, session: Session) -> DuplicateIndex:
        index = cls()
        rows = session.execute(
            select(Client.id, Client.first_name, Client.last_name, Client.birth_date)
            .where(Client.kind == ClientKind.PERSON.value, Client.anonymous.is_(False)))
        for client_id, first, last, born in rows:
            index.add(textmatch.PersonKey(first, last, born), client_id)
        return index

    @staticmethod
    def _pairs(first: str, last: str) -> Iterable[tuple[str, str]]:
        last_keys = textmatch.name_keys(last)
        return [(f, l) for f in textmatch.name_keys(first) for l in last_keys]  # noqa: E741

    def add(self, key: textmatch.PersonKey, client_id: str) -> None:
        for pair in self._pairs(key.first_name, key.last_name):
            self._buckets.setdefault(pair, []).append((key, client_id))

    def find(self, key: textmatch.PersonKey) -> list[str]:
        """Ids of the persons that are probably ``key`` (likely_same_person), in no order."""
        found: dict[str, None] = {}
        pairs = [*self._pairs(key.first_name, key.last_name),
                 *self._pairs(key.last_name, key.first_name)]  # first and last name swapped
        for pair in pairs:
            for other, client_id in self._buckets.get(pair, ()):
                if client_id not in found and textmatch.likely_same_person(key, other):
                    found[client_id] = None
        return list(found)
