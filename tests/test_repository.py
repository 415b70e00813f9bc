"""A user's clone stands on its own: nothing reads the folder beside the checkout, and what the
tests check against (Twilio's OpenAPI description and TwiML schema) ships in third_party/ with
its license."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.twiml_schema import assert_valid_twiml

ROOT = Path(__file__).resolve().parents[1]
# The folder's name is assembled, so that this file does not match its own search.
_BESIDE = "sha" + "red"
OUTSIDE = re.compile(rf"\.\./{_BESIDE}|parents\[\d\]\s*/\s*[\"']{_BESIDE}[\"']|/{_BESIDE}/twilio")


def test_nothing_in_the_project_reads_the_folder_beside_the_checkout():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("app", "tests", "scripts", "benchmarks", ".ci")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".sh", ".toml", ".yaml", ".ini", ""}
        and path != Path(__file__)
        and OUTSIDE.search(path.read_text(errors="replace"))
    ]
    assert offenders == []


@pytest.mark.parametrize("folder", ["twilio-openapi", "twilio-twiml-xsd"])
def test_third_party_material_ships_with_its_license(folder):
    here = ROOT / "third_party" / folder
    assert "Permission is hereby granted, free of charge" in (here / "LICENSE").read_text()
    assert (here / "README.md").exists()


def test_the_twiml_schema_refuses_what_twilio_would_refuse():
    assert_valid_twiml(b'<Response><Say language="it-IT">Buongiorno</Say><Hangup/></Response>')
    with pytest.raises(AssertionError, match="schema"):
        assert_valid_twiml(b"<Response><Gather numDigits='six'/></Response>")
    with pytest.raises(AssertionError, match="schema"):
        assert_valid_twiml(b"<Response><Dial><Phone>+1</Phone></Dial></Response>")
