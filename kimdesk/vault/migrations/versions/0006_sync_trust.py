"""sync trust: the county root key pinned at enrolment, certificates and revocations verified,
quarantined changes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_device') as batch:
        batch.add_column(sa.Column('root_public', sa.LargeBinary(), nullable=True))
    op.create_table('sync_trust',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('fingerprint', sa.String(length=60), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_trust'))
    )
    op.create_index(op.f('ix_sync_trust_fingerprint'), 'sync_trust', ['fingerprint'],
                    unique=False)
    op.create_table('sync_quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.String(length=32), nullable=False),
    sa.Column('author_device', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('hlc', sa.String(length=100), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_quarantine'))
    )


def downgrade() -> None:
    op.drop_table('sync_quarantine')
    op.drop_index(op.f('ix_sync_trust_fingerprint'), table_name='sync_trust')
    op.drop_table('sync_trust')
    with op.batch_alter_table('sync_device') as batch:
        batch.drop_column('root_public')
