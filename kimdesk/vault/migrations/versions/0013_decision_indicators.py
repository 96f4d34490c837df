"""decision indicators: what the Lenkungsgruppe watches to see a decision work (issue 15)

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('steering_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicators', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('steering_decisions', schema=None) as batch_op:
        batch_op.drop_column('indicators')
