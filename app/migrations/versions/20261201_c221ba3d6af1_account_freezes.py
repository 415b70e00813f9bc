"""Account freezes asked for without the app, and the customer's birth date as a keyed hash

Revision ID: c221ba3d6af1
Revises: 3f9b2c71d0a8
Create Date: 2026-12-01 03:30:00

"""

import sqlalchemy as sa
from alembic import op

import app.database

revision = "c221ba3d6af1"
down_revision = "3f9b2c71d0a8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_date_hash", sa.String(length=80), nullable=True))
    op.create_table(
        "freeze_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("frozen_customer_id", sa.Uuid(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum("phone", "web", "api", name="freeze_channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("frozen", "lifted", name="freeze_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("fraud_case_reference", sa.String(length=16), nullable=True),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", app.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_verified_by", sa.String(length=16), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lift_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_freeze_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_freeze_requests_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freeze_requests")),
        sa.UniqueConstraint(
            "frozen_customer_id", name=op.f("uq_freeze_requests_frozen_customer_id")
        ),
    )
    with op.batch_alter_table("freeze_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_freeze_requests_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("freeze_requests")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("birth_date_hash")
