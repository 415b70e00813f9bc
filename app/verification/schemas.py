"""What the verification API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.inputs import InputSchema, MultilineString
from app.verification.models import CodePurpose
from app.verification.service import UNLOCKED_BY


class AuthenticatorOut(ma.Schema):
    otpauth_uri = ma.fields.String(
        metadata={"description": "otpauth://totp/... for the app (RFC 6238, SHA-1, 6 digits, 30 s)"}
    )
    qr_svg_url = ma.fields.String(metadata={"description": "the same URI as a QR code (SVG)"})
    qr_png_url = ma.fields.String(metadata={"description": "the same URI as a QR code (PNG)"})
    qr_available_until = ma.fields.AwareDateTime()
    enrolled_at = ma.fields.AwareDateTime()


class AppCodeCreate(InputSchema):
    purpose = ma.fields.Enum(
        CodePurpose,
        by_value=True,
        load_default=CodePurpose.CALLBACK,
        metadata={"description": "callback (we call the customer) or inbound_call"},
    )
    callback_id = ma.fields.UUID(
        load_default=None, metadata={"description": "bind the code to this one callback"}
    )


class AppCodeOut(ma.Schema):
    code = ma.fields.String(metadata={"description": "for the app to show; never stored"})
    expires_at = ma.fields.AwareDateTime()
    purpose = ma.fields.String()
    callback_id = ma.fields.UUID(allow_none=True)


class Unlock(InputSchema):
    cleared_by = ma.fields.String(
        required=True,
        validate=validate.OneOf(UNLOCKED_BY),
        metadata={"description": "app (the customer succeeded in the app) or supervisor"},
    )
    note = MultilineString(load_default=None, validate=validate.Length(max=200))


class _Enrolment(ma.Schema):
    enrolled_at = ma.fields.AwareDateTime()
    first_used_at = ma.fields.AwareDateTime(allow_none=True)


class _LiveCode(ma.Schema):
    purpose = ma.fields.String()
    callback_id = ma.fields.UUID(allow_none=True)
    expires_at = ma.fields.AwareDateTime()


class VerificationStateOut(ma.Schema):
    customer_id = ma.fields.UUID()
    authenticator = ma.fields.Nested(_Enrolment, allow_none=True)
    app_code = ma.fields.Nested(_LiveCode, allow_none=True)
    locked = ma.fields.Boolean()
    locked_at = ma.fields.AwareDateTime(allow_none=True)
    failures = ma.fields.Integer(metadata={"description": "failed codes in the window"})
    max_failures = ma.fields.Integer()
