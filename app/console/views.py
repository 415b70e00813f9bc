"""The supervisors' console: sign-in, the live dashboard, campaigns, and the work queues.

Server-rendered pages; htmx refreshes the live parts (no full-page reloads) and Chart.js draws
the charts. Every form carries the session's CSRF token; each route declares the roles that may
use it. One module per screen adds its routes to the one blueprint, `bp`, which the app
registers from here.
"""

from __future__ import annotations

from app.console import (  # noqa: F401 (imported for the routes they add to bp)
    audit,
    callbacks,
    campaigns,
    complaints,
    customers,
    dashboard,
    desk,
    do_not_call,
    fraud,
    numbers,
    settings,
    sign_in,
    staff,
    transcript,
    wall,
)
from app.console.blueprint import bp

__all__ = ["bp"]
