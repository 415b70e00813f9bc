"""A simulated call may be in several conferences, one after the other: participants are keyed by
conference and call, and each call's own progress has a row of its own

Revision ID: 6d41cd447efb
Revises: b1da323e9ec9
Create Date: 2026-11-30 14:25:00

A caller offered a call back leaves their conference and, keeping their place, joins a new one of
the same name: with the call as the participant's key, the second conference could not have them.
The simulator's participants are rebuilt (what simulated conferences were live at the upgrade is
lost: they are the built-in simulator's, never a carrier's).
"""

import sqlalchemy as sa
from alembic import op

import app.database

revision = "6d41cd447efb"
down_revision = "b1da323e9ec9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("simulator_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulator_participants_conference_sid"))
    op.drop_table("simulator_participants")
    op.create_table(
        "simulator_conference_calls",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=160), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status_callback", sa.Text(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", app.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_simulator_conference_calls")),
    )
    op.create_table(
        "simulator_participants",
        sa.Column("conference_sid", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("coaching", sa.Boolean(), nullable=False),
        sa.Column("call_sid_to_coach", sa.String(length=64), nullable=True),
        sa.Column("start_conference_on_enter", sa.Boolean(), nullable=False),
        sa.Column("end_conference_on_exit", sa.Boolean(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("then", sa.Text(), nullable=True),
        sa.Column("heard", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_sid"],
            ["simulator_conference_calls.sid"],
            name=op.f("fk_simulator_participants_call_sid_simulator_conference_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conference_sid"],
            ["simulator_conferences.sid"],
            name=op.f("fk_simulator_participants_conference_sid_simulator_conferences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conference_sid", "call_sid", name=op.f("pk_simulator_participants")),
    )
    with op.batch_alter_table("simulator_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulator_participants_call_sid"), ["call_sid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("simulator_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulator_participants_call_sid"))
    op.drop_table("simulator_participants")
    op.drop_table("simulator_conference_calls")
    op.create_table(
        "simulator_participants",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("conference_sid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("coaching", sa.Boolean(), nullable=False),
        sa.Column("call_sid_to_coach", sa.String(length=64), nullable=True),
        sa.Column("start_conference_on_enter", sa.Boolean(), nullable=False),
        sa.Column("end_conference_on_exit", sa.Boolean(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("then", sa.Text(), nullable=True),
        sa.Column("heard", sa.JSON(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=160), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status_callback", sa.Text(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_sid"],
            ["simulator_conferences.sid"],
            name=op.f("fk_simulator_participants_conference_sid_simulator_conferences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_simulator_participants")),
    )
    with op.batch_alter_table("simulator_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulator_participants_conference_sid"), ["conference_sid"], unique=False
        )
