"""the checksum and consistency reads of a sync from an index, not the record states' rows

``sync_records`` rows carry every field's clock (JSON, most of a row's bytes): the team
checksum and the consistency check of every sync read only the kind, causal length, id and
newest clock of each record. A covering index holds exactly those (about a tenth of the
table's pages); it replaces the index on ``kind`` alone, which it begins with.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_records', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_records_kind')
        batch_op.create_index('ix_sync_records_verify', ['kind', 'cl', 'record_id', 'max_hlc'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_records', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_records_verify')
        batch_op.create_index('ix_sync_records_kind', ['kind'], unique=False)
