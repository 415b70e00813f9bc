"""Feedback and satisfaction

Revision ID: f587c91f10c0
Revises: c4e2a7f90d13
Create Date: 2026-12-01 03:15:00

feedback keeps what customers told us (a rating of 1 to 5, perhaps words, the channel; a feedback
event's id, so a retried event adds nothing). satisfaction keeps the 1-5 answers to "how satisfied
are you?" asked at the end of verification calls (one per call) and after closed complaints.
satisfaction_links: the one-time, expiring links (token hashes) a closed complaint's text carries.
complaints.call_me: the complainant asked to be called back about it. The events' type is a non-native enum (a string of 32): the new type "feedback" needs no change.
"""
import sqlalchemy as sa
from alembic import op

import app.database  # noqa: F401 - autogenerate renders app.database.UTCDateTime


# revision identifiers, used by Alembic.
revision = 'f587c91f10c0'
down_revision = 'c4e2a7f90d13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('call_me', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'feedback',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('call_me', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=True),
        sa.Column('callback_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_feedback_callback_id_callbacks')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_feedback_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('event_id', name=op.f('uq_feedback_event_id')),
    )
    op.create_index(op.f('ix_feedback_customer_id'), 'feedback', ['customer_id'], unique=False)
    op.create_table(
        'satisfaction',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('call_id', sa.Uuid(), nullable=True),
        sa.Column('flow', sa.String(length=64), nullable=True),
        sa.Column('complaint_reference', sa.String(length=32), nullable=True),
        sa.Column('customer_id', sa.Uuid(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=True),
        sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_satisfaction_call_id_calls')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_satisfaction_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction')),
        sa.UniqueConstraint('call_id', name=op.f('uq_satisfaction_call_id')),
    )
    op.create_table(
        'satisfaction_links',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('complaint_id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', app.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_satisfaction_links_complaint_id_complaints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_satisfaction_links_token_hash')),
    )
    op.create_index(op.f('ix_satisfaction_links_complaint_id'), 'satisfaction_links', ['complaint_id'], unique=False)
    op.create_index('ix_satisfaction_created_at', 'satisfaction', ['created_at'], unique=False)
    op.create_index(op.f('ix_satisfaction_customer_id'), 'satisfaction', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_satisfaction_links_complaint_id'), table_name='satisfaction_links')
    op.drop_table('satisfaction_links')
    op.drop_index(op.f('ix_satisfaction_customer_id'), table_name='satisfaction')
    op.drop_index('ix_satisfaction_created_at', table_name='satisfaction')
    op.drop_table('satisfaction')
    op.drop_index(op.f('ix_feedback_customer_id'), table_name='feedback')
    op.drop_table('feedback')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('call_me')
