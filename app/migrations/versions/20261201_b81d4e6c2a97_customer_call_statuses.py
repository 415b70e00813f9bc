"""The call status the core system was last told of

Revision ID: b81d4e6c2a97
Revises: 3f9a1c7e5b20
Create Date: 2026-12-01 03:30:00

customer_call_statuses keeps, per customer, the call status (calling now, on a call, scheduled,
called, not called) last sent to the core system as customer.call_status_changed, so that each
change is sent once.
"""
import sqlalchemy as sa
from alembic import op

import app.database  # noqa: F401 - autogenerate renders app.database.UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b81d4e6c2a97'
down_revision = '3f9a1c7e5b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_call_statuses',
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('changed_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_call_statuses_customer_id_customers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_call_statuses')),
    )


def downgrade() -> None:
    op.drop_table('customer_call_statuses')
