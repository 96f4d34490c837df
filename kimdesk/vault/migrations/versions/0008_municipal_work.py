"""municipal work: agreements with parties, subject, validity, Fallzusteuerung; structural
activities that are not cases (concept 4.5, 5.6–5.8)

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('structural_activities',
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('municipalities', sa.JSON(), nullable=False),
    sa.Column('planning_area', sa.String(length=60), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structural_activities'))
    )
    with op.batch_alter_table('structural_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structural_activities_held_on'), ['held_on'],
                              unique=False)

    # Existing agreements keep what they hold; the new columns start empty.
    with op.batch_alter_table('municipal_agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('parties', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('allocates_cases', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('municipal_agreements', schema=None) as batch_op:
        batch_op.drop_column('allocates_cases')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('parties')
        batch_op.drop_column('subject')
    with op.batch_alter_table('structural_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structural_activities_held_on'))
    op.drop_table('structural_activities')
