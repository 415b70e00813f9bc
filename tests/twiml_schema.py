"""Every TwiML document the product emits is checked against Twilio's TwiML schema
(third_party/twilio-twiml-xsd, MIT): make_app hooks it into every test app."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Response
from lxml import etree

SCHEMA = (
    Path(__file__).resolve().parents[1]
    / "third_party"
    / "twilio-twiml-xsd"
    / "twiml_v20100401_twilioRealtimeCallSchema.xsd"
)


@cache
def twiml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def assert_valid_twiml(document: bytes) -> None:
    """Raise AssertionError naming the first schema error."""
    schema = twiml_schema()
    root = etree.fromstring(document)
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise AssertionError(f"TwiML does not match Twilio's schema: {error}\n{document.decode()}")


def check_twiml_response(response: Response) -> Response:
    """An after_request hook: a TwiML response that breaks the schema fails the test."""
    if response.mimetype == "text/xml" and not response.direct_passthrough:
        assert_valid_twiml(response.get_data())
    return response
