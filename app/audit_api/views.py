"""Reading the audit log over the integrator API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import validate

from app.apikeys.auth import BEARER, require_api_key
from app.audit import service
from app.audit.models import AuditEvent
from app.extensions import db
from app.inputs import Blueprint, InputSchema

blp = require_api_key(
    Blueprint(
        "audit",
        __name__,
        url_prefix="/api/v1/audit-events",
        description="The append-only audit log (integrator key)",
    )
)


class AuditQuery(InputSchema):
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    action = ma.fields.String()
    # Entry ids are 64-bit: a larger number could only fail in the database.
    after_id = ma.fields.Integer(validate=validate.Range(min=0, max=2**63 - 1))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class AuditEventOut(ma.Schema):
    id = ma.fields.Integer()
    occurred_at = ma.fields.DateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    changes = ma.fields.Dict()
    request_id = ma.fields.String(allow_none=True)


@blp.route("")
class AuditEvents(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditEventOut(many=True))
    def get(self, query: dict[str, Any]) -> list[AuditEvent]:
        """Audit entries, oldest first; page with after_id"""
        return service.events(db.session(), **query)
