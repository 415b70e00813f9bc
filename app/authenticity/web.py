"""The public page: check a number, check a call's reference, report a scam call. No JavaScript
needed; every answer is the same one the API gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from app import clock
from app.audit.service import Actor
from app.authenticity import service, texts
from app.authenticity.models import ASKED_FOR, ReportChannel
from app.errors import InvalidInput, RateLimited
from app.extensions import db
from app.locales import SUPPORTED_LOCALES, page_locale
from app.ratelimit import enforce

bp = Blueprint("check", __name__, url_prefix="/check")


def _page(locale: str, status: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    words = texts.PAGE[locale]
    company = current_app.config["COMPANY_NAME"]
    html = render_template(
        "check.html",
        lang=locale,
        languages=SUPPORTED_LOCALES,
        words=words,
        title=words["title"].format(company=company),
        advice=texts.pick(texts.ADVICE, locale),
        asked_for=ASKED_FOR,
        form=request.values,
        **context,
    )
    return html, status


def _digits(raw: object) -> str:
    return "".join(ch for ch in str(raw or "") if ch.isdigit())[:20] or "-"


@bp.get("")
def page():  # type: ignore[no-untyped-def]
    locale = page_locale()
    number = request.args.get("number")
    if number is None:
        return _page(locale)
    try:
        enforce("lookup:address", what="lookups from your address")
        enforce("lookup:number", _digits(number), what="lookups of this number")
        answer = service.lookup(
            db.session,
            number,
            locale=locale,
            company=current_app.config["COMPANY_NAME"],
            region=texts.PAGE_REGION[locale],
        )
    except RateLimited:
        return _page(locale, 429, number_error=texts.PAGE[locale]["too_many"])
    except InvalidInput:
        return _page(locale, 422, number_error=texts.PAGE[locale]["bad_number"])
    return _page(locale, lookup=answer)


@bp.post("/reference")
def reference():  # type: ignore[no-untyped-def]
    locale = page_locale()
    words = texts.PAGE[locale]
    try:
        enforce("reference:address", what="checks from your address")
        enforce("reference:phone", _digits(request.form.get("phone")), what="checks")
        answer = service.check_reference(
            db.session,
            reference=request.form.get("reference"),
            phone=request.form.get("phone"),
            region=texts.PAGE_REGION[locale],
            now=clock.now(),
            locale=locale,
        )
    except RateLimited:
        return _page(locale, 429, reference_error=words["too_many"])
    except InvalidInput as exc:
        bad = words["bad_reference"] if exc.field == "reference" else words["bad_number"]
        return _page(locale, 422, reference_error=bad)
    return _page(locale, reference_answer=answer)


@bp.post("/report")
def report():  # type: ignore[no-untyped-def]
    locale = page_locale()
    words = texts.PAGE[locale]
    called_at = None
    when = (request.form.get("called_at") or "").strip()
    try:
        if when:
            try:  # <input type="datetime-local">: the person's wall clock, read as UTC
                called_at = datetime.fromisoformat(when).replace(tzinfo=UTC)
            except ValueError:
                raise InvalidInput("called_at: not a date and time", field="called_at") from None
        enforce("report:address", what="reports from your address")
        filed = service.file_report(
            db.session,
            number=request.form.get("number"),
            channel=ReportChannel.WEB,
            now=clock.now(),
            actor=Actor("public:web", request_id=g.get("request_id")),
            locale=locale,
            region=texts.PAGE_REGION[locale],
            called_at=called_at,
            description=(request.form.get("description") or "")[:2000],
            asked_for=[a for a in request.form.getlist("asked_for") if a in ASKED_FOR],
        )
        db.session.commit()
    except RateLimited:
        return _page(locale, 429, report_error=words["too_many"])
    except InvalidInput as exc:
        db.session.rollback()
        return _page(
            locale,
            422,
            report_error=exc.message if exc.field == "called_at" else words["bad_number"],
        )
    message = texts.pick(texts.REPORTED, locale).format(reference=filed.reference)
    return _page(locale, report_done=message, report_reference=filed.reference)
