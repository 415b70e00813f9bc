"""The public complaints page: make a complaint, check one by reference and phone number."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.audit.service import Actor
from app.complaints import references, service
from app.complaints.models import ComplaintChannel
from app.complaints.policy import CATEGORIES
from app.errors import InvalidInput, NotFound, RateLimited, retry_after
from app.extensions import db
from app.inputs import CONTROL_CHARACTER, refuse_control_characters
from app.locales import (
    country_choices,
    page_locale,
    page_region,
    suggested_region,
)
from app.phones import example_number, read_typed_number
from app.ratelimit import enforce

bp = Blueprint("complaints_page", __name__, url_prefix="/complaints")


def _regions(locale: str) -> list[str | None]:
    """Where a phone typed without its country code is read: the picked country, then the
    language's."""
    return [page_region(locale), suggested_region(locale)]


#: What a complaint is about, as the form's list says it (one for each of the policy's CATEGORIES).
_CATEGORIES = {
    "payments": _l("Payments"),
    "cards": _l("Cards"),
    "account_access": _l("Access to your account"),
    "verification_calls": _l("A call from us"),
    "fraud_scam": _l("Fraud or a scam"),
    "other": _l("Something else"),
}


def _page(locale: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(
            "complaints.html",
            # The promise on the page is the policy's first-response deadline, not a copy of it.
            days=current_app.extensions["complaints_policy"].first_response_days,
            categories={item: _CATEGORIES[item] for item in CATEGORIES},
            countries=country_choices(locale),
            region=page_region(locale),
            **{"keep": {}, "keep_status": {}, "errors": {}, **context},
        ),
        status,
    )


#: Where a complaint stands, as its page says it (a sentence each: the words agree with the
#: complaint in every language). Texts and the phone line say it with texts.STATUS.
_STATUS = {
    "new": _l("Your complaint %(reference)s has been received."),
    "acknowledged": _l("Your complaint %(reference)s has been acknowledged."),
    "in_progress": _l("We are handling your complaint %(reference)s."),
    "waiting_for_customer": _l(
        "We are waiting for information from you about your complaint %(reference)s."
    ),
    "resolved": _l("Your complaint %(reference)s has been resolved."),
    "closed": _l("Your complaint %(reference)s is closed."),
}


#: The complaint form's fields, each with the id of its box on the page.
_FILE_FIELDS = {
    "phone": "phone",
    "email": "email",
    "category": "category",
    "text": "text",
    "call_reference": "call-reference",
}


def _labels() -> dict[str, str]:
    """Each field as its label says it, to name it in an error."""
    return {
        "phone": _("Your phone number"),
        "email": _("Your email (optional)"),
        "category": _("What is it about?"),
        "text": _("What happened"),
        "call_reference": _("Reference of one of our calls (optional)"),
        "reference": _("Complaint reference"),
    }


def _error(exc: InvalidInput, locale: str) -> str:
    """What went wrong, in the page's language."""
    if exc.code == CONTROL_CHARACTER:
        return _unprintable(exc.field)
    if exc.code == "unreadable_phone":
        return _needs_country_code(page_region(locale))
    if exc.field == "phone":
        return _bad_phone()
    if exc.field == "email":
        return _("That is not an email address.")
    if exc.field == "category":
        return _("Please pick what it is about from the list.")
    if exc.field == "call_reference":
        return _("The reference of one of our calls has 6 digits.")
    return _("Please tell us what happened (at most 5,000 characters).")


def _bad_phone() -> str:
    return _("That does not look like a phone number. Use digits, with the country code.")


def _needs_country_code(region: str | None) -> str:
    """A number that is no number in the person's country: ask for its country code, showing one."""
    return _(
        "We could not read this phone number. Please type it with its country code (for "
        "example %(example)s).",
        example=example_number(region),
    )


def _too_many() -> str:
    return _("Too many requests from here. Please try again in a few minutes.")


def _unprintable(field: str | None) -> str:
    """The page's words for a field with control characters in it, named by its label."""
    return _(
        "“%(label)s” contains invisible control characters, often left by copying from another "
        "program. Please type it again.",
        label=_labels().get(field or "", _("What happened")),
    )


@bp.get("")
def page() -> ResponseReturnValue:
    return _page(page_locale())


@bp.post("")
def file() -> ResponseReturnValue:
    locale = page_locale()
    policy = current_app.extensions["complaints_policy"]
    form = request.form
    try:
        refuse_control_characters(form, fields=_FILE_FIELDS, multiline=["text"])
        enforce("complaint:address", what="complaints from your address")
        complaint = service.file_complaint(
            db.session(),
            policy=policy,
            phone=form.get("phone"),
            text=form.get("text"),
            category=form.get("category") or None,
            channel=ComplaintChannel.WEB,
            now=clock.now(),
            actor=Actor("public:web", request_id=g.get("request_id")),
            company=current_app.config["COMPANY_NAME"],
            locale=locale,
            regions=_regions(locale),
            email=(form.get("email") or "").strip() or None,
            call_reference=(form.get("call_reference") or "").strip() or None,
            call_me=form.get("call_me") == "yes",
        )
        db.session.commit()
    except RateLimited as exc:
        retry_after(exc)
        return _page(locale, 429, file_error=_too_many(), keep=request.form)
    except InvalidInput as exc:
        db.session.rollback()
        field = _FILE_FIELDS.get(exc.field or "", "text")
        return _page(locale, 422, errors={field: _error(exc, locale)}, keep=request.form)
    due = service.due_date(complaint.first_response_due, locale, policy)
    filed = _(
        "Thank you. Your complaint reference is %(reference)s. We will reply by %(due)s. We have "
        "sent the reference to your phone.",
        reference=complaint.reference,
        due=due,
    )
    if complaint.call_me:  # what they asked for, said back: a person will ring them
        filed += " " + _("Our complaints team will call you back on the number you gave.")
    return _page(locale, 201, filed=filed, reference=complaint.reference)


