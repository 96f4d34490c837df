"""signed changes: the device whose verified signature owns an origin id (issue 16, step 3)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Origins seen before changes were signed stay unbound; the next verified signer binds.
    with op.batch_alter_table('sync_authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_authors', schema=None) as batch_op:
        batch_op.drop_column('device_id')
