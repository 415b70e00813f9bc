"""Staff second factor, recovery codes and password-reset links

Revision ID: 5a7c3e9d1f24
Revises: e7c3a95b2d10
Create Date: 2026-11-30 16:10:00

staff_users gains the sealed TOTP secret, when it was enrolled, the last time step accepted and a
pending enrolment. staff_recovery_codes keeps the keyed hashes of one-time recovery codes;
staff_password_resets the hashed tokens of one-time password links (24 hours). The sign-in
history is the audit log's console.* entries, so it needs no table.
"""
import sqlalchemy as sa
from alembic import op

import app.database  # noqa: F401 - autogenerate renders app.database.UTCDateTime


# revision identifiers, used by Alembic.
revision = '5a7c3e9d1f24'
down_revision = 'e7c3a95b2d10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', app.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('totp_pending_secret', sa.String(length=200), nullable=True))
    op.create_table(
        'staff_recovery_codes',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('staff_id', sa.Uuid(), nullable=False),
        sa.Column('key_id', sa.String(length=12), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', app.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_recovery_codes_staff_id_staff_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_recovery_codes')),
    )
    op.create_index(
        op.f('ix_staff_recovery_codes_staff_id'), 'staff_recovery_codes', ['staff_id'], unique=False
    )
    op.create_table(
        'staff_password_resets',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('staff_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=160), nullable=False),
        sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', app.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', app.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_password_resets_staff_id_staff_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_password_resets')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_password_resets_token_hash')),
    )
    op.create_index(
        op.f('ix_staff_password_resets_staff_id'), 'staff_password_resets', ['staff_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_password_resets_staff_id'), table_name='staff_password_resets')
    op.drop_table('staff_password_resets')
    op.drop_index(op.f('ix_staff_recovery_codes_staff_id'), table_name='staff_recovery_codes')
    op.drop_table('staff_recovery_codes')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('totp_pending_secret')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enrolled_at')
        batch_op.drop_column('totp_secret')