@bp.post("/status")
def status() -> ResponseReturnValue:
    locale = page_locale()
    reference = (request.form.get("reference") or "").strip()
    keep = {"reference": reference, "phone": request.form.get("phone", "")}
    regions = _regions(locale)
    try:
        refuse_control_characters(request.form, fields=["reference", "phone"])
        enforce("complaint_status:address", what="lookups from your address")
        # A phone that cannot be read is said so, which tells nothing about any complaint.
        try:
            readable = bool(read_typed_number(request.form.get("phone"), regions=regions).readings)
        except InvalidInput:
            return _page(locale, 422, keep_status=keep, errors={"status-phone": _bad_phone()})
        if not readable:
            error = _needs_country_code(regions[0])
            return _page(locale, 422, keep_status=keep, errors={"status-phone": error})
        canonical = references.normalize(reference)  # a malformed one is not found unlooked
        if canonical:
            enforce("complaint_status:reference", canonical, what="lookups")
        complaint = service.find_for_customer(
            db.session(), reference, request.form.get("phone"), regions=regions
        )
    except RateLimited as exc:
        retry_after(exc)
        return _page(locale, 429, keep_status=keep, status_error=_too_many())
    except InvalidInput as exc:  # only a control character gets here
        field = "reference" if exc.field == "reference" else "status-phone"
        return _page(locale, 422, keep_status=keep, errors={field: _unprintable(exc.field)})
    except NotFound:
        not_found = _("We found no complaint with this reference and phone number.")
        return _page(locale, 404, keep_status=keep, status_error=not_found)
    view = service.public_view(complaint)
    policy = current_app.extensions["complaints_policy"]
    message = str(_STATUS[view["status"]]) % {"reference": complaint.reference}
    if view["due_by"]:
        due = service.due_date(view["due_by"], locale, policy)
        message += " " + _("We will reply by %(due)s.", due=due)
    return _page(locale, keep_status=keep, status_message=message, status_value=view["status"])


# ----- "how satisfied are you?" after a closed complaint (the link its text carries) -----

satisfaction_bp = Blueprint("satisfaction_page", __name__, url_prefix="/satisfaction")

#: A low score's reasons, as the page lists them (the same as the calls' reason menu).
_REASONS = {
    "too_long": _l("It took too long"),
    "not_clear": _l("It was not clear"),
    "other": _l("Something else"),
}


def satisfaction_link(token: str, locale: str) -> str:
    """The page a closed complaint's text links to, in the complainant's language."""
    return url_for("satisfaction_page.ask", token=token, lang=locale, _external=True)


def _satisfaction_page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "satisfaction.html", reasons=_REASONS, **{"errors": {}, "keep": {}, **context}
    ), status


def _gone() -> tuple[str, int]:
    gone = _("This link has expired or has already been used. Thank you all the same.")
    return _satisfaction_page(404, gone=gone)


@satisfaction_bp.get("/<token>")
def ask(token: str) -> ResponseReturnValue:
    try:
        refuse_control_characters({"token": token})
        complaint = service.satisfaction_asked(db.session(), token, now=clock.now())
    except (InvalidInput, NotFound):
        return _gone()
    return _satisfaction_page(reference=complaint.reference, token=token)


@satisfaction_bp.post("/<token>")
def answer(token: str) -> ResponseReturnValue:
    form = request.form
    try:
        refuse_control_characters({"token": token, **form}, fields=["token", "score", "reason"])
        complaint = service.satisfaction_asked(db.session(), token, now=clock.now())
    except (InvalidInput, NotFound):
        return _gone()
    try:
        service.answer_satisfaction(
            db.session(),
            token,
            score=form.get("score"),
            reason=form.get("reason") or None,
            now=clock.now(),
            actor=Actor("public:satisfaction", request_id=g.get("request_id")),
        )
        db.session.commit()
    except NotFound:
        db.session.rollback()
        return _gone()
    except InvalidInput as exc:
        db.session.rollback()
        error = (
            _("Please choose a score from 1 to 5.")
            if exc.field == "score"
            else _("Please choose one of the reasons.")
        )
        return _satisfaction_page(
            422,
            reference=complaint.reference,
            token=token,
            errors={exc.field or "score": error},
            keep=form,
        )
    return _satisfaction_page(thanks=_("Thank you for your answer."))
