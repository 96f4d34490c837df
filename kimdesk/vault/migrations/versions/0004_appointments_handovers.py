"""appointments with a time of day, and case handovers between case managers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _entity_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('appointments',
    sa.Column('client_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appointments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_appointments_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_day'), ['day'], unique=False)

    op.create_table('case_handovers',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('from_manager', sa.String(length=120), nullable=False),
    sa.Column('to_manager', sa.String(length=120), nullable=False),
    sa.Column('handed_over_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_handovers_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_handovers'))
    )
    with op.batch_alter_table('case_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_handovers_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_handovers_case_id'))
    op.drop_table('case_handovers')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_day'))
        batch_op.drop_index(batch_op.f('ix_appointments_client_id'))
        batch_op.drop_index(batch_op.f('ix_appointments_case_id'))
    op.drop_table('appointments')
