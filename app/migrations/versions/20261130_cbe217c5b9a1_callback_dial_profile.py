"""Each callback carries its dial profile and its campaign's hold: callbacks read no campaign

Revision ID: cbe217c5b9a1
Revises: eec880da30ac
Create Date: 2026-11-30 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "cbe217c5b9a1"
down_revision = "eec880da30ac"
branch_labels = None
depends_on = None

OPEN = ("queued", "claimed", "in_call")


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dial_profile", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "dial_hold",
                sa.Enum("paused", "cancelled", name="dial_hold", native_enum=False, length=32),
                nullable=True,
            )
        )
    # The callbacks campaigns already queued get their campaign's profile and hold, as the
    # dialer read them from the campaign until now; other callbacks keep the policy's defaults.
    connection = op.get_bind()
    campaigns = sa.table(
        "campaigns",
        sa.column("id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("window_start", sa.String()),
        sa.column("window_end", sa.String()),
        sa.column("retry_minutes", sa.JSON()),
        sa.column("max_attempts", sa.Integer()),
        sa.column("calls_per_second", sa.Float()),
        sa.column("max_concurrent", sa.Integer()),
    )
    callbacks = sa.table(
        "callbacks",
        sa.column("campaign_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("dial_profile", sa.JSON()),
        sa.column("dial_hold", sa.String()),
    )
    for campaign in connection.execute(sa.select(campaigns)).mappings().all():
        profile = {
            "window": [campaign["window_start"], campaign["window_end"]],
            "retry_seconds": [int(m) * 60 for m in campaign["retry_minutes"] or []],
            "max_attempts": campaign["max_attempts"],
            "calls_per_second": campaign["calls_per_second"],
            "max_concurrent": campaign["max_concurrent"],
        }
        hold = campaign["status"] if campaign["status"] in ("paused", "cancelled") else None
        connection.execute(
            callbacks.update()
            .where(callbacks.c.campaign_id == campaign["id"])
            .values(dial_profile=profile)
        )
        if hold is not None:
            connection.execute(
                callbacks.update()
                .where(callbacks.c.campaign_id == campaign["id"], callbacks.c.status.in_(OPEN))
                .values(dial_hold=hold)
            )


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_column("dial_hold")
        batch_op.drop_column("dial_profile")
