"""The callback engine: events become prioritized, compliant, exactly-once verification calls."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The callback policy, the events API, what happens when a call ends, and the dialer's
    ticks."""
    from app.callbacks import engine
    from app.callbacks.line import register_actions
    from app.callbacks.policy import load_policy
    from app.callbacks.views import events_blp
    from app.calls.service import call_ended
    from app.customers.service import phone_changed
    from app.messaging.engine import collecting

    app.extensions["callback_policy"] = load_policy(app.config.get("CALLBACK_POLICY_FILE"))
    registry = registry_of(app)
    registry.api_blueprint(events_blp)
    registry.receiver(call_ended, engine.on_call_ended)
    registry.receiver(phone_changed, engine.on_phone_changed)
    register_actions(registry)  # one call carries a customer's several matters
    # Every DISPATCH_TICK_SECONDS, and at once when an urgent callback is queued (a hint).
    registry.tick("dispatch", engine.dispatch_every, engine.dispatch, wake=True)
    registry.tick("reap", engine.reap_every, engine.reap)
    registry.tick("escalate", 60.0, engine.escalate)
    # The outbox asks each round for the notices of callbacks we gave up on.
    registry.receiver(collecting, engine.queue_notices_due)
