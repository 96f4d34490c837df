"""coordination: Lenkungsgruppe members and meetings, review presenter, finding source review

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
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
    op.create_table('steering_members',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_entity_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steering_members'))
    )
    op.create_table('steering_meetings',
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('attendee_ids', sa.JSON(), nullable=False),
    *_entity_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steering_meetings'))
    )
    # Existing rows get empty texts; server defaults are needed to add NOT NULL columns.
    with op.batch_alter_table('case_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('team', sa.String(length=20), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('presenter', sa.String(length=120), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('confirmed_by', sa.String(length=120), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_findings_review_id_case_reviews'),
                                    'case_reviews', ['review_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('generative_themes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mandate', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('steering_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_steering_decisions_meeting_id_steering_meetings'),
            'steering_meetings', ['meeting_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('steering_decisions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_steering_decisions_meeting_id_steering_meetings'), type_='foreignkey')
        batch_op.drop_column('meeting_id')

    with op.batch_alter_table('generative_themes', schema=None) as batch_op:
        batch_op.drop_column('mandate')

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_findings_review_id_case_reviews'),
                                 type_='foreignkey')
        batch_op.drop_column('review_id')

    with op.batch_alter_table('case_reviews', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by')
        batch_op.drop_column('presenter')
        batch_op.drop_column('team')
        batch_op.drop_column('title')

    op.drop_table('steering_meetings')
    op.drop_table('steering_members')
