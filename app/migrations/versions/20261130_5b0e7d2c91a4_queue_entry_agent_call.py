"""A caller's place in the queue remembers the call to the agent's browser phone (the conference
participant the router rang), so the agent's hang-up ends the talk and no other call does

Revision ID: 5b0e7d2c91a4
Revises: a9e3c5d71f20
Create Date: 2026-11-30 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5b0e7d2c91a4"
down_revision = "a9e3c5d71f20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_call_sid", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.drop_column("agent_call_sid")
