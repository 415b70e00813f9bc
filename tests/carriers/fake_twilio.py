"""A stand-in for api.twilio.com on loopback, checking every request against Twilio's own OpenAPI
description (third_party/twilio-openapi, MIT, from twilio/twilio-oai)."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from werkzeug.serving import make_server

# Shipped with the project (MIT, see its README); TWILIO_OPENAPI_SPEC points at another copy.
SPEC = Path(
    os.environ.get("TWILIO_OPENAPI_SPEC")
    or Path(__file__).resolve().parents[2]
    / "third_party"
    / "twilio-openapi"
    / "twilio_api_v2010.json"
)


E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# Twilio's own string formats, which a generic validator does not know.
TWILIO_FORMATS: dict[str, Any] = {
    "phone-number": lambda value: bool(E164.match(value)),  # we always send E.164
    "endpoint": lambda value: bool(E164.match(value) or re.match(r"^(sip|client):", value)),
    "http-method": lambda value: value in {"GET", "POST"},
    "currency": lambda value: bool(re.match(r"^[A-Za-z]{3}$", value)),
    "iso-country-code": lambda value: bool(re.match(r"^[A-Z]{2}$", value)),
    "twiml": lambda value: value.lstrip().startswith("<"),
    "date-time-rfc-2822": lambda value: True,
    "uri-map": lambda value: True,
    "ice-server": lambda value: True,
    "phone-number-capabilities": lambda value: True,
}


def load_spec() -> OpenAPI:
    if not SPEC.exists():
        raise FileNotFoundError(
            f"Twilio's OpenAPI description is not at {SPEC}: restore third_party/twilio-openapi "
            "or set TWILIO_OPENAPI_SPEC"
        )
    config = Config(
        extra_format_validators=TWILIO_FORMATS,
        extra_format_unmarshallers={name: (lambda value: value) for name in TWILIO_FORMATS},
    )
    return OpenAPI.from_dict(json.loads(SPEC.read_text()), config=config)


class _AsIfTwilio(WerkzeugOpenAPIRequest):
    """The request as sent to Twilio's own origin, which the spec's servers name."""

    @property
    def host_url(self) -> str:
        return "https://api.twilio.com/"


# Kept by the fake for itself, not in Twilio's call resource.
HIDDEN = {"created", "status_callback"}


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, list[str]]
    auth: tuple[str, str] | None


@dataclass
class FakeTwilio:
    spec: OpenAPI
    received: list[Received] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # (status, code, message)
    delay: float = 0.0
    # Create the call, then answer 500 as if the answer were lost on the way back.
    lose_answers: int = 0
    # Create the call, then wait this long before answering (a worker can be killed meanwhile).
    answer_delay: float = 0.0
    created: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)  # what a fetch of a call answers
    # Conferences by SID: friendly_name, status (init, in-progress, completed), participants.
    conferences: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        app = Flask("fake_twilio")
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Calls.json",
            "calls",
            self._create_call,
            methods=["POST"],
        )
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Calls.json",
            "list_calls",
            self._list_calls,
            methods=["GET"],
        )
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Calls/<sid>.json",
            "fetch_call",
            self._fetch_call,
            methods=["GET"],
        )
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Calls/<sid>/Events.json",
            "call_events",
            self._call_events,
            methods=["GET"],
        )
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Calls/<sid>.json",
            "call",
            self._update_call,
            methods=["POST"],
        )
        app.add_url_rule(
            "/2010-04-01/Accounts/<account>/Messages.json",
            "messages",
            self._create_message,
            methods=["POST"],
        )
        base = "/2010-04-01/Accounts/<account>/Conferences"
        app.add_url_rule(
            f"{base}.json", "list_conferences", self._list_conferences, methods=["GET"]
        )
        app.add_url_rule(
            f"{base}/<conference>/Participants.json",
            "add_participant",
            self._add_participant,
            methods=["POST"],
        )
        app.add_url_rule(
            f"{base}/<conference>/Participants/<sid>.json",
            "update_participant",
            self._update_participant,
            methods=["POST"],
        )
        app.add_url_rule(
            f"{base}/<conference>/Participants/<sid>.json",
            "remove_participant",
            self._remove_participant,
            methods=["DELETE"],
        )
        app.before_request(self._validate)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()

    def _validate(self) -> Response | None:
        # Validate the raw body first: reading request.form before would consume it.
        request.get_data(cache=True)
        result = self.spec.unmarshal_request(_AsIfTwilio(request))
        auth = request.authorization
        self.received.append(
            Received(
                request.method,
                request.path,
                request.form.to_dict(flat=False),
                (auth.username, auth.password) if auth else None,
            )
        )
        if result.errors:
            found = "; ".join(
                f"{type(e).__name__}: {e} {e.__cause__ or ''}".strip() for e in result.errors
            )
            self.violations.append(f"{request.method} {request.path}: {found}")
            return self._error(400, 21000, f"request does not match the OpenAPI spec: {found}")
        if self.delay:
            time.sleep(self.delay)
        if self.failures:
            status, code, message = self.failures.pop(0)
            return self._error(status, code, message)
        return None

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        body = {
            "code": code,
            "message": message,
            "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
        }
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _create_call(self, account: str) -> Response:
        sid = "CA" + secrets.token_hex(16)
        call = {
            "sid": sid,
            "account_sid": account,
            "to": request.form["To"],
            "from": request.form["From"],
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "start_time": None,
            "date_created": formatdate(usegmt=True),
            "created": time.time(),
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
            "status_callback": request.form.get("StatusCallback"),
        }
        self.created.append(call)
        if self.answer_delay:
            time.sleep(self.answer_delay)
        if self.lose_answers:
            self.lose_answers -= 1
            return self._error(500, 20500, "internal error (the call was created)")
        return self._resource(201, {k: v for k, v in call.items() if k not in HIDDEN})

    def _list_calls(self, account: str) -> Response:
        to = request.args.get("To")
        calls = [
            {k: v for k, v in c.items() if k not in HIDDEN}
            for c in self.created
            if to is None or c["to"] == to
        ]
        return self._resource(
            200,
            {
                "calls": calls,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "end": len(calls),
                "first_page_uri": request.full_path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": request.full_path,
            },
        )

    def calls_to(self, number: str) -> list[dict[str, Any]]:
        return [c for c in self.created if c["to"] == number]

    def _call_events(self, account: str, sid: str) -> Response:
        # The requests Twilio made for the call: its "initiated" status callback, to our URL.
        events = [
            {
                "request": {
                    "url": c["status_callback"],
                    "method": "POST",
                    "parameters": {"call_sid": sid, "call_status": "initiated"},
                },
                "response": {"response_code": 204},
            }
            for c in self.created
            if c["sid"] == sid and c["status_callback"]
        ]
        return self._resource(
            200,
            {
                "events": events,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "end": len(events),
                "first_page_uri": request.full_path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": request.full_path,
            },
        )

    def _fetch_call(self, account: str, sid: str) -> Response:
        return self._resource(
            200, {"sid": sid, "account_sid": account, "status": self.statuses.get(sid, "completed")}
        )

    def _update_call(self, account: str, sid: str) -> Response:
        return self._resource(
            200,
            {
                "sid": sid,
                "account_sid": account,
                "status": request.form.get("Status", "in-progress"),
            },
        )

    def _create_message(self, account: str) -> Response:
        sid = "SM" + secrets.token_hex(16)
        return self._resource(
            201,
            {
                "sid": sid,
                "account_sid": account,
                "to": request.form["To"],
                "from": request.form.get("From"),
                "body": request.form["Body"],
                "status": "queued",
            },
        )

    # ----- conferences -----

    def caller_waits(self, name: str) -> tuple[str, str]:
        """A caller reaches <Dial><Conference>name</Conference>: (conference SID, CallSid)."""
        sid, call_sid = "CF" + secrets.token_hex(16), "CA" + secrets.token_hex(16)
        self.conferences[sid] = {
            "friendly_name": name,
            "status": "init",
            "participants": {call_sid: {"label": "caller", "muted": False, "hold": False}},
        }
        return sid, call_sid

    def end_conference(self, name: str) -> None:
        """The caller hangs up: their conference ends with everyone in it."""
        for conference in self.conferences.values():
            if conference["friendly_name"] == name:
                conference["status"] = "completed"
                conference["participants"].clear()

    def conference_named(self, name: str) -> dict[str, Any]:
        return next(c for c in self.conferences.values() if c["friendly_name"] == name)

    def _live_conference(self, key: str, *, create: bool) -> tuple[str, dict[str, Any]] | None:
        """The live conference with this SID, or this FriendlyName (created when asked)."""
        for sid, conference in self.conferences.items():
            if conference["status"] != "completed" and key in (sid, conference["friendly_name"]):
                return sid, conference
        if not create or key.startswith("CF"):
            return None
        sid = "CF" + secrets.token_hex(16)
        self.conferences[sid] = {"friendly_name": key, "status": "init", "participants": {}}
        return sid, self.conferences[sid]

    def _participant(self, account: str, conference: str, call_sid: str) -> dict[str, Any]:
        state = self.conferences[conference]["participants"][call_sid]
        return {
            "account_sid": account,
            "conference_sid": conference,
            "call_sid": call_sid,
            "label": state.get("label"),
            "muted": state.get("muted", False),
            "hold": state.get("hold", False),
            "coaching": state.get("coaching", False),
            "call_sid_to_coach": state.get("call_sid_to_coach"),
            "status": "connected",
            "uri": f"/2010-04-01/Accounts/{account}/Conferences/{conference}/Participants/"
            f"{call_sid}.json",
        }

    def _not_found(self) -> Response:
        return self._error(404, 20404, "The requested resource was not found")

    def _list_conferences(self, account: str) -> Response:
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        found = [
            {
                "sid": sid,
                "account_sid": account,
                "friendly_name": c["friendly_name"],
                "status": c["status"],
            }
            for sid, c in self.conferences.items()
            if (name is None or c["friendly_name"] == name)
            and (status is None or c["status"] == status)
        ]
        return self._page("conferences", found)

    def _add_participant(self, account: str, conference: str) -> Response:
        live = self._live_conference(conference, create=True)
        if live is None:
            return self._not_found()
        sid, state = live
        call_sid = "CA" + secrets.token_hex(16)
        form = request.form
        state["participants"][call_sid] = {
            "label": form.get("Label"),
            "to": form["To"],
            "muted": form.get("Muted") == "true",
            "hold": False,
            "coaching": form.get("Coaching") == "true",
            "call_sid_to_coach": form.get("CallSidToCoach"),
        }
        if form.get("StartConferenceOnEnter", "true") == "true":
            state["status"] = "in-progress"
        return self._resource(201, self._participant(account, sid, call_sid))

    def _update_participant(self, account: str, conference: str, sid: str) -> Response:
        live = self._live_conference(conference, create=False)
        if live is None or sid not in live[1]["participants"]:
            return self._not_found()
        state = live[1]["participants"][sid]
        for key in ("Muted", "Hold", "Coaching"):
            if key in request.form:
                state[key.lower()] = request.form[key] == "true"
        if "CallSidToCoach" in request.form:
            state["call_sid_to_coach"] = request.form["CallSidToCoach"]
        if "HoldUrl" in request.form:
            state["hold_url"] = request.form["HoldUrl"]
        return self._resource(200, self._participant(account, live[0], sid))

    def _remove_participant(self, account: str, conference: str, sid: str) -> Response:
        live = self._live_conference(conference, create=False)
        if live is None or sid not in live[1]["participants"]:
            return self._not_found()
        del live[1]["participants"][sid]
        return Response(status=204)

    def _page(self, key: str, items: list[dict[str, Any]]) -> Response:
        return self._resource(
            200,
            {
                key: items,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "end": len(items),
                "first_page_uri": request.full_path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": request.full_path,
            },
        )

    @staticmethod
    def _resource(status: int, body: dict[str, Any]) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def last(self, path_end: str) -> Received:
        return [r for r in self.received if r.path.endswith(path_end)][-1]
