"""Scam reports filed from the customer's app

Revision ID: c4e2a7f90d13
Revises: b81d4e6c2a97
Create Date: 2026-12-01 03:40:00

scam_reports gains the customer who filed it from their app and the app's call status at that
moment (on a call with us, calling now, scheduled, called, not called), for the fraud team.
The channel "app" needs no change: channels are stored as plain text.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e2a7f90d13'
down_revision = 'b81d4e6c2a97'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('call_status', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_scam_reports_customer_id'), ['customer_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_scam_reports_customer_id_customers'),
            'customers',
            ['customer_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scam_reports_customer_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_scam_reports_customer_id'))
        batch_op.drop_column('call_status')
        batch_op.drop_column('customer_id')
