"""blob transfers: documents' contents sync as encrypted blobs in chunks (issue 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_blob_downloads',
    sa.Column('attachment_id', sa.String(length=32), nullable=False),
    sa.Column('blob_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('change_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('author_device', sa.String(length=32), nullable=False),
    sa.Column('hlc', sa.String(length=100), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('attachment_id', name=op.f('pk_sync_blob_downloads'))
    )
    op.create_table('sync_blob_uploads',
    sa.Column('change_id', sa.String(length=32), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=False),
    sa.Column('blob_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('change_id', name=op.f('pk_sync_blob_uploads'))
    )


def downgrade() -> None:
    op.drop_table('sync_blob_uploads')
    op.drop_table('sync_blob_downloads')
