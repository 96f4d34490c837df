"""sync: change log (outbox, record states with field clocks, conflicts), device enrolment, team keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_outbox',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('change_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_sync_outbox')),
    sa.UniqueConstraint('change_id', name=op.f('uq_sync_outbox_change_id'))
    )
    op.create_table('sync_records',
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('cl', sa.Integer(), nullable=False),
    sa.Column('max_hlc', sa.String(length=24), nullable=False),
    sa.Column('clocks', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_sync_records'))
    )
    op.create_index(op.f('ix_sync_records_kind'), 'sync_records', ['kind'], unique=False)
    op.create_table('sync_authors',
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('origin', name=op.f('pk_sync_authors'))
    )
    op.create_table('sync_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_hlc', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_clock'))
    )
    op.create_table('sync_conflicts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('kept_value', sa.JSON(), nullable=False),
    sa.Column('kept_hlc', sa.String(length=24), nullable=False),
    sa.Column('kept_origin', sa.String(length=32), nullable=False),
    sa.Column('lost_value', sa.JSON(), nullable=False),
    sa.Column('lost_hlc', sa.String(length=24), nullable=False),
    sa.Column('lost_origin', sa.String(length=32), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    op.create_index(op.f('ix_sync_conflicts_record_id'), 'sync_conflicts', ['record_id'],
                    unique=False)
    op.create_table('sync_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('server_url', sa.String(length=300), nullable=False),
    sa.Column('device_id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=20), nullable=False),
    sa.Column('token', sa.String(length=120), nullable=False),
    sa.Column('coordinator', sa.Boolean(), nullable=False),
    sa.Column('sign_private', sa.LargeBinary(), nullable=False),
    sa.Column('box_private', sa.LargeBinary(), nullable=False),
    sa.Column('fingerprint', sa.String(length=60), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('lease_secret', sa.LargeBinary(), nullable=False),
    sa.Column('lease_counter_used', sa.Integer(), nullable=False),
    sa.Column('lease_warn_days', sa.Integer(), nullable=False),
    sa.Column('lease_lock_days', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(), nullable=False),
    sa.Column('last_contact_at', sa.DateTime(), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(), nullable=True),
    sa.Column('lease_unlocked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_device'))
    )
    op.create_table('sync_team_keys',
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('epoch', name=op.f('pk_sync_team_keys'))
    )


def downgrade() -> None:
    for table in ('sync_team_keys', 'sync_device', 'sync_conflicts', 'sync_clock',
                  'sync_authors', 'sync_records', 'sync_outbox'):
        op.drop_table(table)

