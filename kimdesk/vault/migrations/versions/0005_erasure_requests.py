"""erasure on request: a deletion proposal remembers the day of an Art. 17 request

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deletion_proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deletion_proposals', schema=None) as batch_op:
        batch_op.drop_column('requested_on')
