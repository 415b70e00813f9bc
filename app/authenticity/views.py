"""Public routes (no key, rate-limited): lookup, call reference check, scam reports.
Integrator routes (key): the call we are placing now, and the fraud team's report queue."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask.views import MethodView

from app import clock
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.authenticity import service, texts
from app.authenticity.models import ReportChannel, ScamReport
from app.authenticity.schemas import (
    ActiveCallOut,
    CallCheckIn,
    CallCheckOut,
    LookupOut,
    LookupQuery,
    ReportCreated,
    ReportIn,
    ReportOut,
    ReportQuery,
    ReportUpdate,
    StatsQuery,
)
from app.calls.models import Call
from app.extensions import db
from app.inputs import Blueprint
from app.locales import SUPPORTED_LOCALES, normalize_locale, suggested_region
from app.phones import read_own_number
from app.ratelimit import enforce

public = Blueprint(
    "authenticity",
    __name__,
    url_prefix="/api/v1",
    description="Is this call really from us? (public, no key, rate-limited)",
)
staff = require_api_key(
    Blueprint(
        "scam_reports",
        __name__,
        url_prefix="/api/v1",
        description="The call we are placing now; reports of scam calls (integrator key)",
    )
)


def request_locale(lang: str | None) -> str:
    if lang:
        return normalize_locale(lang, field="lang")
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def person_regions(region: str | None, locale: str) -> list[str | None]:
    """Where a number typed without its country code is read first: the country the person
    chose, then the one their language suggests (Accept-Language's en-US, else en -> GB)."""
    return [region, suggested_region(locale)]


@public.route("/lookup")
class Lookup(MethodView):
    @public.arguments(LookupQuery, location="query")
    @public.response(200, LookupOut)
    @public.alt_response(429, description="too many lookups")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Is this number one of ours? The same answer shape for every number"""
        enforce("lookup:address", what="lookups from your address")
        locale = request_locale(query["lang"])
        seen = service.read_seen_number(
            db.session(), query["number"], regions=person_regions(query["region"], locale)
        )
        enforce("lookup:number", seen.key, what="lookups of this number")
        return service.lookup(
            db.session(), seen, locale=locale, company=current_app.config["COMPANY_NAME"]
        )


@public.route("/call-checks")
class CallChecks(MethodView):
    @public.arguments(CallCheckIn)
    @public.response(200, CallCheckOut)
    @public.alt_response(429, description="too many checks")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Did you call my number with this reference in the last 24 hours?"""
        enforce("reference:address", what="checks from your address")
        locale = request_locale(payload["lang"])
        regions = person_regions(payload["region"], locale)
        service.normalize_reference(payload["reference"])
        phone = read_own_number(payload["phone"], regions=regions, field="phone", locale=locale)
        enforce("reference:phone", phone.e164, what="checks for this number")
        return service.check_reference(
            db.session(),
            reference=payload["reference"],
            phone=phone.e164,
            regions=regions,
            now=clock.now(),
            locale=locale,
        )


@public.route("/reports")
class Reports(MethodView):
    @public.arguments(ReportIn)
    @public.response(201, ReportCreated)
    @public.alt_response(429, description="too many reports")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Report a call that pretended to be us"""
        enforce("report:address", what="reports from your address")
        locale = request_locale(payload.pop("lang"))
        regions = person_regions(payload.pop("region"), locale)
        report = service.file_report(
            db.session(),
            channel=ReportChannel.API,
            now=clock.now(),
            actor=current_actor(),
            locale=locale,
            regions=regions,
            **payload,
        )
        db.session.commit()
        return {
            "reference": report.reference,
            "message": texts.pick(texts.REPORTED, locale).format(reference=report.reference),
            "advice": texts.pick(texts.ADVICE, locale),
        }


@staff.route("/customers/<uuid:customer_id>/active-call")
class ActiveCall(MethodView):
    @staff.doc(security=BEARER)
    @staff.response(200, ActiveCallOut)
    def get(self, customer_id: uuid.UUID) -> Call:
        """The call we are placing to the customer now (404 when none), for the app to show"""
        return service.active_call(db.session(), customer_id, now=clock.now())


@staff.route("/scam-reports")
class ScamReports(MethodView):
    @staff.doc(security=BEARER)
    @staff.arguments(ReportQuery, location="query")
    @staff.response(200, ReportOut(many=True))
    def get(self, query: dict[str, Any]) -> list[ScamReport]:
        """The fraud team's queue, newest first"""
        return service.list_reports(db.session(), **query)


@staff.route("/scam-reports/stats")
class ScamReportStats(MethodView):
    @staff.doc(security=BEARER)
    @staff.arguments(StatsQuery, location="query")
    @staff.response(200)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Reports per reported number and per day"""
        return service.report_stats(db.session(), days=query["days"], now=clock.now())


@staff.route("/scam-reports/<reference(RPT):reference>")
class ScamReportByReference(MethodView):
    @staff.doc(security=BEARER)
    @staff.response(200, ReportOut)
    def get(self, reference: str) -> ScamReport:
        """One report"""
        return service.get_report(db.session(), reference)

    @staff.doc(security=BEARER)
    @staff.arguments(ReportUpdate)
    @staff.response(200, ReportOut)
    def patch(self, payload: dict[str, Any], reference: str) -> ScamReport:
        """Move a report along the queue, with a note"""
        report = service.update_report(
            db.session(),
            reference,
            status=payload["status"],
            note=payload["note"],
            actor=current_actor(),
            now=clock.now(),
        )
        db.session.commit()
        return report
