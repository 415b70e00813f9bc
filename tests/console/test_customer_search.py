"""Finding a customer in the console: by their number typed any usual way, by their reference or
by a part of their name; the results link to the customer's page and say when they last called."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.calls.models import Call, CallDirection, CallStatus
from app.customers.models import Customer
from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in
from tests.console.test_records import NOW

pytestmark = pytest.mark.usefixtures("accounts", "clock")
MOBILE = "+393471234567"


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def add_customer(app, external_id: str, phone: str, name: str | None) -> uuid.UUID:
    with app.app_context():
        customer = Customer(external_id=external_id, phone=phone, locale="it", name=name)
        db.session.add(customer)
        db.session.commit()
        return customer.id


@pytest.fixture
def giulia(app) -> uuid.UUID:
    """Giulia Rossi, who called this morning; and Marco, who has another number."""
    customer_id = add_customer(app, "CUST-0042", MOBILE, "Giulia Rossi")
    add_customer(app, "CUST-0099", "+393339876543", "Marco Bianchi")
    with app.app_context():
        db.session.add(
            Call(
                direction=CallDirection.INBOUND,
                from_number=MOBILE,
                to_number="+14155550100",
                customer_id=customer_id,
                flow="verify_caller_line",
                flow_version=1,
                locale="it",
                status=CallStatus.COMPLETED,
                created_at=NOW - timedelta(hours=1),
            )
        )
        db.session.commit()
    return customer_id


def speaks(app, role: str, language: str) -> None:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == f"{role}@bank.example"))
        user.language = language
        db.session.commit()


@pytest.mark.parametrize(
    "typed", ["+39 347 123 4567", "0039 347 123 4567", "+39 (347) 123-45-67", "CUST-0042"]
)
def test_a_supervisor_finds_the_customer_by_number_or_reference(app, giulia, typed):
    answer = sign_in(app, "supervisor").get("/console/customers", query_string={"q": typed})

    page = text(answer)
    assert answer.status_code == 200
    assert f'href="/console/customers/{giulia}"' in page
    assert "Giulia Rossi" in page and "+39 347 123 4567" in page
    assert "Marco Bianchi" not in page
    # The last call, in the reader's zone, named (the clock's morning is 10:00 UTC).
    assert "Last call" in page and "No calls yet" not in page
    assert f'value="{typed}"' in page  # the search stays in the box


def test_a_number_typed_the_national_way_is_read_in_the_readers_country(app, giulia):
    speaks(app, "supervisor", "it")

    page = text(sign_in(app, "supervisor").get("/console/customers?q=347+123+4567"))

    assert f'href="/console/customers/{giulia}"' in page
    assert "Giulia Rossi" in page


def test_a_part_of_the_name_finds_them_whatever_the_case(app, giulia):
    page = text(sign_in(app, "supervisor").get("/console/customers?q=rossi"))

    assert "Giulia Rossi" in page and "Marco Bianchi" not in page


@pytest.mark.parametrize("role", ["agent", "auditor"])
def test_agents_and_auditors_may_find_customers_too(app, giulia, role):
    answer = sign_in(app, role).get("/console/customers?q=CUST-0042")

    assert answer.status_code == 200 and "Giulia Rossi" in text(answer)


def test_the_console_links_to_the_search_and_the_search_to_nobody_until_asked(app, giulia):
    client = sign_in(app, "agent")

    assert 'href="/console/customers"' in text(client.get("/console/"))
    page = text(client.get("/console/customers"))
    assert "Phone number or customer reference" in page and "Giulia Rossi" not in page


def test_signed_out_people_are_sent_to_sign_in(app, giulia):
    answer = app.test_client().get("/console/customers?q=CUST-0042")

    assert answer.status_code in (302, 401) and "Giulia" not in text(answer)


def test_no_match_says_so(app, giulia):
    page = text(sign_in(app, "supervisor").get("/console/customers?q=%2B39+333+000+0000"))

    assert "No customer matches “+39 333 000 0000”." in page
    assert "Giulia Rossi" not in page


def test_a_number_that_cannot_be_read_is_explained_at_the_field(app, giulia):
    answer = sign_in(app, "supervisor").get("/console/customers?q=%2B39+12")

    page = text(answer)
    assert answer.status_code == 200
    assert 'id="q-error"' in page and "cannot read “+39 12” as a phone number" in page
    assert 'aria-invalid="true"' in page


def test_many_customers_come_in_pages(app):
    with app.app_context():
        for i in range(30):
            db.session.add(
                Customer(
                    external_id=f"R-{i:03}",
                    phone=MOBILE,
                    locale="it",
                    name=f"Rossi {i:03}",
                    created_at=NOW - timedelta(minutes=i),
                )
            )
        db.session.commit()
    client = sign_in(app, "supervisor")

    first = text(client.get("/console/customers?q=rossi&size=25"))
    assert "Rossi 000" in first and "Rossi 024" in first and "Rossi 025" not in first
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = text(client.get(html.unescape(older)))
    assert "Rossi 025" in second and "Rossi 029" in second and "Rossi 024" not in second
    assert 'rel="prev"' in second
