"""Rate limits for the public routes, with flask-limiter's storage: memory, or Redis if configured.

Limits are checked by name and key (the caller's address, or the number asked about), so a route
can limit both: one address trying many numbers, and many addresses trying one number.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many

from app.errors import RateLimited

#: name -> "limit;limit" (flask-limiter notation). Override in config with RATE_LIMITS.
DEFAULT_LIMITS = {
    "lookup:address": "30/minute;300/day",
    "lookup:number": "120/hour",
    # A reference has 6 digits: a few tries per phone number make guessing hopeless.
    "reference:address": "10/minute;60/day",
    "reference:phone": "5/hour;10/day",
    "report:address": "5/hour;20/day",
    "complaint:address": "10/hour;50/day",
    "complaint_status:address": "30/minute;300/day",
    # A wrong phone number for a reference answers "not found": a few tries per reference.
    "complaint_status:reference": "10/hour",
    # Freezing an account without the app: tries of a date of birth per number and per customer
    # (a wrong date and an unknown number are said alike), and the page's per address.
    "freeze:number": "5/hour;10/day",
    "freeze:customer": "5/hour;10/day",
    "freeze:address": "10/hour;50/day",
    # The console's sign-in: guessing passwords is slow from one address and for one account.
    "login:address": "20/15minutes",
    "login:email": "5/15minutes",
    # The second step (a code from the app or a recovery code), per account.
    "login:code": "5/15minutes;30/day",
    # Changing one's password asks for the current one: as slow to guess as at the sign-in.
    "password:staff": "5/15minutes",
}


def client_address() -> str:
    return request.remote_addr or "unknown"


def init_rate_limits(app: Flask) -> None:
    limiter = Limiter(
        key_func=client_address,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        strategy="moving-window",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "callcenter"),
        enabled=True,
    )
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter


def enforce(name: str, key: str | None = None, *, what: str = "requests") -> None:
    """Count one request against the named limits for key (default: the caller's address)."""
    limiter: Limiter = current_app.extensions["rate_limiter"]
    configured = {**DEFAULT_LIMITS, **(current_app.config.get("RATE_LIMITS") or {})}
    scope = (
        current_app.config.get("RATELIMIT_KEY_PREFIX", "callcenter"),
        name,
        key or client_address(),
    )
    for item in parse_many(configured[name]):
        if not limiter.limiter.hit(item, *scope):
            reset_at, _ = limiter.limiter.get_window_stats(item, *scope)
            wait = int(reset_at - time.time()) + 1
            raise RateLimited(
                f"too many {what}; please try again in {wait} seconds", retry_after=wait
            )


def reset_limits(app: Flask) -> None:
    """Forget every count (tests)."""
    app.extensions["rate_limiter"].reset()
