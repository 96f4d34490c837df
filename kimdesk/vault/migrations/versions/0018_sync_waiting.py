"""received values the merge holds back until what they depend on arrives (issue 16)

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_waiting',
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('awaits', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_sync_waiting'))
    )
    with op.batch_alter_table('sync_waiting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_waiting_awaits'), ['awaits'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_waiting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_waiting_awaits'))
    op.drop_table('sync_waiting')
