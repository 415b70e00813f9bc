"""Complaints API: the public intake and status lookup (CONTRACT), and the staff queue (key)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import current_app
from flask.views import MethodView

from app import clock
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.authenticity.views import person_regions, request_locale
from app.complaints import references, service
from app.complaints.models import Complaint, ComplaintChannel, ComplaintNote
from app.complaints.policy import ComplaintsPolicy
from app.complaints.schemas import (
    ComplaintCreated,
    ComplaintDetail,
    ComplaintIn,
    ComplaintPublic,
    ComplaintStaff,
    ComplaintUpdate,
    NoteIn,
    NoteOut,
    QueueQuery,
    RecurringQuery,
    StatusQuery,
)
from app.complaints.web import satisfaction_link
from app.extensions import db
from app.inputs import Blueprint
from app.ratelimit import enforce

public = Blueprint(
    "complaints",
    __name__,
    url_prefix="/api/v1/complaints",
    description="Complaints: intake and status lookup (public, rate-limited)",
)
staff = require_api_key(
    Blueprint(
        "complaint_queue",
        __name__,
        url_prefix="/api/v1/complaint-queue",
        description="Complaints for staff: the queue, assignment, notes, status (integrator key)",
    )
)


def policy() -> ComplaintsPolicy:
    return current_app.extensions["complaints_policy"]


@public.route("")
class Complaints(MethodView):
    @public.arguments(ComplaintIn)
    @public.response(201, ComplaintCreated)
    @public.alt_response(409, description="no unique reference could be made; try again")
    @public.alt_response(429, description="too many complaints from this address")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """File a complaint"""
        enforce("complaint:address", what="complaints from your address")
        locale = request_locale(payload["lang"])
        complaint = service.file_complaint(
            db.session(),
            policy=policy(),
            phone=payload["phone"],
            text=payload["text"],
            category=payload["category"],
            channel=ComplaintChannel(payload["channel"]),
            now=clock.now(),
            actor=current_actor(),
            company=current_app.config["COMPANY_NAME"],
            locale=locale,
            regions=person_regions(payload["region"], locale),
            email=payload["email"],
            call_reference=payload["call_reference"],
            callback_id=payload["callback_id"],
            call_me=payload["call_me"],
        )
        db.session.commit()
        return {
            "reference": complaint.reference,
            "due_by": complaint.first_response_due,
            "final_response_due": complaint.final_response_due,
            "department": complaint.department,
        }


@public.route("/<complaint_reference:reference>")
class ComplaintStatus(MethodView):
    @public.arguments(StatusQuery, location="query")
    @public.response(200, ComplaintPublic)
    @public.alt_response(404, description="no complaint with this reference and phone")
    def get(self, query: dict[str, Any], reference: str) -> dict[str, Any]:
        """A complaint's status, by its reference and the phone number that filed it"""
        enforce("complaint_status:address", what="lookups from your address")
        canonical = references.normalize(reference)  # a malformed one is not found unlooked
        if canonical:
            enforce("complaint_status:reference", canonical, what="lookups of this reference")
        complaint = service.find_for_customer(
            db.session(),
            reference,
            query["phone"],
            regions=person_regions(query["region"], request_locale(None)),
        )
        return service.public_view(complaint)


@staff.route("")
class Queue(MethodView):
    @staff.doc(security=BEARER)
    @staff.arguments(QueueQuery, location="query")
    @staff.response(200, ComplaintStaff(many=True))
    def get(self, query: dict[str, Any]) -> list[Complaint]:
        """Complaints by first-response deadline"""
        return service.queue(db.session(), now=clock.now(), **query)


@staff.route("/recurring")
class Recurring(MethodView):
    @staff.doc(security=BEARER)
    @staff.arguments(RecurringQuery, location="query")
    @staff.response(200)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Counts per category and week, and the phrases that come back"""
        return service.recurring(db.session(), weeks=query["weeks"], now=clock.now())


def _detail(complaint: Complaint) -> SimpleNamespace:
    columns = {c.key: getattr(complaint, c.key) for c in complaint.__table__.columns}
    return SimpleNamespace(**columns, notes=service.notes(db.session(), complaint))


@staff.route("/<complaint_reference:reference>")
class QueueItem(MethodView):
    @staff.doc(security=BEARER)
    @staff.response(200, ComplaintDetail)
    def get(self, reference: str) -> SimpleNamespace:
        """One complaint, with its notes"""
        return _detail(service.get(db.session(), reference))

    @staff.doc(security=BEARER)
    @staff.arguments(ComplaintUpdate)
    @staff.response(200, ComplaintDetail)
    @staff.alt_response(409, description="the complaint cannot move to that status")
    def patch(self, payload: dict[str, Any], reference: str) -> SimpleNamespace:
        """Assign it, or move its status (the customer hears of the changes that matter)"""
        complaint = service.update(
            db.session(),
            reference,
            actor=current_actor(),
            now=clock.now(),
            company=current_app.config["COMPANY_NAME"],
            policy=policy(),
            satisfaction_link=satisfaction_link,
            **payload,
        )
        db.session.commit()
        return _detail(complaint)


@staff.route("/<complaint_reference:reference>/notes")
class Notes(MethodView):
    @staff.doc(security=BEARER)
    @staff.arguments(NoteIn)
    @staff.response(201, NoteOut)
    def post(self, payload: dict[str, Any], reference: str) -> ComplaintNote:
        """Add a note: internal, or to the customer (sent by text and email)"""
        note = service.add_note(
            db.session(),
            reference,
            text=payload["text"],
            to_customer=payload["to_customer"],
            actor=current_actor(),
            now=clock.now(),
            company=current_app.config["COMPANY_NAME"],
        )
        db.session.commit()
        return note
