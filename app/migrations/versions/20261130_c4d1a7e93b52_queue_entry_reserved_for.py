"""A caller's place in the queue may be kept for one agent: the one who asked us to call the
customer (progressive dialing: "call now", a follow-up they agreed)

Revision ID: c4d1a7e93b52
Revises: 5b0e7d2c91a4
Create Date: 2026-11-30 14:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d1a7e93b52"
down_revision = "5b0e7d2c91a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reserved_for", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            "fk_queue_entries_reserved_for_agents",
            "agents",
            ["reserved_for"],
            ["staff_id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_queue_entries_reserved_for_agents", type_="foreignkey")
        batch_op.drop_column("reserved_for")
