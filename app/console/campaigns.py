"""The campaigns screen: the list, a new campaign or segment, one campaign's pre-flight,
progress (polled) and its start, pause, resume and cancel."""

from __future__ import annotations

import uuid
from datetime import timedelta

import marshmallow as ma
from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, Segment
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Form, Minutes, Moment, Number, Text, WholeNumber, read
from app.errors import DomainError
from app.extensions import db
from app.flows.registry import flows
from app.staff.auth import READ, RUN, staff_actor

LOCALES = ("en", "it", "pl", "zh")


class CampaignForm(Form):
    # The sizes are the columns'; the service checks what the values mean.
    name = Text(120, load_default="")
    purpose = Text(300, load_default="")
    flow = Text(64, load_default="")
    starts_at = Moment(required=True, error_messages={"required": "a date between 1970 and 2999"})
    ends_at = Moment(required=True, error_messages={"required": "a date between 1970 and 2999"})
    # Left out, these take the policy's campaign defaults (config/callback_policy.yaml).
    window_start = Text(5, load_default=None)
    window_end = Text(5, load_default=None)
    repeat_cron = Text(120, load_default=None)
    calls_per_second = Number(load_default=None)
    # The service names the ranges it accepts.
    max_concurrent = WholeNumber(load_default=None)
    max_attempts = WholeNumber(load_default=None)
    retry_minutes = Minutes(load_default=None)
    segment_id = ma.fields.UUID(
        load_default=None, error_messages={"invalid_uuid": "no such segment"}
    )


class SegmentForm(Form):
    name = Text(120, load_default="")
    locales = ma.fields.List(ma.fields.String(), load_default=list)
    phone_prefix = Text(8, load_default=None)


@bp.get("/campaigns", endpoint="campaigns")
@requires_role(READ)
def campaigns_page() -> str:
    rows = db.session.scalars(
        select(Campaign).order_by(Campaign.created_at.desc()).limit(100)
    ).all()
    segments = db.session.scalars(select(Segment).order_by(Segment.name)).all()
    outbound = sorted(n for n, f in flows().items() if f.direction == "outbound")
    today = now().date()
    defaults = current_app.extensions["callback_policy"].campaign_defaults
    return render_template(
        "console/campaigns.html",
        campaigns=rows,
        segments=segments,
        flows=outbound,
        today=today.isoformat(),
        later=(today + timedelta(days=7)).isoformat(),
        defaults=defaults,
        default_retry_minutes=",".join(
            str(int(step.total_seconds() // 60)) for step in defaults.retry_ladder
        ),
        progress={c.id: campaigns.progress(db.session(), c) for c in rows},
    )


@bp.post("/campaigns/new")
@requires_role(RUN)
def campaign_create() -> Response:
    upload = request.files.get("csv")
    csv_text = (
        upload.read().decode("utf-8", errors="replace") if upload and upload.filename else None
    )
    try:
        form = read(CampaignForm, request.form)
        campaign = campaigns.create_campaign(
            db.session(),
            policy=current_app.extensions["callback_policy"],
            flows=flows(),
            actor=staff_actor(),
            now=now(),
            name=form["name"],
            purpose=form["purpose"],
            flow=form["flow"],
            starts_at=form["starts_at"],
            ends_at=form["ends_at"],
            window_start=form["window_start"],
            window_end=form["window_end"],
            repeat_cron=form["repeat_cron"],
            calls_per_second=form["calls_per_second"],
            max_concurrent=form["max_concurrent"],
            max_attempts=form["max_attempts"],
            retry_minutes=form["retry_minutes"],
            segment_id=form["segment_id"] if not csv_text else None,
            csv_text=csv_text,
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not created: {exc.message}", "console.campaigns")
    db.session.commit()
    return redirect(url_for("console.campaign", campaign_id=campaign.id))


@bp.post("/segments")
@requires_role(RUN)
def segment_create() -> Response:
    try:
        form = read(SegmentForm, request.form)
        campaigns.create_segment(
            db.session(),
            name=form["name"],
            locales=[x for x in form["locales"] if x in LOCALES],
            phone_prefix=form["phone_prefix"].strip() if form["phone_prefix"] else None,
            actor=staff_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not created: {exc.message}", "console.campaigns")
    db.session.commit()
    return back("Segment saved.", "console.campaigns")


@bp.get("/campaigns/<uuid:campaign_id>")
@requires_role(READ)
def campaign(campaign_id: uuid.UUID) -> str:
    item = campaigns.get(db.session(), campaign_id)
    preflight = campaigns.preflight(
        db.session(), item, policy=current_app.extensions["callback_policy"], now=now()
    )
    return render_template(
        "console/campaign.html",
        campaign=item,
        preflight=preflight,
        progress=campaigns.progress(db.session(), item),
    )


@bp.get("/campaigns/<uuid:campaign_id>/progress")
@requires_role(READ, background=True)
def campaign_progress(campaign_id: uuid.UUID) -> str:
    item = campaigns.get(db.session(), campaign_id)
    return render_template(
        "console/_progress.html", campaign=item, progress=campaigns.progress(db.session(), item)
    )


DONE = {"pause": "Paused.", "resume": "Resumed.", "cancel": "Cancelled: nothing more is dialed."}


@bp.post("/campaigns/<uuid:campaign_id>/<any(start, pause, resume, cancel):action>")
@requires_role(RUN)
def campaign_action(campaign_id: uuid.UUID, action: str) -> Response:
    item = campaigns.get(db.session(), campaign_id)
    try:
        if action == "start":
            queued = campaigns.start(
                db.session(),
                item,
                policy=current_app.extensions["callback_policy"],
                actor=staff_actor(),
                now=now(),
            )
            message = f"Started: {queued} calls queued." if queued else "Scheduled."
        else:
            getattr(campaigns, action)(db.session(), item, actor=staff_actor(), now=now())
            message = DONE[action]
    except DomainError as exc:
        db.session.rollback()
        return refused(exc.message, "console.campaign", campaign_id=campaign_id)
    db.session.commit()
    return back(message, "console.campaign", campaign_id=campaign_id)
