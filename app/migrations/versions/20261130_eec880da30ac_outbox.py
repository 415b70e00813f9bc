"""One outbox for texts, e-mails and core-system webhooks; the core notifications move into it

Revision ID: eec880da30ac
Revises: 7a6d669a0215
Create Date: 2026-11-30 10:00:00.000000

Every core notification moves (pending, delivered and given up alike) keeping its id, which the
core system sees in each webhook and uses to drop a repeat. Callback notices, fraud receipts and
complaint messages need no move: their rows still say what is owed, and the outbox tick queues it.
"""
import json

import sqlalchemy as sa
from alembic import op

import app.database  # noqa: F401 - autogenerate renders app.database.UTCDateTime


# revision identifiers, used by Alembic.
revision = 'eec880da30ac'
down_revision = '7a6d669a0215'
branch_labels = None
depends_on = None


def _payload(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def upgrade() -> None:
    outbox = op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=True),
    sa.Column('audit', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['state', 'next_attempt_at'], unique=False)

    bind = op.get_bind()
    core = sa.table(
        'core_notifications',
        sa.column('id'), sa.column('type'), sa.column('payload', sa.JSON()),
        sa.column('attempts'), sa.column('next_attempt_at', app.database.UTCDateTime()),
        sa.column('delivered_at', app.database.UTCDateTime()),
        sa.column('given_up_at', app.database.UTCDateTime()),
        sa.column('last_error'), sa.column('created_at', app.database.UTCDateTime()),
    )
    rows = [
        {
            'id': row.id,
            'kind': 'webhook',
            'recipient': 'core',
            'subject': row.type,
            'body': _payload(row.payload),
            'state': 'sent' if row.delivered_at else 'failed' if row.given_up_at else 'pending',
            'attempts': row.attempts,
            'next_attempt_at': row.next_attempt_at,
            'sent_at': row.delivered_at,
            'last_error': row.last_error,
            'created_at': row.created_at,
        }
        for row in bind.execute(sa.select(core).order_by(core.c.id))
    ]
    if rows:
        op.bulk_insert(outbox, rows)
        if bind.dialect.name == 'postgresql':  # the next message continues after the moved ids
            bind.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('outbox_messages', 'id'), "
                "(SELECT max(id) FROM outbox_messages))"
            ))

    with op.batch_alter_table('core_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_core_notifications_due')
    op.drop_table('core_notifications')


def downgrade() -> None:
    core = op.create_table('core_notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('given_up_at', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_notifications'))
    )
    with op.batch_alter_table('core_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_core_notifications_due', ['delivered_at', 'next_attempt_at'], unique=False)

    bind = op.get_bind()
    outbox = sa.table(
        'outbox_messages',
        sa.column('id'), sa.column('kind'), sa.column('subject'), sa.column('body'),
        sa.column('state'), sa.column('attempts'),
        sa.column('next_attempt_at', app.database.UTCDateTime()),
        sa.column('sent_at', app.database.UTCDateTime()), sa.column('last_error'),
        sa.column('created_at', app.database.UTCDateTime()),
    )
    rows = [
        {
            'id': row.id,
            'type': row.subject or '',
            'payload': json.loads(row.body),
            'attempts': row.attempts,
            'next_attempt_at': row.next_attempt_at,
            'delivered_at': row.sent_at,
            'given_up_at': row.created_at if row.state == 'failed' else None,
            'last_error': row.last_error,
            'created_at': row.created_at,
        }
        for row in bind.execute(
            sa.select(outbox).where(outbox.c.kind == 'webhook').order_by(outbox.c.id)
        )
    ]
    if rows:
        op.bulk_insert(core, rows)
        if bind.dialect.name == 'postgresql':
            bind.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('core_notifications', 'id'), "
                "(SELECT max(id) FROM core_notifications))"
            ))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_due')
    op.drop_table('outbox_messages')
