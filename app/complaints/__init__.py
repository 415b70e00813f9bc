"""Complaints: filed on the web, by API or on the phone line, answered before their deadline."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The complaints policy, pages, APIs, the phone line's actions, transcriptions of recorded
    complaints, and the deadline and message ticks."""
    from app.calls.service import transcription_failed, transcription_received
    from app.complaints import engine, line
    from app.complaints.policy import load_complaints_policy
    from app.complaints.references import ComplaintReferenceConverter
    from app.complaints.views import public, staff
    from app.complaints.web import bp, satisfaction_bp
    from app.messaging.engine import collecting

    app.extensions["complaints_policy"] = load_complaints_policy(
        app.config.get("COMPLAINTS_POLICY_FILE")
    )
    registry = registry_of(app)
    registry.converter("complaint_reference", ComplaintReferenceConverter)
    registry.blueprint(bp)
    registry.blueprint(satisfaction_bp)
    registry.api_blueprint(public)
    registry.api_blueprint(staff)
    registry.receiver(transcription_received, engine.on_transcription)
    registry.receiver(transcription_failed, engine.on_transcription_failed)
    registry.tick("complaint_deadlines", 60.0, engine.complaint_deadlines)
    # The outbox asks each round for the complaints' texts and e-mails that are due.
    registry.receiver(collecting, engine.queue_messages_due)
    line.register_actions(registry)
