"""Which screens a changed table concerns: the one map from the vault's change reports
(table names) to the hub's areas.

Device-local bookkeeping (sync cursors, keys, the outbox, the search index) maps to no area: no
screen shows it. A test keeps this map complete, so a new table cannot be forgotten; should one
slip through anyway, it counts as a change of every area (a reload too many, never a stale screen).
"""

from __future__ import annotations

from collections.abc import Iterable

from kimdesk.ui import hub as areas

TABLE_AREAS: dict[str, frozenset[str]] = {
    name: frozenset(table_areas)
    for name, table_areas in {
        # the Akte
        "clients": (areas.CLIENTS,),
        "households": (areas.CLIENTS,),
        "relations": (areas.CLIENTS,),
        "residence_records": (areas.CLIENTS,),
        "consents": (areas.CONSENTS, areas.CLIENTS),
        "attachments": (areas.DOCUMENTS,),
        # the Fall and its phases (the client list shows kind and phase)
        "cases": (areas.CASES, areas.CLIENTS),
        "case_participants": (areas.CASES, areas.CLIENTS),
        "case_kind_changes": (areas.CASES,),
        "case_topics": (areas.CASES,),
        "phase_changes": (areas.CASES, areas.CLIENTS),
        "assessments": (areas.CASES,),
        "goals": (areas.CASES,),
        "steps": (areas.CASES,),
        "contacts": (areas.CASES,),
        "referrals": (areas.CASES, areas.NETWORK),
        "checklist_items": (areas.CASES, areas.CLIENTS),
        "deadlines": (areas.DEADLINES,),
        # Termine (Heute, the Akte) and handovers (who is responsible: Heute, Fallzahl)
        "appointments": (areas.DEADLINES, areas.CASES),
        "case_handovers": (areas.CASES, areas.DEADLINES, areas.CLIENTS),
        # cases that move to another team (device-local record; the Fall screen shows it)
        "case_transfers": (areas.CASES,),
        "institutions": (areas.NETWORK,),
        # data protection
        "deletion_proposals": (areas.RETENTION,),
        "purged_case_counts": (areas.RETENTION,),
        "audit_entries": (areas.AUDIT,),
        "sync_conflicts": (areas.CONFLICTS,),
        "sync_authors": (areas.CONFLICTS,),
        "conflict_resolutions": (areas.CONFLICTS,),  # decisions shared by the team
        # Koordination
        "case_reviews": (areas.COORDINATION,),
        "case_reconstructions": (areas.COORDINATION,),
        "generative_themes": (areas.COORDINATION,),
        "findings": (areas.COORDINATION,),
        "project_groups": (areas.COORDINATION,),
        "steering_members": (areas.COORDINATION,),
        "steering_meetings": (areas.COORDINATION,),
        "steering_decisions": (areas.COORDINATION,),
        "municipal_agreements": (areas.COORDINATION,),
        "structural_activities": (areas.COORDINATION,),
        # device-local: no screen shows them
        "vault_profile": (),
        "sync_clock": (),
        "sync_device": (),
        "sync_outbox": (),
        "sync_records": (),
        "sync_waiting": (),  # received values held back until what they depend on arrives
        "sync_team_keys": (),
        "sync_trust": (),  # verified certificates and revocations of the team
        "sync_quarantine": (),  # received changes that failed a check (sync status, county IT)
        "sync_blob_uploads": (),  # the blob of each outgoing document change
        # a received document's content arrived (or is still awaited): the Dokumente list
        "sync_blob_downloads": (areas.DOCUMENTS,),
        "client_search": (),
        "alembic_version": (),
    }.items()
}


def areas_for(tables: Iterable[str]) -> frozenset[str]:
    """The areas that the changed ``tables`` concern (all areas for a table not in the map)."""
    found: set[str] = set()
    for table in tables:
        found.update(TABLE_AREAS.get(table, areas.ALL))
    return frozenset(found)
