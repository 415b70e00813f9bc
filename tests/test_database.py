"""The platform's database helpers, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from app.customers.models import Customer
from app.database import rows_matched
from app.extensions import db


def test_rows_matched_counts_the_rows_an_update_changed(app):
    with app.app_context():
        db.session.add_all(
            [Customer(external_id=f"c-{n}", phone=f"+3933312345{n}", locale="it") for n in range(3)]
        )
        db.session.flush()
        renamed = db.session.execute(
            update(Customer).where(Customer.external_id != "c-0").values(name="Giulia")
        )
        nobody = db.session.execute(
            update(Customer).where(Customer.external_id == "nobody").values(name="Anna")
        )

        assert (rows_matched(renamed), rows_matched(nobody)) == (2, 0)
        db.session.rollback()
