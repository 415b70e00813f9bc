"""Complaints keep the call reference as given; it links a call only when it matches silently

Revision ID: 8b2f6d41c0e3
Revises: 5e0a3c9d27f1
Create Date: 2026-11-30 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8b2f6d41c0e3"
down_revision = "5e0a3c9d27f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_reference", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("call_reference")
