"""Calls keep the caller ID's STIR/SHAKEN attestation

Revision ID: 3f9b2c71d0a8
Revises: 5a7c3e9d1f24
Create Date: 2026-12-01 03:20:00

calls.caller_id_attestation holds Twilio's StirVerstat of an inbound call (e.g.
TN-Validation-Passed-A); NULL when none was posted.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f9b2c71d0a8'
down_revision = '5a7c3e9d1f24'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caller_id_attestation', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('caller_id_attestation')
