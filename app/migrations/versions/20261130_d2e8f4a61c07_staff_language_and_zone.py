"""Staff members' console language and time zone

Revision ID: d2e8f4a61c07
Revises: b1da323e9ec9
Create Date: 2026-11-30 16:00:00

Two columns on staff_users: language (en, it, pl, zh; existing staff get en) and time_zone (an
IANA name; none means the console's CONSOLE_TIME_ZONE).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd2e8f4a61c07'
down_revision = 'b1da323e9ec9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('language')
