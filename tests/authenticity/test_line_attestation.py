"""The "is this call from us?" line and the caller ID's STIR/SHAKEN attestation.

Only a caller ID the network fully vouched for (A) may hear, before any code, that we tried to
reach that number; any other caller types a code from the app first, and a wrong code tells them
nothing about an account, whether or not the number is a customer's.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.audit.service import Actor
from app.calls.models import Call
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript
from app.extensions import db
from tests.authenticity.test_line import (
    ASKED_FOR_THE_CODE,
    CUSTOMER_PHONE,
    HOTLINE,
    LOCKED,
    app_code,
    callback_about,
    failures,
    untouched,
)
from tests.engine_fixtures import MORNING, callback_of

pytestmark = pytest.mark.usefixtures("lines", "clock", "codes")

#: What the unvouched caller hears instead of "we have been trying to reach you".
NOT_SURE = "Non possiamo essere certi che il numero da cui chiama sia il Suo."
ABOUT_THE_ACCOUNT = "Stiamo cercando di contattarLa in merito al Suo conto"
CANNOT_GO_ON = "Non possiamo proseguire qui, né dire nulla su un conto."
NOT_VOUCHED = [
    "TN-Validation-Passed-B",
    "TN-Validation-Passed-C",
    "TN-Validation-Failed-A",
    "No-TN-Validation",
    None,  # Twilio posted none
]
UNKNOWN_ITALIAN = "+393339876543"  # nobody we know, nothing waiting


@pytest.fixture
def codes(app, simulator):
    """The product's code checker (the customer's app codes and authenticator), not a stand-in."""
    app.extensions.pop("code_checker")


def ring(app, simulator, caller: str, keys: list[str], stir_verstat: str | None):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=HOTLINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys),
            stir_verstat=stir_verstat,
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        db.session.expunge(call)
    return call, [line.text for line in simulated.lines if line.who == "call"]


def test_a_caller_id_vouched_for_by_the_network_hears_that_we_tried_to_reach_them(
    app, api, simulator, customer
):
    callback_id = callback_about(api, "withdrawal_request")

    call, heard = ring(app, simulator, CUSTOMER_PHONE, ["#", "2"], "TN-Validation-Passed-A")

    assert any(ABOUT_THE_ACCOUNT in text for text in heard)
    assert not any(NOT_SURE in text for text in heard)
    assert call.caller_id_attestation == "TN-Validation-Passed-A"
    untouched(app, api, callback_id, "withdrawal_request")


@pytest.mark.parametrize("stir_verstat", NOT_VOUCHED)
def test_a_caller_id_not_vouched_for_hears_nothing_of_the_account_before_a_code(
    app, api, simulator, customer, stir_verstat
):
    callback_id = callback_about(api, "withdrawal_request")
    wrong = ["111111", "222222", "333333"]

    call, heard = ring(app, simulator, CUSTOMER_PHONE, ["#", "1", *wrong], stir_verstat)
    _, stranger = ring(app, simulator, UNKNOWN_ITALIAN, ["#", "1", *wrong], stir_verstat)

    assert any(NOT_SURE in text for text in heard) and any(ASKED_FOR_THE_CODE in t for t in heard)
    assert not any(ABOUT_THE_ACCOUNT in text or "prelievo" in text for text in heard), heard
    assert heard[-1].startswith(CANNOT_GO_ON)
    # The customer's number and a stranger's hear the very same words: nothing is given away.
    assert [t.replace(UNKNOWN_ITALIAN[3:], "") for t in stranger] == [
        t.replace(CUSTOMER_PHONE[3:], "") for t in heard
    ]
    assert call.caller_id_attestation == stir_verstat
    assert call.outcome == "verification_failed"
    untouched(app, api, callback_id, "withdrawal_request")
    assert failures(api, customer) == 3  # the wrong codes count toward the customer's lock


@pytest.mark.parametrize("stir_verstat", ["TN-Validation-Passed-B", None])
def test_a_right_code_then_says_we_tried_to_reach_them_and_takes_the_callback(
    app, api, simulator, customer, stir_verstat
):
    callback_id = callback_about(api, "withdrawal_request")
    code = app_code(api, customer, purpose="inbound_call")

    _, heard = ring(app, simulator, CUSTOMER_PHONE, ["#", "1", code, "1", "1"], stir_verstat)

    asked = next(i for i, text in enumerate(heard) if ASKED_FOR_THE_CODE in text)
    reached = next(i for i, text in enumerate(heard) if ABOUT_THE_ACCOUNT in text)
    told = next(i for i, text in enumerate(heard) if "richiesta di prelievo di 2.500,00 €" in text)
    assert asked < reached < told
    assert sum(ASKED_FOR_THE_CODE in text for text in heard) == 1  # one code is enough
    finished = callback_of(app, callback_id)
    assert (finished.status.value, finished.outcome.value) == ("done", "confirmed")


def test_a_right_code_of_a_customer_with_nothing_waiting_hears_we_did_not_call(
    app, api, simulator, customer
):
    code = app_code(api, customer, purpose="inbound_call")

    _, heard = ring(app, simulator, CUSTOMER_PHONE, ["#", "1", code, "2"], "No-TN-Validation")

    assert any("Nelle ultime 24 ore non abbiamo chiamato" in text for text in heard), heard


def test_an_unvouched_caller_can_still_report_a_call(app, api, simulator):
    call, heard = ring(app, simulator, UNKNOWN_ITALIAN, ["#", "3", "2"], "TN-Validation-Passed-C")

    assert call.outcome == "reported"
    assert heard[-2].startswith("Grazie. La Sua segnalazione è registrata")


def test_a_locked_customers_number_not_vouched_for_hears_what_a_strangers_does(
    app, api, simulator, customer
):
    from app.verification.checker import keyring_for, policy_for
    from app.verification.service import check_code

    callback_id = callback_about(api, "withdrawal_request")
    with app.app_context():  # ten wrong codes elsewhere: locked
        for _ in range(10):
            check_code(
                db.session,
                uuid.UUID(customer["id"]),
                "000000",
                keyring=keyring_for(app),
                now=MORNING,
                actor=Actor("test"),
                policy=policy_for(app),
            )
        db.session.commit()
    keys = ["#", "1", "111111", "222222", "333333"]

    _, heard = ring(app, simulator, CUSTOMER_PHONE, keys, "TN-Validation-Passed-C")
    _, stranger = ring(app, simulator, UNKNOWN_ITALIAN, keys, "TN-Validation-Passed-C")

    assert not any(LOCKED in text for text in heard)
    assert [t.replace(UNKNOWN_ITALIAN[3:], "") for t in stranger] == [
        t.replace(CUSTOMER_PHONE[3:], "") for t in heard
    ]
    assert failures(api, customer) == 10  # no code is checked against the locked customer
    untouched(app, api, callback_id, "withdrawal_request")
