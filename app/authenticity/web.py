"""The public page: check a number, check a call's reference, report a scam call. No JavaScript
needed; every answer is the same one the API gives, placed by the form that asked for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.audit.service import Actor
from app.authenticity import service, texts
from app.authenticity.models import ASKED_FOR, ReportChannel
from app.errors import InvalidInput, RateLimited, retry_after
from app.extensions import db
from app.inputs import CONTROL_CHARACTER, refuse_control_characters
from app.locales import (
    country_choices,
    page_locale,
    page_region,
    suggested_region,
)
from app.phones import example_number, international, read_own_number
from app.ratelimit import enforce

bp = Blueprint("check", __name__, url_prefix="/check")

#: What a scam call asked for, as the report form's boxes say it (one for each of ASKED_FOR).
_ASKED = {
    "password": _l("a password"),
    "pin": _l("a PIN"),
    "sms_code": _l("a code sent by SMS"),
    "card_details": _l("card details"),
    "move_money": _l("to move money"),
    "install_app": _l("to install an app"),
    "other": _l("something else"),
}


def _regions(locale: str) -> list[str | None]:
    """Where a number typed without its country code is read first: the picked country, then
    the one the language suggests."""
    return [page_region(locale), suggested_region(locale)]


def _unprintable(error: InvalidInput, labels: dict[str, str]) -> str | None:
    """The page's words for a field with control characters in it; None for other errors."""
    if error.code != CONTROL_CHARACTER:
        return None
    return _(
        "“%(label)s” contains invisible control characters, often left by copying from another "
        "program. Please type it again.",
        label=labels[error.field or ""],
    )


def _bad_number() -> str:
    return _(
        "That does not look like a phone number. Use digits, with the country code (for "
        "example +39 ...)."
    )


def _needs_country_code(region: str | None) -> str:
    """A number that is no number in the person's country: ask for its country code, showing one."""
    return _(
        "We could not read this phone number. Please type it with its country code (for "
        "example %(example)s).",
        example=example_number(region),
    )


def _too_many() -> str:
    return _("Too many checks from here. Please try again in a few minutes.")


def _page(locale: str, status: int = 200, **context: Any) -> tuple[str, int]:
    company = current_app.config["COMPANY_NAME"]
    html = render_template(
        "check.html",
        title=_("Is this call really from %(company)s?", company=company),
        asked_for={item: _ASKED[item] for item in ASKED_FOR},
        countries=country_choices(locale),
        region=page_region(locale),
        **{"typed_number": "", "keep_reference": {}, "keep_report": {}, "errors": {}, **context},
    )
    return html, status


@bp.get("")
def page() -> ResponseReturnValue:
    locale = page_locale()
    number = request.args.get("number")
    if number is None:
        return _page(locale)
    typed = number.strip()
    try:
        refuse_control_characters(request.args, fields=["number"])
        enforce("lookup:address", what="lookups from your address")
        seen = service.read_seen_number(db.session(), number, regions=_regions(locale))
        enforce("lookup:number", seen.key, what="lookups of this number")
        answer = service.lookup(
            db.session(), seen, locale=locale, company=current_app.config["COMPANY_NAME"]
        )
    except RateLimited as exc:
        retry_after(exc)
        return _page(locale, 429, typed_number=typed, number_error=_too_many())
    except InvalidInput as exc:
        bad = _unprintable(exc, {"number": _("The number that called you")}) or _bad_number()
        return _page(locale, 422, typed_number=typed, errors={"number": bad})
    return _page(
        locale,
        typed_number=typed,
        lookup=answer,
        read_as=international(seen.single.e164) if seen.single else None,
    )


@bp.post("/reference")
def reference() -> ResponseReturnValue:
    locale = page_locale()
    regions = _regions(locale)
    keep = {key: request.form.get(key, "") for key in ("reference", "phone")}
    try:
        refuse_control_characters(request.form, fields=["reference", "phone"])
        enforce("reference:address", what="checks from your address")
        service.normalize_reference(request.form.get("reference"))
        phone = read_own_number(
            request.form.get("phone"), regions=regions, field="phone", locale=locale
        )
        enforce("reference:phone", phone.e164, what="checks")
        answer = service.check_reference(
            db.session(),
            reference=request.form.get("reference"),
            phone=phone.e164,
            regions=regions,
            now=clock.now(),
            locale=locale,
        )
    except RateLimited as exc:
        retry_after(exc)
        return _page(locale, 429, keep_reference=keep, reference_error=_too_many())
    except InvalidInput as exc:
        labels = {"reference": _("Reference of the call"), "phone": _("Your phone number")}
        unprintable = _unprintable(exc, labels)
        field = "reference" if exc.field == "reference" else "phone"
        if unprintable is not None:
            error = unprintable
        elif field == "reference":
            error = _("The reference has 6 digits.")
        elif exc.code == "unreadable_phone":
            error = _needs_country_code(regions[0])
        else:
            error = _bad_number()
        return _page(locale, 422, keep_reference=keep, errors={field: error})
    return _page(locale, keep_reference=keep, reference_answer=answer)


#: The report form's fields, each with the id of its box on the page.
_REPORT_FIELDS = {
    "number": "report-number",
    "called_at": "called-at",
    "asked_for": "report-number",  # checkboxes of fixed values: only a forged form gets here
    "description": "description",
}


def _report_labels() -> dict[str, str]:
    return {
        "number": _("The number that called you"),
        "called_at": _("When (optional)"),
        "asked_for": _("What did they ask for?"),
        "description": _("What happened (optional)"),
    }


@bp.post("/report")
def report() -> ResponseReturnValue:
    locale = page_locale()
    called_at = None
    when = (request.form.get("called_at") or "").strip()
    keep = {
        "number": request.form.get("number", ""),
        "called_at": when,
        "asked_for": request.form.getlist("asked_for"),
        "description": request.form.get("description", ""),
    }
    try:
        refuse_control_characters(request.form, fields=_REPORT_FIELDS, multiline=["description"])
        if when:
            try:  # <input type="datetime-local">: the person's wall clock, read as UTC
                called_at = datetime.fromisoformat(when).replace(tzinfo=UTC)
            except ValueError:
                raise InvalidInput("called_at: not a date and time", field="called_at") from None
        enforce("report:address", what="reports from your address")
        filed = service.file_report(
            db.session(),
            number=request.form.get("number"),
            channel=ReportChannel.WEB,
            now=clock.now(),
            actor=Actor("public:web", request_id=g.get("request_id")),
            locale=locale,
            regions=_regions(locale),
            called_at=called_at,
            description=(request.form.get("description") or "")[:2000],
            asked_for=[a for a in request.form.getlist("asked_for") if a in ASKED_FOR],
        )
        db.session.commit()
    except RateLimited as exc:
        retry_after(exc)
        return _page(locale, 429, keep_report=keep, report_error=_too_many())
    except InvalidInput as exc:
        db.session.rollback()
        field = exc.field if exc.field in _REPORT_FIELDS else "number"
        error = _unprintable(exc, _report_labels())
        if error is None and field == "called_at":
            error = _(
                "Check the date and time: the call must be from the last year, and not in the "
                "future."
            )
        return _page(
            locale, 422, keep_report=keep, errors={_REPORT_FIELDS[field]: error or _bad_number()}
        )
    message = texts.pick(texts.REPORTED, locale).format(reference=filed.reference)
    return _page(locale, report_done=message, report_reference=filed.reference)
