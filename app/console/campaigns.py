"""The campaigns screen: the list (paged, by status), a new campaign or segment, the audience
CSV's template, one campaign's pre-flight, progress (polled) and its start, pause and resume,
its cancel and a draft's delete (each after a confirmation)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import marshmallow as ma
from babel.dates import format_date
from flask import Response as FlaskResponse
from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus, Segment
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Flag, Form, Minutes, Moment, Number, Text, WholeNumber, read
from app.console.keyset import page_size, read_page
from app.errors import DomainError
from app.extensions import db
from app.flows.registry import flows
from app.locales import babel_locale
from app.staff.auth import READ, RUN, staff_actor

LOCALES = ("en", "it", "pl", "zh")


class CampaignForm(Form):
    # The sizes are the columns'; the service checks what the values mean.
    name = Text(120, load_default="")
    purpose = Text(300, load_default="")  # in English
    purpose_it = Text(300, load_default="")
    purpose_pl = Text(300, load_default="")
    purpose_zh = Text(300, load_default="")
    flow = Text(64, load_default="")
    starts_at = Moment(
        required=True, error_messages={"required": _l("a date between 1970 and 2999")}
    )
    ends_at = Moment(required=True, error_messages={"required": _l("a date between 1970 and 2999")})
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
        load_default=None, error_messages={"invalid_uuid": _l("no such segment")}
    )


class CampaignsQuery(Form):
    status = Choice(CampaignStatus, load_default=None)
    after = ma.fields.String(load_default=None)
    before = ma.fields.String(load_default=None)


class ActionForm(Form):
    confirm = Flag(load_default=False)


class SegmentForm(Form):
    name = Text(120, load_default="")
    locales = ma.fields.List(ma.fields.String(), load_default=list)
    phone_prefix = Text(8, load_default=None)


@bp.app_template_filter("flow_title")
def flow_title(name: str) -> str:
    """A flow's short title in the reader's language (call_flows/*.yaml `title`), else its name."""
    found = flows().get(name)
    return found.title_in(str(get_locale() or "en")) if found else name


#: Why the pre-flight leaves a person out, in the reader's words.
EXCLUDED = {
    "do_not_call": _l("On the do-not-call list"),
    "already_in_a_callback": _l("Already waiting for a call of this kind"),
    "frequency_cap": _l("Called too often lately (the frequency cap)"),
    "outside_every_window": _l("No calling hours in their time zone before the end date"),
}


def row_problem(error: str) -> str:
    """A CSV row's problem (kept in English on the campaign) in the reader's words."""
    if error.startswith("no customer with external_id"):
        return _("No customer has this external_id")
    if error.startswith("no customer with phone"):
        return _("No customer has this phone number")
    if error == "a duplicate of an earlier row":
        return _("The same customer as an earlier row")
    if error == "no external_id and no phone":
        return _("Neither an external_id nor a phone number")
    if error.startswith("phone:"):
        return _("Not a phone number we can read")
    if error.startswith("control characters"):
        return _("Has control characters (such as a line break)")
    return error


@bp.app_context_processor
def _campaign_words() -> dict[str, object]:
    return {"excluded_reasons": EXCLUDED, "day": _day, "row_problem": row_problem}


def _day(moment: datetime) -> str:
    """A campaign's start or end date (kept as midnight UTC) as the reader writes dates."""
    return format_date(moment.date(), "medium", locale=babel_locale(str(get_locale() or "en")))


@bp.get("/campaigns", endpoint="campaigns")
@requires_role(READ)
def campaigns_page() -> str:
    args = read(CampaignsQuery, request.args)
    query = select(Campaign)
    if args["status"] is not None:
        query = query.where(Campaign.status == args["status"])
    size = page_size(request.args.get("size"))
    page = read_page(
        db.session(),
        query,
        moment=Campaign.created_at,
        key=Campaign.id,
        key_type=uuid.UUID,
        after=args["after"],
        before=args["before"],
        size=size,
    )
    segments = db.session.scalars(select(Segment).order_by(Segment.name)).all()
    today = now().date()
    defaults = current_app.extensions["callback_policy"].campaign_defaults
    return render_template(
        "console/campaigns.html",
        page=page,
        size=size,
        filters=args,
        statuses=list(CampaignStatus),
        segments=segments,
        flows=campaigns.campaign_flows(flows()),
        locales=LOCALES,
        today=today.isoformat(),
        later=(today + timedelta(days=7)).isoformat(),
        defaults=defaults,
        default_retry_minutes=",".join(
            str(int(step.total_seconds() // 60)) for step in defaults.retry_ladder
        ),
        progress={c.id: campaigns.progress(db.session(), c) for c in page.rows},
    )


#: The audience CSV's template: its header and two example rows (one by id, one by number).
TEMPLATE = "external_id,phone\r\nc-1001,\r\n,+39 333 123 4567\r\n"


@bp.get("/campaigns/audience-template.csv")
@requires_role(READ)
def campaign_template() -> FlaskResponse:
    return FlaskResponse(
        TEMPLATE,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="campaign-audience.csv"'},
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
            purposes={language: form[f"purpose_{language}"] for language in LOCALES[1:]},
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not created: %(reason)s", reason=exc.message), "console.campaigns")
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
        return refused(_("Not created: %(reason)s", reason=exc.message), "console.campaigns")
    db.session.commit()
    return back(_("Segment saved."), "console.campaigns")


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


#: What the supervisor is told once an action is done.
DONE = {
    "pause": _l("Paused: no new calls are dialled until you resume. Calls under way finish."),
    "resume": _l("Resumed: calls are dialled again within the daily window."),
    "cancel": _l("Cancelled: nothing more is dialled. Calls under way finish."),
}
#: The actions that cannot be undone, and so are confirmed first.
CONFIRMED = ("cancel", "delete")


@bp.post("/campaigns/<uuid:campaign_id>/<any(start, pause, resume, cancel, delete):action>")
@requires_role(RUN)
def campaign_action(campaign_id: uuid.UUID, action: str) -> Response | str:
    item = campaigns.get(db.session(), campaign_id)
    try:
        confirmed = read(ActionForm, request.form)["confirm"]
        if action in CONFIRMED and not confirmed:
            preflight = campaigns.preflight(
                db.session(), item, policy=current_app.extensions["callback_policy"], now=now()
            )
            return render_template(
                "console/campaign_confirm.html",
                campaign=item,
                action=action,
                preflight=preflight,
                progress=campaigns.progress(db.session(), item),
            )
        if action == "start":
            queued = campaigns.start(
                db.session(),
                item,
                policy=current_app.extensions["callback_policy"],
                actor=staff_actor(),
                now=now(),
            )
            message = (
                _("Started: %(count)s calls queued.", count=queued)
                if queued
                else _("Scheduled: calls start on its start date, within the daily window.")
            )
        elif action == "delete":
            name = item.name
            campaigns.delete_draft(db.session(), item, actor=staff_actor())
            db.session.commit()
            return back(_("The draft “%(name)s” is deleted.", name=name), "console.campaigns")
        else:
            getattr(campaigns, action)(db.session(), item, actor=staff_actor(), now=now())
            message = str(DONE[action])
    except DomainError as exc:
        db.session.rollback()
        return refused(exc.message, "console.campaign", campaign_id=campaign_id)
    db.session.commit()
    return back(message, "console.campaign", campaign_id=campaign_id)
