"""Customers' former numbers

Revision ID: 3f9a1c7e5b20
Revises: c221ba3d6af1
Create Date: 2026-12-01 03:15:00

customer_phone_changes keeps each number a customer had before a PATCH changed it: from when,
until when, and who changed it (the console shows it; "was this call from us?" reads it).
"""
import sqlalchemy as sa
from alembic import op

import app.database  # noqa: F401 - autogenerate renders app.database.UTCDateTime


# revision identifiers, used by Alembic.
revision = '3f9a1c7e5b20'
down_revision = 'c221ba3d6af1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_phone_changes',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('number', sa.String(length=16), nullable=False),
        sa.Column('valid_from', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('valid_to', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_phone_changes_customer_id_customers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_phone_changes')),
    )
    op.create_index(
        op.f('ix_customer_phone_changes_customer_id'), 'customer_phone_changes', ['customer_id'], unique=False
    )
    op.create_index(
        'ix_customer_phone_changes_number', 'customer_phone_changes', ['number'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_customer_phone_changes_number', table_name='customer_phone_changes')
    op.drop_index(op.f('ix_customer_phone_changes_customer_id'), table_name='customer_phone_changes')
    op.drop_table('customer_phone_changes')
