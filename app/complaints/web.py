"""The public complaints page: make a complaint, check one by reference and phone number."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from app import clock
from app.audit.service import Actor
from app.complaints import references, service, texts
from app.complaints.models import ComplaintChannel
from app.complaints.policy import CATEGORIES
from app.errors import DomainError, InvalidInput, NotFound, RateLimited
from app.extensions import db
from app.locales import SUPPORTED_LOCALES, page_locale
from app.ratelimit import enforce

bp = Blueprint("complaints_page", __name__, url_prefix="/complaints")


def _page(locale: str, status: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "complaints.html",
            lang=locale,
            languages=SUPPORTED_LOCALES,
            words=texts.PAGE[locale],
            categories=CATEGORIES,
            **{"keep": {}, **context},
        ),
        status,
    )


@bp.get("")
def page():  # type: ignore[no-untyped-def]
    return _page(page_locale())


@bp.post("")
def file():  # type: ignore[no-untyped-def]
    locale = page_locale()
    words = texts.PAGE[locale]
    policy = current_app.extensions["complaints_policy"]
    form = request.form
    try:
        enforce("complaint:address", what="complaints from your address")
        complaint = service.file_complaint(
            db.session,
            policy=policy,
            phone=form.get("phone"),
            text=form.get("text"),
            category=form.get("category") or None,
            channel=ComplaintChannel.WEB,
            now=clock.now(),
            actor=Actor("public:web", request_id=g.get("request_id")),
            company=current_app.config["COMPANY_NAME"],
            locale=locale,
            region=texts.PAGE_REGION[locale],
            email=(form.get("email") or "").strip() or None,
            call_reference=(form.get("call_reference") or "").strip() or None,
        )
        db.session.commit()
    except RateLimited:
        return _page(locale, 429, file_error=words["too_many"])
    except InvalidInput as exc:
        db.session.rollback()
        return _page(locale, 422, file_error=exc.message, error_field=exc.field, keep=request.form)
    due = service.due_date(complaint.first_response_due, locale, policy)
    return _page(
        locale,
        201,
        filed=words["filed"].format(reference=complaint.reference, due=due),
        reference=complaint.reference,
    )


@bp.post("/status")
def status():  # type: ignore[no-untyped-def]
    locale = page_locale()
    words = texts.PAGE[locale]
    reference = (request.form.get("reference") or "").strip()
    try:
        enforce("complaint_status:address", what="lookups from your address")
        canonical = references.normalize(reference)  # a malformed one is not found unlooked
        if canonical:
            enforce("complaint_status:reference", canonical, what="lookups")
        complaint = service.find_for_customer(
            db.session, reference, _with_region(request.form.get("phone"), locale)
        )
    except RateLimited:
        return _page(locale, 429, status_error=words["too_many"])
    except (NotFound, DomainError):
        return _page(locale, 404, status_error=words["not_found"])
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
    return _page(locale, status_message=message, status_value=view["status"])


def _with_region(phone: object, locale: str) -> str:
    """A number typed without its country code is read in the page's country."""
    from app.phones import read_phone

    try:
        e164, parsed = read_phone(phone, region=texts.PAGE_REGION[locale], field="phone")
    except InvalidInput:
        return ""
    return e164 if parsed is not None else ""
