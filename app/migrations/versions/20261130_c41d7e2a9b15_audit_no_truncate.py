"""The audit log refuses TRUNCATE too (PostgreSQL; SQLite has no TRUNCATE).

Revision ID: c41d7e2a9b15
Revises: bf709d07c701
Create Date: 2026-11-30 06:40:00

"""

from alembic import op

revision = "c41d7e2a9b15"
down_revision = "bf709d07c701"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A row trigger never sees TRUNCATE; a statement trigger does. Only a superuser who first sets
    # session_replication_role = replica (the test suite's cleanup) gets past it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
