"""The public complaints page: make a complaint, check one by reference and phone number."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from app import clock
from app.audit.service import Actor
from app.complaints import references, service, texts
from app.complaints.models import ComplaintChannel
from app.complaints.policy import CATEGORIES
from app.errors import InvalidInput, NotFound, RateLimited
from app.extensions import db
from app.inputs import CONTROL_CHARACTER, refuse_control_characters
from app.locales import (
    SUPPORTED_LOCALES,
    country_choices,
    page_locale,
    page_region,
    suggested_region,
)
from app.phones import needs_country_code, read_typed_number
from app.ratelimit import enforce

bp = Blueprint("complaints_page", __name__, url_prefix="/complaints")


def _regions(locale: str) -> list[str | None]:
    """Where a phone typed without its country code is read: the picked country, then the
    language's."""
    return [page_region(locale), suggested_region(locale)]


def _page(locale: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(
            "complaints.html",
            lang=locale,
            languages=SUPPORTED_LOCALES,
            words=texts.PAGE[locale],
            # The promise on the page is the policy's first-response deadline, not a copy of it.
            intro=texts.PAGE[locale]["intro"].format(
                days=current_app.extensions["complaints_policy"].first_response_days
            ),
            categories=CATEGORIES,
            countries=country_choices(locale),
            region=page_region(locale),
            **{"keep": {}, "keep_status": {}, **context},
        ),
        status,
    )


_FILE_FIELDS = ("phone", "email", "category", "text", "call_reference")


def _error(exc: InvalidInput, locale: str) -> str:
    """What went wrong, in the page's language."""
    if exc.code == CONTROL_CHARACTER:
        return _unprintable(locale, exc.field)
    if exc.code == "unreadable_phone":
        return needs_country_code(locale, page_region(locale))
    errors = texts.PAGE[locale]["errors"]
    return errors.get(exc.field or "", errors["text"])


def _unprintable(locale: str, field: str | None) -> str:
    """The page's words for a field with control characters in it, named by its label."""
    words = texts.PAGE[locale]
    return str(words["bad_characters"]).format(label=words[f"{field}_label"])


@bp.get("")
def page() -> ResponseReturnValue:
    return _page(page_locale())


@bp.post("")
def file() -> ResponseReturnValue:
    locale = page_locale()
    words = texts.PAGE[locale]
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
        )
        db.session.commit()
    except RateLimited:
        return _page(locale, 429, file_error=words["too_many"], keep=request.form)
    except InvalidInput as exc:
        db.session.rollback()
        return _page(
            locale, 422, file_error=_error(exc, locale), error_field=exc.field, keep=request.form
        )
    due = service.due_date(complaint.first_response_due, locale, policy)
    return _page(
        locale,
        201,
        filed=words["filed"].format(reference=complaint.reference, due=due),
        reference=complaint.reference,
    )


@bp.post("/status")
def status() -> ResponseReturnValue:
    locale = page_locale()
    words = texts.PAGE[locale]
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
            return _page(locale, 422, keep_status=keep, status_error=words["errors"]["phone"])
        if not readable:
            error = needs_country_code(locale, regions[0])
            return _page(locale, 422, keep_status=keep, status_error=error)
        canonical = references.normalize(reference)  # a malformed one is not found unlooked
        if canonical:
            enforce("complaint_status:reference", canonical, what="lookups")
        complaint = service.find_for_customer(
            db.session(), reference, request.form.get("phone"), regions=regions
        )
    except RateLimited:
        return _page(locale, 429, keep_status=keep, status_error=words["too_many"])
    except InvalidInput as exc:  # only a control character gets here
        error = _unprintable(locale, exc.field)
        return _page(locale, 422, keep_status=keep, status_error=error)
    except NotFound:
        return _page(locale, 404, keep_status=keep, status_error=words["not_found"])
    view = service.public_view(complaint)
    policy = current_app.extensions["complaints_policy"]
    message = words["status"].format(
        reference=complaint.reference,
        status=texts.pick(texts.STATUS[view["status"]], locale),
    )
    if view["due_by"]:
        message += " " + texts.pick(texts.REPLY_BY, locale).format(
            due=service.due_date(view["due_by"], locale, policy)
        )
    return _page(locale, keep_status=keep, status_message=message, status_value=view["status"])
