"""an outgoing transfer remembers the version of the file it sealed

At the acknowledgement the sending device erases the moved file; if the file changed after the
bundle was sealed (an entry added meanwhile), the erasure would lose that change. The version
of the file as sealed (a digest of its records' ids and newest clocks) lets the hand-over tell.
Rows from before have none ("") and are handed over as before.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_version', sa.String(length=64), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.drop_column('sealed_version')
