"""county releases: which team record a Kreis-Tresor copy was released from (issue 15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TABLES = ('findings', 'case_reconstructions', 'generative_themes')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('released_from', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('released_team', sa.String(length=20), nullable=False,
                                          server_default=''))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('released_team')
            batch_op.drop_column('released_from')
