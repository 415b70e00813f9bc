"""One live callback per number, and the calls on a number found by its index

Revision ID: 30e67690f766
Revises: d7e41a9c03b8
Create Date: 2026-11-30 11:00:00

Two workers must never both dial one person: a partial unique index allows one claimed or in-call
callback per number. A database that has two live callbacks for one number (calls under way when
the new code is deployed) cannot take the index: the upgrade stops and says which numbers, so the
operator lets those calls end (or stops the workers until they have) and upgrades again.
"""

import sqlalchemy as sa
from alembic import op

revision = "30e67690f766"
down_revision = "d7e41a9c03b8"
branch_labels = None
depends_on = None

LIVE = "status IN ('claimed', 'in_call')"


def upgrade() -> None:
    connection = op.get_bind()
    doubled = connection.execute(
        sa.text(
            f"SELECT to_number FROM callbacks WHERE {LIVE} GROUP BY to_number HAVING COUNT(*) > 1"
        )
    ).scalars().all()
    if doubled:
        raise RuntimeError(
            f"{len(doubled)} number(s) have two live callbacks (e.g. {doubled[0]}): let their "
            f"calls end, or stop the workers until they have, then upgrade again"
        )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(
            "uq_callbacks_live_number",
            ["to_number"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_to_number", ["to_number"], unique=False)
        batch_op.create_index("ix_calls_from_number", ["from_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_from_number")
        batch_op.drop_index("ix_calls_to_number")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_callbacks_live_number",
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
