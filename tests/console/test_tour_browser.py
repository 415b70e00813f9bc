"""The tour: every console screen and every public page, in a real browser, in English and in
Italian. Each page answers without an error, passes axe (nothing critical or serious), is
photographed (tour-<lang>-<endpoint>.png, in SCREENSHOTS_DIR to look at them), shows people's
words instead of the values the system keeps, and its Italian heading is not the English one.

The walk is driven by the app's own URL map: a new screen that the tour does not visit, and that
is not listed in NOT_PAGES with the reason it is no page, fails the build."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.agents.models import QueueEntry
from app.audit.service import Actor
from app.authenticity.models import ReportChannel
from app.authenticity.service import file_report
from app.callbacks.models import DoNotCall
from app.calls.models import Call
from app.campaigns import service as campaigns
from app.complaints.models import ComplaintChannel, SatisfactionLink
from app.complaints.service import file_complaint
from app.console.staff import ACTIONS
from app.customers.models import Customer
from app.customers.service import find_by_external_id
from app.extensions import db
from app.flows.registry import flows
from app.fraud.service import open_case
from app.freezes.models import FreezeChannel
from app.freezes.service import request_freeze
from app.staff import service as staff_service
from app.staff.models import Role, StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import PASSWORD, pass_second_step
from tests.console.test_customer_page import lock
from tests.console.test_desk import ringing
from tests.console.test_records import NOW, PHONE, add_callbacks, queued

pytestmark = [
    pytest.mark.usefixtures("sqlite_only", "accounts", "lines", "customer", "clock"),
    pytest.mark.browser,
]
LANGUAGES = ("en", "it")
NEW_SUPERVISOR = "marta.neri@bank.example"

#: Console endpoints a person never reads as a page, and why.
NOT_PAGES = {
    "console.audit_csv": "a CSV download of the audit log",
    "console.campaign_template": "a CSV download: the audience's template",
    "console.campaign_progress": "a fragment the campaign's page fetches (seen on that page)",
    "console.desk_state": "JSON the desk polls",
    "console.desk_token": "JSON: the browser phone's token",
    "console.live": "a fragment the dashboard fetches (seen on the dashboard)",
    "console.wall_live": "a fragment the wall fetches (seen on the wall)",
}
#: Public (non-API, non-webhook) GET routes that are no page, and why.
NOT_PUBLIC_PAGES = {
    "health.healthz": "a health check for the load balancer (JSON)",
    "softphone.calls": "JSON the simulator's phone polls",
}

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
#: A time as the database keeps it ("2026-11-23T10:00:00.123+00:00"); "10:00 GMT+00:00" is words.
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d\.\d+|\d\d:\d\d(?::\d\d)?\+00:00")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
#: Pages headed by a name, the same in every language: their section headings (h2) are compared.
NAMED = {
    "console.customer": "the customer's name",
    "console.campaign": "the campaign's name",
    "console.staff_account": "the member of staff's name",
}
#: Pages that may show record ids, and why.
IDS_SHOWN = {
    "console.audit": "an entry's record id links to every entry about that record, and the "
    "filter takes it; ids in its changes are what was kept (TODO: name them as subjects are)",
}
#: snake_case words a person may read, and why.
SNAKE_ALLOWED = {
    "external_id": "the CSV's column the supervisor writes an audience in (its template's)",
}


@pytest.fixture
def sqlite_only(app):
    """Skipped on PostgreSQL before anything starts (a browser, accounts): the pages read the same
    data through the same queries on both databases, and the tour is long."""
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("the pages read the same data through the same queries on both databases")


@dataclass
class World:
    """What the tour's pages show: ids and references of one small call center's day."""

    customer: uuid.UUID
    locked_customer: uuid.UUID
    matter: uuid.UUID
    queued: uuid.UUID
    call: uuid.UUID
    complaint: str
    report: str
    draft: uuid.UUID
    running: uuid.UUID
    member: uuid.UUID
    new_supervisor: uuid.UUID
    former: uuid.UUID  # a deactivated account
    enrolled: uuid.UUID  # an account with a second factor
    reset_token: str


def _seed(app, api, simulator, dispatcher) -> World:
    """A customer called about a flagged payment, waiting for the agent's desk (ringing); their
    older callbacks, one waiting and one denied (a fraud case); a complaint; scam reports; a
    draft and a running campaign; a do-not-call entry; a supervisor who has not set up a second
    factor yet, and a password-reset link for the auditor."""
    entry_id = ringing(app, api, simulator, dispatcher)
    for external_id, phone in (("c1", "+39 333 100 0001"), ("c2", "+48 601 100 002")):
        api.post("/api/v1/customers", json={"external_id": external_id, "phone": phone})
    with app.app_context():
        session = db.session()
        customer = find_by_external_id(session, "cust-it")
        locked = find_by_external_id(session, "c1")
        entry = session.get_one(QueueEntry, uuid.UUID(entry_id))
        call = session.get_one(Call, entry.call_id)
        customer_id, locked_id, call_id = customer.id, locked.id, call.id
        matter = call.callback_id
    lock(app, locked_id)
    finished = add_callbacks(app, customer_id, 2)
    waiting = queued(app, customer_id)
    with app.app_context():
        session = db.session()
        actor = Actor("test")
        # The locked customer also froze their account: the page says so, offers "Unfreeze…".
        request_freeze(
            session,
            customer=session.get_one(Customer, locked_id),
            channel=FreezeChannel.WEB,
            actor=actor,
            now=NOW,
        )
        open_case(
            session,
            callback_id=finished[-1],
            customer_id=customer_id,
            trigger="transaction",
            to_number=PHONE,
            call_id=None,
            now=NOW,
            actor=actor,
        )
        report = file_report(
            session,
            number="+39 02 1234 5678",
            channel=ReportChannel.WEB,
            now=NOW,
            actor=Actor("public"),
            description="Said he was from the bank and asked for the code sent by text.",
            asked_for=["sms_code", "move_money"],
            reporter_phone="+39 333 765 4321",
            called_at=NOW - timedelta(hours=3),
            locale="it",
        )
        complaint = file_complaint(
            session,
            policy=app.extensions["complaints_policy"],
            phone=PHONE,
            text="A caller said he was the bank and asked for my card number.",
            channel=ComplaintChannel.WEB,
            now=NOW,
            actor=Actor("public"),
            company="Demo Bank",
            category="verification_calls",
            email="giulia@example.com",
            locale="it",
        )
        session.add(DoNotCall(phone="+393331000009", reason="asked by phone", scope="all"))
        made = {}
        for name in ("Card renewal", "New branch hours"):
            made[name] = campaigns.create_campaign(
                session,
                policy=app.extensions["callback_policy"],
                flows=flows(),
                actor=Actor("staff:supervisor@bank.example"),
                now=NOW,
                name=name,
                purpose="your new card is on its way",
                purposes={
                    "it": "la sua nuova carta è in arrivo",
                    "pl": "Pani/Pana nowa karta jest w drodze",
                },
                flow="campaign_notice",
                starts_at=NOW,
                ends_at=NOW + timedelta(days=7),
                csv_text="external_id\nc1\nc2\n",
            )
        campaigns.start(
            session,
            made["Card renewal"],
            policy=app.extensions["callback_policy"],
            actor=Actor("staff:supervisor@bank.example"),
            now=NOW,
        )
        new_supervisor = staff_service.create_staff(
            session,
            email=NEW_SUPERVISOR,
            name="Marta Neri",
            role=Role.SUPERVISOR,
            password=PASSWORD,
            actor=Actor("test"),
        )
        former = staff_service.create_staff(
            session,
            email="former@bank.example",
            name="Paolo Bianchi",
            role=Role.AGENT,
            password=PASSWORD,
            actor=Actor("test"),
        )
        former.active = False
        auditor = session.scalars(
            select(StaffUser).where(StaffUser.email == "auditor@bank.example")
        ).one()
        token = staff_service.issue_password_reset(session, auditor, actor=actor, now=NOW)
        session.commit()
        return World(
            customer=customer_id,
            locked_customer=locked_id,
            matter=matter,
            queued=waiting,
            call=call_id,
            complaint=complaint.reference,
            report=report.reference,
            draft=made["New branch hours"].id,
            running=made["Card renewal"].id,
            member=staff_id(app, "agent@bank.example"),
            new_supervisor=new_supervisor.id,
            former=former.id,
            enrolled=staff_id(app, "supervisor@bank.example"),
            reset_token=token,
        )


def staff_id(app, email: str) -> uuid.UUID:
    with app.app_context():
        return db.session.scalars(select(StaffUser.id).where(StaffUser.email == email)).one()


def speaks(app, language: str) -> None:
    """Every account reads the console in this language (Your settings)."""
    with app.app_context():
        for staff in db.session.scalars(select(StaffUser)):
            staff.language = language
        db.session.commit()


def _account_for(w: World, action: str) -> uuid.UUID:
    """An account the action applies to: reactivate a deactivated one, reset an enrolled one."""
    return {"reactivate": w.former, "reset-second-factor": w.enrolled}.get(action, w.member)


#: Where each console page is, from the world: {what tells its paths apart: path}, one page (and
#: one screenshot) per path. The sign-in pages and the desk are walked apart, in their own browser.
PATHS: dict[str, Callable[[World], dict[str, str]]] = {
    "console.dashboard": lambda w: {"": "/console/"},
    "console.callbacks": lambda w: {"": "/console/callbacks"},
    "console.callback": lambda w: {"": f"/console/callbacks/{w.matter}"},
    "console.callback_assign_ask": lambda w: {"": f"/console/callbacks/{w.queued}/assign"},
    "console.callback_cancel_ask": lambda w: {"": f"/console/callbacks/{w.queued}/cancel"},
    "console.callback_reschedule_ask": lambda w: {"": f"/console/callbacks/{w.queued}/reschedule"},
    "console.call_now_ask": lambda w: {"": f"/console/callbacks/{w.queued}/call-now"},
    "console.call": lambda w: {"": f"/console/calls/{w.call}"},
    "console.customer": lambda w: {
        "": f"/console/customers/{w.customer}",
        "locked": f"/console/customers/{w.locked_customer}",
    },
    "console.customer_unlock_ask": lambda w: {"": f"/console/customers/{w.locked_customer}/unlock"},
    "console.customer_unfreeze_ask": lambda w: {
        "": f"/console/customers/{w.locked_customer}/unfreeze"
    },
    "console.complaints": lambda w: {"": "/console/complaints"},
    "console.complaint": lambda w: {"": f"/console/complaints/{w.complaint}"},
    "console.complaint_call_back_ask": lambda w: {
        "": f"/console/complaints/{w.complaint}/call-back"
    },
    "console.fraud": lambda w: {"": "/console/fraud"},
    "console.fraud_report": lambda w: {"": f"/console/fraud/{w.report}"},
    "console.fraud_cases": lambda w: {"": "/console/fraud/cases"},
    "console.campaigns": lambda w: {"": "/console/campaigns"},
    "console.campaign": lambda w: {
        "draft": f"/console/campaigns/{w.draft}",
        "running": f"/console/campaigns/{w.running}",
    },
    "console.numbers": lambda w: {
        "": "/console/numbers",
        "edit": "/console/numbers?edit=%2B14155550100",
    },
    "console.do_not_call": lambda w: {"": "/console/do-not-call"},
    "console.audit": lambda w: {"": "/console/audit"},
    "console.staff": lambda w: {"": "/console/staff"},
    "console.staff_account": lambda w: {
        "": f"/console/staff/{w.member}",
        "no-second-factor": f"/console/staff/{w.new_supervisor}",
    },
    # Each action on an account it applies to (the others say there is nothing to do).
    "console.staff_confirm": lambda w: {
        a: f"/console/staff/{_account_for(w, a)}/{a}" for a in ACTIONS
    },
    "console.customers": lambda w: {
        "": "/console/customers",
        "found": "/console/customers?q=%2B39+333+100+0001",
    },
    "console.settings": lambda w: {"": "/console/me"},
    "console.my_password": lambda w: {"": "/console/me/password"},
    "console.my_second_factor": lambda w: {"": "/console/me/second-factor"},
    "console.wall": lambda w: {"": "/console/wall"},
}
#: Walked by the tour apart from PATHS, each in its own way.
WALKED_APART = {
    "console.login": "the supervisor's sign-in",
    "console.login_code": "the supervisor's second step",
    "console.login_enrol": "a new supervisor's first sign-in",
    "console.reset_password": "the auditor's reset link",
    "console.desk": "the agent's desk, in a browser of its own",
}
#: Public pages in English only, and why.
ENGLISH_ONLY = {
    "softphone.page": "the simulator's phone, a developer's tool of the development setup",
}
#: The one-time link a closed complaint's text carries (made for the public tour).
SATISFACTION_TOKEN = "tour-satisfaction-token"
PUBLIC_PATHS = {
    "health.home": "/",
    "check.page": "/check",
    "complaints_page.page": "/complaints",
    "freeze_page.page": "/freeze",
    "satisfaction_page.ask": f"/satisfaction/{SATISFACTION_TOKEN}",
    "softphone.page": "/simulator/phone",
}


def _get_rules(app) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]


def console_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in _get_rules(app) if rule.endpoint.startswith("console.")}


def public_endpoints(app) -> set[str]:
    return {
        rule.endpoint
        for rule in _get_rules(app)
        if not rule.endpoint.startswith("console.")
        and not rule.rule.startswith(("/api", "/twilio", "/static"))
    }


def test_the_tour_knows_every_page_of_the_url_map(app):
    """A screen added without a tour visit (or a reason it is no page) fails here first."""
    walked = set(PATHS) | set(WALKED_APART)
    assert console_endpoints(app) - walked - set(NOT_PAGES) == set()
    assert walked & set(NOT_PAGES) == set()
    assert (walked | set(NOT_PAGES)) - console_endpoints(app) == set()  # no stale entry
    assert public_endpoints(app) - set(PUBLIC_PATHS) - set(NOT_PUBLIC_PAGES) == set()
    assert (set(PUBLIC_PATHS) | set(NOT_PUBLIC_PAGES)) - public_endpoints(app) == set()


class Tour:
    """Looks at pages as a reviewer does, and remembers what it saw."""

    def __init__(self, app, served: str, folder) -> None:
        self.adapter = app.url_map.bind("localhost")
        self.served, self.folder = served, folder
        self.visited: set[str] = set()
        self.headings: dict[tuple[str, str], str] = {}
        #: What each page got wrong: the tour goes on, to report every page at once.
        self.problems: list[str] = []

    def visit(
        self, page, path: str, endpoint: str, lang: str, *, status: int = 200, apart: str = ""
    ) -> str:
        response = page.goto(f"{self.served}{path}")
        assert response is not None and response.status == status, (path, response)
        page.wait_for_load_state("load")
        return self.look(page, endpoint, lang, apart=apart)

    def look(self, page, endpoint: str, lang: str, *, apart: str = "") -> str:
        """The page now on screen: it is the endpoint's, passes axe, is photographed, shows no
        kept value, and in Italian its heading is not the English one."""
        name = f"{endpoint}-{apart}" if apart else endpoint
        where = urlsplit(page.url).path
        if endpoint != "404":
            assert self.adapter.match(where, method="GET")[0] == endpoint, (page.url, endpoint)
        self.visited.add(endpoint)
        page.screenshot(path=str(self.folder / f"tour-{lang}-{name}.png"), full_page=True)
        try:
            check_accessibility(page, f"{name} ({lang})")
        except AssertionError as exc:
            self.problems.append(str(exc).split("\nassert")[0])
        main = page.locator("main")
        text = main.inner_text() if main.count() == 1 else page.locator("body").inner_text()
        kept = [
            *([] if endpoint in IDS_SHOWN else UUID.findall(text)),
            *ISO.findall(text),
            *sorted({word for word in SNAKE.findall(text) if word not in SNAKE_ALLOWED}),
        ]
        if kept:
            self.problems.append(f"{name} ({lang}) shows kept values: {kept}")
        heading = (
            page.locator("h1").first.inner_text().strip() if page.locator("h1").count() else ""
        )
        if not heading:
            self.problems.append(f"{name} ({lang}) has no heading")
        if endpoint in NAMED:
            heading = " / ".join(page.locator("main h2").all_inner_texts())
        self.headings[(lang, name)] = heading
        if lang != "en" and heading == self.headings.get(("en", name)):
            self.problems.append(f"{name} ({lang}) is headed in English: {heading}")
        return text


def test_the_tour_of_every_console_screen(
    app, api, browser, served, simulator, dispatcher, tmp_path
):
    world = _seed(app, api, simulator, dispatcher)
    tour = Tour(app, served, screenshots(tmp_path))
    for lang in LANGUAGES:
        speaks(app, lang)
        context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
        page = context.new_page()

        # The sign-in pages, as the supervisor signs in.
        tour.visit(page, "/console/login", "console.login", lang)
        page.locator("input[name=email]").fill("supervisor@bank.example")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/console/login/code")
        tour.look(page, "console.login_code", lang)
        pass_second_step(page, app, "supervisor@bank.example")
        page.wait_for_url(f"{served}/console/")

        for endpoint, paths in PATHS.items():
            for apart, path in paths(world).items():
                tour.visit(page, path, endpoint, lang, apart=apart)
        context.close()

        # The agent at their desk, a caller ringing.
        agent = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
        desk = agent.new_page()
        sign_in(desk, served, "agent@bank.example")
        desk.goto(f"{served}/console/desk")
        desk.get_by_test_id("offer").wait_for()
        tour.look(desk, "console.desk", lang)
        agent.close()

        # A new supervisor's first sign-in: their second factor first.
        fresh = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
        enrol = fresh.new_page()
        sign_in(enrol, served, NEW_SUPERVISOR)
        enrol.wait_for_url("**/console/login/enrol")
        tour.look(enrol, "console.login_enrol", lang)
        tour.visit(
            enrol,
            f"/console/reset-password?token={world.reset_token}",
            "console.reset_password",
            lang,
        )
        fresh.close()

    assert tour.visited == set(PATHS) | set(WALKED_APART)
    assert not tour.problems, "\n".join(tour.problems)


def sign_in(page, served: str, email: str) -> None:
    page.goto(f"{served}/console/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def add_satisfaction_link(app) -> None:
    """A closed complaint's "how satisfied are you?" link, good for a year of tours."""
    with app.app_context():
        complaint = file_complaint(
            db.session,
            policy=app.extensions["complaints_policy"],
            phone=PHONE,
            text="Charged twice",
            channel=ComplaintChannel.WEB,
            now=NOW,
            actor=Actor("public"),
            company="Demo Bank",
            locale="it",
        )
        db.session.add(
            SatisfactionLink(
                token_hash=hashlib.sha256(SATISFACTION_TOKEN.encode()).hexdigest(),
                complaint_id=complaint.id,
                expires_at=NOW + timedelta(days=365),
            )
        )
        db.session.commit()


def test_the_tour_of_every_public_page(app, browser, served, tmp_path):
    add_satisfaction_link(app)
    tour = Tour(app, served, screenshots(tmp_path))
    for lang in LANGUAGES:
        page = browser.new_page(locale=lang, viewport={"width": 1280, "height": 900})
        for endpoint, path in PUBLIC_PATHS.items():
            if lang != "en" and endpoint in ENGLISH_ONLY:
                continue
            tour.visit(page, path, endpoint, lang)
            assert page.locator("html").get_attribute("lang") == lang, endpoint
        tour.visit(page, "/no-such-page", "404", lang, status=404)
        page.close()
    assert tour.visited == set(PUBLIC_PATHS) | {"404"}
    assert not tour.problems, "\n".join(tour.problems)
