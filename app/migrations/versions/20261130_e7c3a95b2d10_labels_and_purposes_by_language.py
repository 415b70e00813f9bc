"""Official numbers' labels and campaigns' purposes in each language

Revision ID: e7c3a95b2d10
Revises: b84bf4d59dc0
Create Date: 2026-11-30 17:00:00

official_numbers.labels and campaigns.purposes: a JSON mapping of language (en, it, pl, zh) to
text, so the check page, the phone line and a campaign's call speak the caller's language.
Existing rows get an empty mapping (their one label or purpose serves every language).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e7c3a95b2d10'
down_revision = 'b84bf4d59dc0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('official_numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('labels', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purposes', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('purposes')
    with op.batch_alter_table('official_numbers', schema=None) as batch_op:
        batch_op.drop_column('labels')
