"""The public page /freeze: "I lost my phone, or someone is in my account": freeze it now."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import clock
from app.audit.service import Actor
from app.errors import InvalidInput, RateLimited, retry_after
from app.extensions import db
from app.freezes import service
from app.freezes.line import too_many_for
from app.freezes.models import FreezeChannel
from app.inputs import refuse_control_characters
from app.locales import country_choices, page_locale, page_region, suggested_region
from app.phones import example_number, read_own_number
from app.ratelimit import enforce

bp = Blueprint("freeze_page", __name__, url_prefix="/freeze")


def _page(locale: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(
            "freeze.html",
            countries=country_choices(locale),
            region=page_region(locale),
            today=clock.now().date().isoformat(),
            **{"keep": {}, "errors": {}, **context},
        ),
        status,
    )


@bp.get("")
def page() -> ResponseReturnValue:
    return _page(page_locale())


def _birth_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.post("")
def freeze() -> ResponseReturnValue:
    locale = page_locale()
    form = request.form
    keep = {"phone": form.get("phone", ""), "birth_date": form.get("birth_date", "")}
    errors: dict[str, str] = {}
    try:
        refuse_control_characters(form, fields=["phone", "birth_date"])
        enforce("freeze:address", what="requests from your address")
        try:
            phone = read_own_number(
                form.get("phone"),
                regions=[page_region(locale), suggested_region(locale)],
                field="phone",
                locale=locale,
            ).e164
        except InvalidInput:
            phone = None
            errors["phone"] = _(
                "We could not read this phone number. Please type it with its country code "
                "(for example %(example)s).",
                example=example_number(page_region(locale)),
            )
        birth_date = _birth_date(form.get("birth_date") or "")
        if birth_date is None:
            errors["birth-date"] = _("Please give your date of birth.")
        if errors or phone is None:
            return _page(locale, 422, keep=keep, errors=errors)
        enforce("freeze:number", phone, what="tries")
        session = db.session()
        customer = service.match_caller(
            session,
            phone=phone,
            birth_date=birth_date,
            keyring=current_app.extensions["verification_keyring"],
            too_many_for=too_many_for,
        )
        if customer is None:
            # The same words for an unknown number, a wrong date and a customer past their tries.
            return _page(locale, 200, keep=keep, no_match=True)
        service.request_freeze(
            session,
            customer=customer,
            channel=FreezeChannel.WEB,
            actor=Actor("public:web", request_id=g.get("request_id")),
            now=clock.now(),
        )
        session.commit()
    except RateLimited as exc:
        retry_after(exc)
        too_many = _("Too many requests from here. Please try again in a few minutes.")
        return _page(locale, 429, keep=keep, error=too_many)
    except InvalidInput as exc:  # a control character
        field = "birth-date" if exc.field == "birth_date" else "phone"
        return _page(locale, 422, keep=keep, errors={field: _("Please type it again.")})
    return _page(locale, 201, frozen=True)
