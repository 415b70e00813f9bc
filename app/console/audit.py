"""The audit log screen: who did what, filtered and paged, each subject a link to its record; or
every entry the filter matches as a CSV for a spreadsheet, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Response, render_template, request, stream_with_context
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import Select, select

from app.audit.models import AuditEvent
from app.console.blueprint import bp, requires_role
from app.console.forms import Form, WholeNumber, read
from app.console.records import (
    PAGE_SIZES,
    SUBJECTS,
    Page,
    action_label,
    actor_names,
    change_lines,
    paged,
    subject_label,
    subject_link,
    subject_names,
    whole_number_keyset,
)
from app.errors import InvalidInput
from app.extensions import db
from app.staff.auth import READ

MAX_ROWS = 10_000
#: How many entries the CSV reads from the database at a time.
CSV_BATCH = 1000
CSV_COLUMNS = ["id", "at", "actor", "action", "subject_type", "subject_id", "changes", "request_id"]


class AuditQuery(Form):
    limit = WholeNumber(1, MAX_ROWS, load_default=50)  # entries per page
    action = ma.fields.String(load_default="")  # the start of an action: "callback." finds all
    subject_type = ma.fields.String(load_default="")
    subject_id = ma.fields.String(load_default="")
    actor = ma.fields.String(load_default="")  # an actor label, or a member of staff's email
    since = ma.fields.String(load_default="")  # a day (YYYY-MM-DD) in the reader's zone
    until = ma.fields.String(load_default="")  # a day, included
    after = ma.fields.String(load_default="")
    before = ma.fields.String(load_default="")


FILTERS = ("action", "subject_type", "subject_id", "actor", "since", "until", "limit")


def _day_starts(text: str, field: str) -> datetime | None:
    """The start of a day typed as YYYY-MM-DD, in the reader's zone; None when not given."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(_("Choose a day (YYYY-MM-DD)"), field=field) from None
    if not 1970 <= day.year <= 2999:
        raise InvalidInput(_("Choose a day (YYYY-MM-DD)"), field=field)
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(str(get_timezone())))


def _filtered(args: dict[str, Any]) -> Select[AuditEvent]:
    query = select(AuditEvent)
    for key, column in (
        ("action", AuditEvent.action),
        ("subject_type", AuditEvent.subject_type),
        ("subject_id", AuditEvent.subject_id),
    ):
        value = args[key].strip()
        if value:
            query = query.where(column.startswith(value) if key == "action" else column == value)
    since, until = _day_starts(args["since"], "since"), _day_starts(args["until"], "until")
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until + timedelta(days=1))
    actor = args["actor"].strip()
    if actor:
        # A member of staff is found by their email as well as by the label the log keeps.
        query = query.where(
            AuditEvent.actor.in_([actor, f"staff:{actor}"]) if "@" in actor and ":" not in actor
            else AuditEvent.actor == actor
        )  # fmt: skip
    return query


def _keyset() -> Any:
    return whole_number_keyset(AuditEvent.id, lambda event: (event.id,))


@bp.get("/audit")
@requires_role(READ)
def audit() -> tuple[str, int] | str:
    session = db.session()
    filters = {key: request.args.get(key, "") for key in FILTERS}
    try:
        args = read(AuditQuery, request.args)
        page = paged(
            session,
            _filtered(args),
            _keyset(),
            size=args["limit"],
            after=args["after"] or None,
            before=args["before"] or None,
            row=lambda r: r[0],
        )
    except InvalidInput as error:
        return _page(Page(rows=[], size=50), filters, error), 422
    return _page(page, filters, None)


def _page(page: Page, filters: dict[str, str], error: InvalidInput | None) -> str:
    names = actor_names(db.session(), (event.actor for event in page.rows))
    about = subject_names(db.session(), ((e.subject_type, e.subject_id) for e in page.rows))
    entries = [
        {
            "event": event,
            "who": names[event.actor],
            "what": action_label(event.action),
            "subject": subject_label(event.subject_type),
            "link": subject_link(event.subject_type, event.subject_id),
            "name": about.get((event.subject_type, event.subject_id)),
            "changes": change_lines(event.changes or {}),
        }
        for event in page.rows
    ]
    kept = {key: value for key, value in filters.items() if value}
    return render_template(
        "console/audit.html",
        page=page,
        entries=entries,
        filters=filters,
        kept=kept,
        csv_filters={key: value for key, value in kept.items() if key != "limit"},
        error=error,
        subject_types=sorted(SUBJECTS.items(), key=lambda item: str(item[1])),
        page_sizes=PAGE_SIZES,
    )


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    # OWASP's CSV injection advice: =, +, -, @, tab and carriage return start a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _csv_rows(query: Select[AuditEvent]) -> Iterator[str]:
    """The CSV's lines: a header, then every matching entry, newest first, read in batches (each
    after the last one's id, so a long export holds no cursor open between batches)."""
    yield _csv_line(list(CSV_COLUMNS))
    last: int | None = None
    while True:
        batch = query.order_by(AuditEvent.id.desc()).limit(CSV_BATCH)
        if last is not None:
            batch = batch.where(AuditEvent.id < last)
        events = list(db.session.scalars(batch))
        for event in events:
            # The changes are real JSON (an object: it never starts like a formula).
            changes = json.dumps(event.changes, ensure_ascii=False, default=str, sort_keys=True)
            yield _csv_line(
                [
                    event.id,
                    event.occurred_at.isoformat(),
                    *map(
                        spreadsheet_safe,
                        (event.actor, event.action, event.subject_type, event.subject_id),
                    ),
                    spreadsheet_safe(changes),
                    spreadsheet_safe(event.request_id),
                ]
            )
        if len(events) < CSV_BATCH:
            return
        last = events[-1].id


@bp.get("/audit.csv")
@requires_role(READ)
def audit_csv() -> Response:
    """Every entry the filter matches (not one page), streamed as it is read."""
    args = read(AuditQuery, request.args)  # a bad filter: 422 before anything is sent
    return Response(
        stream_with_context(_csv_rows(_filtered(args))),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
