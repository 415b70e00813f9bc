"""The outbox remembers when it alerted a supervisor (a core notification overdue, a message
given up): once per message

Revision ID: d7e41a9c03b8
Revises: cbe217c5b9a1
Create Date: 2026-11-30 11:00:00

"""

import sqlalchemy as sa
from alembic import op

import app.database

revision = "d7e41a9c03b8"
down_revision = "cbe217c5b9a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerted_at", app.database.UTCDateTime(timezone=True), nullable=True))
    # Core notifications given up before (the old ladder stopped after about 46 hours) are
    # tried again: the core system must learn of them; a supervisor is alerted as they age.
    # (Their next attempt, the last one's moment, is past: they are due at once.)
    op.execute(
        "UPDATE outbox_messages SET state = 'pending', claimed_until = NULL "
        "WHERE kind = 'webhook' AND state = 'failed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("alerted_at")
