"""The call page says how far the network vouched for an inbound caller ID (STIR/SHAKEN)."""

from __future__ import annotations

import html

import pytest

from tests.authenticity.test_line_attestation import UNKNOWN_ITALIAN, ring
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("lines", "clock", "accounts")


@pytest.mark.parametrize(
    ("stir_verstat", "words"),
    [
        ("TN-Validation-Passed-A", "Caller ID verified by the network (A)"),
        ("TN-Validation-Passed-B", "Caller ID partly verified (B)"),
        ("TN-Validation-Failed-B", "Caller ID failed the network's check: not verified"),
        (None, "Caller ID not verified"),
    ],
)
def test_the_console_shows_the_caller_ids_attestation_in_words(app, simulator, stir_verstat, words):
    call, _ = ring(app, simulator, UNKNOWN_ITALIAN, ["#", "2"], stir_verstat)

    page = html.unescape(
        sign_in(app, "auditor").get(f"/console/calls/{call.id}").get_data(as_text=True)
    )

    assert f'<dd data-testid="attestation">{words}' in page
    transcript = page[page.index('data-testid="transcript"') :]
    assert words in transcript and "[caller_id" not in transcript


def test_the_transcript_says_why_the_caller_was_asked_for_a_code_first(app, simulator):
    call, _ = ring(app, simulator, UNKNOWN_ITALIAN, ["#", "2"], "TN-Validation-Passed-B")

    page = html.unescape(
        sign_in(app, "auditor").get(f"/console/calls/{call.id}").get_data(as_text=True)
    )

    assert (
        "Looked for our recent calls to the caller: the caller ID was not verified by the "
        "network, so a code comes first" in page
    )
