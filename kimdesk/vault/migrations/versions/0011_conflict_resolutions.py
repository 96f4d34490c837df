"""conflict resolutions as a synced record: resolved once, resolved everywhere (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Conflicts resolved before this revision stay resolved on the device that decided them;
    # only later decisions travel (they would need outbox entries a migration cannot sign).
    op.create_table('conflict_resolutions',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('lost_hlc', sa.String(length=24), nullable=False),
    sa.Column('lost_origin', sa.String(length=32), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_resolutions'))
    )
    with op.batch_alter_table('conflict_resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_resolutions_record_id'), ['record_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conflict_resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_resolutions_record_id'))
    op.drop_table('conflict_resolutions')
