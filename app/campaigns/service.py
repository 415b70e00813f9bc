"""Campaigns: audience (CSV or segment), pre-flight, start/pause/resume/cancel, progress, runs.

A campaign is callbacks: each run expands its audience into queued callbacks in one
INSERT ... SELECT (app/callbacks/bulk.py), and the dispatcher dials them with the same limits and
exactly-once guarantees as any callback, plus the campaign's own window, pacing and attempts.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, delete, exists, false, func, insert, or_, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks import do_not_call, lifecycle
from app.callbacks.bulk import expand_callbacks
from app.callbacks.caps import FrequencyCap
from app.callbacks.models import Callback, CallbackStatus, EventType, Priority
from app.callbacks.policy import DialProfile, Policy
from app.callbacks.rules import CAMPAIGN_PAUSED
from app.callbacks.window import next_opening
from app.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Segment,
)
from app.customers.models import Customer
from app.errors import Conflict, InvalidInput, NotFound
from app.flows.definition import Flow, spoken_refusals
from app.flows.prompts import LANGUAGES
from app.flows.safety import refused_words
from app.i18n import lazy_label
from app.inputs import SINGLE_LINE_MESSAGE, is_printable
from app.phones import parse_phone, time_zones_of

MAX_ROW_ERRORS = 500
PURPOSE_MAX = 300
_CHUNK = 5000


def _clock(text: str, field: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise InvalidInput(_l("%(field)s: a time like 10:00", field=field), field=field) from None


def profile_of(campaign: Campaign) -> DialProfile:
    """How the campaign's callbacks are dialed: stored on each callback it queues."""
    return DialProfile(
        window=(
            _clock(campaign.window_start, "window_start"),
            _clock(campaign.window_end, "window_end"),
        ),
        retry_ladder=tuple(timedelta(minutes=m) for m in campaign.retry_minutes),
        max_attempts=campaign.max_attempts,
        calls_per_second=campaign.calls_per_second,
        max_concurrent=campaign.max_concurrent,
    )


def window_of(campaign: Campaign, policy: Policy) -> tuple[time, time]:
    """The campaign's daily window, never outside the legal one."""
    return policy.profile(profile_of(campaign).to_json()).window


def create_campaign(
    session: Session,
    *,
    policy: Policy,
    flows: dict[str, Flow],
    actor: Actor,
    now: datetime,
    name: str,
    purpose: str,
    flow: str,
    starts_at: datetime,
    ends_at: datetime,
    window_start: str | None = None,
    window_end: str | None = None,
    repeat_cron: str | None = None,
    calls_per_second: float | None = None,
    max_concurrent: int | None = None,
    max_attempts: int | None = None,
    retry_minutes: list[int] | None = None,
    segment_id: uuid.UUID | None = None,
    csv_text: str | None = None,
    purposes: dict[str, str] | None = None,
) -> Campaign:
    """A draft campaign. `purpose` is what it is about in English; `purposes` in the other
    languages ({"it": ...}): when given, every language of the audience needs its text."""
    if not name.strip():
        raise InvalidInput(_l("name: give the campaign a name"), field="name")
    for key, text in (("name", name), ("purpose", purpose)):
        if refused := refused_words(text):
            raise InvalidInput(
                _l(
                    "%(field)s: a call never asks for a secret (that is what scam calls do), and "
                    "this text would: it %(refused)s",
                    field=key,
                    refused=refused,
                ),
                field=key,
            )
    offered = campaign_flows(flows)
    if flow not in offered:
        raise InvalidInput(_l("flow: one of %(choices)s", choices=", ".join(offered)), field="flow")
    translated = _purposes(purposes)
    # The purpose is spoken inside the flow's own sentences: check what the callee would hear,
    # each text in its own language (the English one in every language that has none).
    texts = {"en": purpose.strip() or name.strip(), **translated}
    for key, text in texts.items():
        field = "purpose" if key == "en" else f"purposes.{key}"
        for node, language, refusal in spoken_refusals(flows[flow], {"campaign": text}):
            if (key == "en" and language in translated) or (key != "en" and language != key):
                continue
            raise InvalidInput(
                _l(
                    "%(field)s: a call never asks for a secret, and spoken in the '%(language)s' "
                    "message (%(flow)s, node %(node)s) this text would: it %(refused)s",
                    field=field,
                    language=language,
                    flow=flow,
                    node=node,
                    refused=refusal.describe(),
                ),
                field=field,
            )
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput(_l("starts_at: give dates with a time zone"), field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput(_l("ends_at: must be after starts_at"), field="ends_at")
    # What the supervisor leaves out comes from the policy file (campaign_defaults).
    defaults = policy.campaign_defaults
    start = _clock(window_start, "window_start") if window_start else defaults.window[0]
    end = _clock(window_end, "window_end") if window_end else defaults.window[1]
    if calls_per_second is None:
        calls_per_second = defaults.calls_per_second or 1.0
    if max_concurrent is None:
        max_concurrent = defaults.max_concurrent or 1
    if max_attempts is None:
        max_attempts = defaults.max_attempts
    if start >= end:
        raise InvalidInput(_l("window_end: must be after window_start"), field="window_end")
    legal_start, legal_end = policy.calling_window
    if start < legal_start or end > legal_end:
        raise InvalidInput(
            _l(
                "window_start: the daily window must lie inside the legal calling hours "
                "(%(start)s-%(end)s, callee's time)",
                start=legal_start.strftime("%H:%M"),
                end=legal_end.strftime("%H:%M"),
            ),
            field="window_start",
        )
    if not 0.1 <= calls_per_second <= 50:
        raise InvalidInput(_l("calls_per_second: 0.1 to 50"), field="calls_per_second")
    if not 1 <= max_concurrent <= 500:
        raise InvalidInput(_l("max_concurrent: 1 to 500"), field="max_concurrent")
    if not 1 <= max_attempts <= 10:
        raise InvalidInput(_l("max_attempts: 1 to 10"), field="max_attempts")
    ladder = (
        retry_minutes
        if retry_minutes is not None
        else [int(step.total_seconds() // 60) for step in defaults.retry_ladder]
    )
    if any(not isinstance(m, int) or not 1 <= m <= 7 * 24 * 60 for m in ladder):
        raise InvalidInput(
            _l("retry_minutes: minutes between tries, 1 to 10080"), field="retry_minutes"
        )
    next_run = None
    if repeat_cron:
        try:
            trigger = CronTrigger.from_crontab(repeat_cron.strip(), timezone=UTC)
        except ValueError as exc:
            raise InvalidInput(
                _l("repeat_cron: %(problem)s", problem=str(exc)), field="repeat_cron"
            ) from None
        next_run = trigger.get_next_fire_time(None, starts_at - timedelta(seconds=1))
    if (segment_id is None) == (csv_text is None):
        raise InvalidInput(_l("audience: upload a CSV or choose a segment"), field="audience")
    if segment_id is not None and session.get(Segment, segment_id) is None:
        raise InvalidInput(_l("segment_id: no such segment"), field="segment_id")
    campaign = Campaign(
        id=uuid.uuid4(),
        name=name.strip(),
        purpose=purpose.strip(),
        purposes=translated,
        flow=flow,
        segment_id=segment_id,
        starts_at=starts_at,
        ends_at=ends_at,
        window_start=f"{start:%H:%M}",
        window_end=f"{end:%H:%M}",
        repeat_cron=repeat_cron.strip() if repeat_cron else None,
        next_run_at=next_run,
        calls_per_second=calls_per_second,
        max_concurrent=max_concurrent,
        max_attempts=max_attempts,
        retry_minutes=ladder,
        created_by=actor.label,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    if csv_text is not None:
        load_csv(session, campaign, csv_text)
    if purposes is not None:
        _require_purposes(session, campaign)
    record(
        session,
        actor=actor,
        action="campaign.created",
        subject_type="campaign",
        subject_id=campaign.id,
        changes={
            "name": campaign.name,
            "flow": flow,
            "audience": "segment" if segment_id else "csv",
            "rows": campaign.rows_read,
            "row_errors": len(campaign.row_errors),
            "purposes": sorted(["en", *campaign.purposes])
            if campaign.purpose
            else sorted(campaign.purposes),
        },
    )
    return campaign


def campaign_flows(flows: dict[str, Flow]) -> list[str]:
    """The flows a campaign may use: outbound ones marked `campaign: true` in call_flows/."""
    return sorted(n for n, f in flows.items() if f.direction == "outbound" and f.campaign)


def _purposes(purposes: dict[str, str] | None) -> dict[str, str]:
    """The purpose in it, pl and zh: each a line of at most 300 characters, asking no secret."""
    found: dict[str, str] = {}
    for language, raw in sorted((purposes or {}).items()):
        if language not in LANGUAGES or language == "en":
            raise InvalidInput(
                _l(
                    "purposes: %(language)s is not one of it, pl, zh (English is the purpose)",
                    language=language,
                ),
                field="purposes",
            )
        text = (raw or "").strip()
        if len(text) > PURPOSE_MAX:
            raise InvalidInput(
                _l(
                    "purposes.%(language)s: at most %(count)d characters",
                    language=language,
                    count=PURPOSE_MAX,
                ),
                field=f"purposes.{language}",
            )
        if refused := refused_words(text):
            raise InvalidInput(
                _l(
                    "%(field)s: a call never asks for a secret (that is what scam calls do), and "
                    "this text would: it %(refused)s",
                    field="purposes." + language,
                    refused=refused,
                ),
                field=f"purposes.{language}",
            )
        if text:
            found[language] = text
    return found


def audience_languages(session: Session, campaign: Campaign) -> list[str]:
    """The languages the campaign's audience speaks (its calls speak each callee's)."""
    ids = audience(campaign, session).subquery()
    return sorted(
        session.scalars(select(Customer.locale).where(Customer.id.in_(select(ids.c[0]))).distinct())
    )


def _require_purposes(session: Session, campaign: Campaign) -> None:
    for language in audience_languages(session, campaign):
        given = campaign.purpose if language == "en" else campaign.purposes.get(language)
        if not given:
            field = "purpose" if language == "en" else f"purposes.{language}"
            raise InvalidInput(
                _l(
                    "%(field)s: the audience has customers who speak %(language)s: "
                    "say what the campaign is about in their language",
                    field=field,
                    language=language,
                ),
                field=field,
            )


def purpose_in(campaign: Campaign, language: str) -> str:
    """What the campaign is about, as a callee who speaks this language hears it."""
    return campaign.purposes.get(language) or campaign.purpose or campaign.name


def load_csv(session: Session, campaign: Campaign, text: str) -> None:
    """Rows of external_id and/or phone; each bad row is reported back with its line number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not header & {"external_id", "phone"}:
        raise InvalidInput(
            _l("audience: the CSV needs a header row with external_id or phone"), field="audience"
        )
    errors: list[dict[str, Any]] = []
    wanted: list[tuple[int, str | None, str | None]] = []
    for line, raw in enumerate(reader, start=2):
        # Cells past the header's columns come under the key None, as a list: not ours to read.
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        unprintable = next((v for v in row.values() if not is_printable(v)), None)
        if unprintable is not None:
            shown = unprintable.encode("unicode_escape").decode("ascii")[:40]
            errors.append({"line": line, "value": shown, "error": SINGLE_LINE_MESSAGE})
            continue
        external_id, raw_phone = row.get("external_id") or None, row.get("phone") or None
        phone = None
        if raw_phone:
            try:
                phone = parse_phone(raw_phone, field="phone").e164
            except InvalidInput as exc:
                errors.append({"line": line, "value": raw_phone[:40], "error": str(exc)})
                continue
        if not external_id and not phone:
            errors.append({"line": line, "value": "", "error": "no external_id and no phone"})
            continue
        wanted.append((line, external_id, phone))
    by_external: dict[str, uuid.UUID] = {}
    by_phone: dict[str, uuid.UUID] = {}
    externals = [e for _, e, _ in wanted if e]
    phones = [p for _, e, p in wanted if p and not e]
    for i in range(0, len(externals), _CHUNK):
        by_external.update(
            session.execute(
                select(Customer.external_id, Customer.id).where(
                    Customer.external_id.in_(externals[i : i + _CHUNK])
                )
            ).all()
        )
    for i in range(0, len(phones), _CHUNK):
        by_phone.update(
            session.execute(
                select(Customer.phone, Customer.id).where(
                    Customer.phone.in_(phones[i : i + _CHUNK])
                )
            ).all()
        )
    seen: set[uuid.UUID] = set()
    rows = []
    for line, external_id, phone in wanted:
        customer_id = by_external.get(external_id) if external_id else by_phone.get(phone or "")
        if customer_id is None:
            what = f"external_id {external_id}" if external_id else f"phone {phone}"
            errors.append(
                {"line": line, "value": external_id or phone, "error": f"no customer with {what}"}
            )
            continue
        if customer_id in seen:
            errors.append(
                {
                    "line": line,
                    "value": external_id or phone,
                    "error": "a duplicate of an earlier row",
                }
            )
            continue
        seen.add(customer_id)
        rows.append({"campaign_id": campaign.id, "customer_id": customer_id})
    for i in range(0, len(rows), _CHUNK):
        session.execute(insert(CampaignRecipient), rows[i : i + _CHUNK])
    campaign.rows_read = len(wanted) + sum(
        1 for e in errors if e["error"].startswith(("phone", "no external"))
    )
    campaign.rows_read = len(rows) + len(errors)
    campaign.row_errors = sorted(errors, key=lambda e: e["line"])[:MAX_ROW_ERRORS]
    campaign.queued = 0


def audience(campaign: Campaign, session: Session) -> Select[uuid.UUID]:
    """The customer ids a run calls."""
    if campaign.segment_id is None:
        return select(CampaignRecipient.customer_id).where(
            CampaignRecipient.campaign_id == campaign.id
        )
    segment = session.get_one(Segment, campaign.segment_id)
    query = select(Customer.id)
    if segment.locales:
        query = query.where(Customer.locale.in_(segment.locales))
    if segment.phone_prefix:
        query = query.where(Customer.phone.startswith(segment.phone_prefix))
    return query


def preflight(
    session: Session, campaign: Campaign, *, policy: Policy, now: datetime
) -> dict[str, Any]:
    """Before the start: how many will be called, and how many are left out and why."""
    ids = audience(campaign, session).subquery()
    members = select(Customer).where(Customer.id.in_(select(ids.c[0]))).subquery()
    blocked = do_not_call.listed(members.c.phone, campaign=True)
    open_ = exists().where(
        and_(
            Callback.customer_id == members.c.id,
            Callback.flow == campaign.flow,
            Callback.status != CallbackStatus.DONE,
            or_(Callback.campaign_id.is_(None), Callback.campaign_id != campaign.id),
        )
    )
    # The same caps as when dialing: per day and per 7 days.
    capped = FrequencyCap.of(policy).reached(members.c.id, now)
    # Time zones are few: decide once per zone whether its window opens before the end date.
    start, end = window_of(campaign, policy)
    begin = max(now, campaign.starts_at)
    zones = session.execute(
        select(members.c.time_zone, func.count()).group_by(members.c.time_zone)
    ).all()
    closed_zones = [
        zone
        for zone, _ in zones
        if zone is not None
        and (
            (opening := next_opening(begin, (zone,), start, end)) is None
            or opening > campaign.ends_at
        )
    ]
    no_zone_outside = 0
    for (phone,) in session.execute(select(members.c.phone).where(members.c.time_zone.is_(None))):
        opening = next_opening(begin, time_zones_of(phone), start, end)
        if opening is None or opening > campaign.ends_at:
            no_zone_outside += 1
    outside = members.c.time_zone.in_(closed_zones) if closed_zones else false()
    reason = case(
        (blocked, "do_not_call"),
        (open_, "already_in_a_callback"),
        (capped, "frequency_cap"),
        (outside, "outside_every_window"),
        else_="ok",
    )
    counts: dict[str, int] = dict(
        session.execute(select(reason, func.count()).select_from(members).group_by(reason)).all()
    )
    counts["ok"] = counts.get("ok", 0) - no_zone_outside
    excluded = {
        "do_not_call": counts.get("do_not_call", 0),
        "already_in_a_callback": counts.get("already_in_a_callback", 0),
        "frequency_cap": counts.get("frequency_cap", 0),
        "outside_every_window": counts.get("outside_every_window", 0) + no_zone_outside,
    }
    rows = None
    if campaign.segment_id is None:
        # The CSV's rows and the people they name are counted apart: two rows may name one
        # customer, and a row may name nobody.
        people = session.scalar(
            select(func.count()).where(CampaignRecipient.campaign_id == campaign.id)
        )
        rows = {
            "read": campaign.rows_read,
            "usable": people or 0,
            "unusable": campaign.rows_read - (people or 0),
        }
    return {
        "rows": rows,
        "audience": sum(v for k, v in counts.items()) + no_zone_outside,
        "will_call": max(0, counts.get("ok", 0)),
        "excluded": excluded,
        "languages": audience_languages(session, campaign),
    }


# ----- running -----


def _change(
    session: Session, campaign: Campaign, status: CampaignStatus, actor: Actor, **extra: Any
) -> None:
    before = campaign.status
    campaign.status = status
    record(
        session,
        actor=actor,
        action=f"campaign.{status.value}",
        subject_type="campaign",
        subject_id=campaign.id,
        changes={"from": before.value, **extra},
    )


def start(
    session: Session, campaign: Campaign, *, policy: Policy, actor: Actor, now: datetime
) -> int:
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict(
            _l("the campaign's status is %(status)s", status=lazy_label(campaign.status)),
            field="status",
        )
    campaign.started_at = now
    if (campaign.next_run_at or campaign.starts_at) > now:
        _change(session, campaign, CampaignStatus.SCHEDULED, actor, starts_at=campaign.starts_at)
        return 0
    _change(session, campaign, CampaignStatus.RUNNING, actor)
    return run(session, campaign, policy=policy, now=now)


def run(session: Session, campaign: Campaign, *, policy: Policy, now: datetime) -> int:
    """One run: the audience becomes queued callbacks, in bulk, on the server; each callee
    hears the purpose in their own language (one bulk insert per language)."""
    everyone = audience(campaign, session).subquery()
    member = everyone.c[0]
    translated = sorted(campaign.purposes or {})
    groups: list[tuple[Select[Any], str]] = [
        (select(member).where(member.in_(_speaking(language))), purpose_in(campaign, language))
        for language in translated
    ]
    others = select(member)
    if translated:
        others = others.where(member.not_in(_speaking(*translated)))
    groups.append((others, campaign.purpose or campaign.name))
    queued = 0
    for customers, purpose in groups:
        queued += expand_callbacks(
            session,
            customers=customers,
            policy=policy,
            trigger=EventType.CAMPAIGN,
            flow=campaign.flow,
            priority=Priority.LOW,
            now=now,
            start_at=now,
            due_by=campaign.ends_at,
            reason=f"campaign: {campaign.name}"[:120],
            campaign_id=campaign.id,
            skip_do_not_call=True,
            variables={"campaign": purpose},
            profile=profile_of(campaign),
        )
    campaign.queued += queued
    campaign.runs += 1
    campaign.status = CampaignStatus.RUNNING
    if campaign.repeat_cron:
        trigger = CronTrigger.from_crontab(campaign.repeat_cron, timezone=UTC)
        following = trigger.get_next_fire_time(None, now)
        campaign.next_run_at = following if following and following < campaign.ends_at else None
    else:
        campaign.next_run_at = None
    record(
        session,
        actor=Actor("worker:campaigns" if campaign.runs > 1 else campaign.created_by),
        action="campaign.run",
        subject_type="campaign",
        subject_id=campaign.id,
        changes={"run": campaign.runs, "queued": queued},
    )
    return queued


def _speaking(*languages: str) -> Select[Any]:
    return select(Customer.id).where(Customer.locale.in_(languages))


def pause(session: Session, campaign: Campaign, *, actor: Actor, now: datetime) -> None:
    if campaign.status not in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
        raise Conflict(
            _l(
                "a campaign whose status is %(status)s cannot be paused",
                status=lazy_label(campaign.status),
            ),
            field="status",
        )
    held = lifecycle.hold_campaign(session, campaign.id, why=CAMPAIGN_PAUSED)
    _change(session, campaign, CampaignStatus.PAUSED, actor, held=held)


def resume(session: Session, campaign: Campaign, *, actor: Actor, now: datetime) -> None:
    if campaign.status is not CampaignStatus.PAUSED:
        raise Conflict(
            _l(
                "a campaign whose status is %(status)s cannot be resumed",
                status=lazy_label(campaign.status),
            ),
            field="status",
        )
    released = lifecycle.release_campaign(session, campaign.id, now=now)
    status = CampaignStatus.RUNNING if campaign.runs else CampaignStatus.SCHEDULED
    _change(session, campaign, status, actor, released=released)


def cancel(session: Session, campaign: Campaign, *, actor: Actor, now: datetime) -> None:
    """The kill switch: nothing queued is dialed any more, at once (calls under way finish)."""
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise Conflict(
            _l("the campaign's status is already %(status)s", status=lazy_label(campaign.status)),
            field="status",
        )
    if campaign.status is CampaignStatus.DRAFT:
        raise Conflict(_l("a draft has nothing to cancel: delete it instead"), field="status")
    stopped = lifecycle.cancel_campaign(
        session, campaign.id, actor=actor, now=now, why="campaign cancelled"
    )
    campaign.finished_at = now
    campaign.next_run_at = None
    _change(session, campaign, CampaignStatus.CANCELLED, actor, stopped=stopped)


def delete_draft(session: Session, campaign: Campaign, *, actor: Actor) -> None:
    """A draft that was never started goes away with its audience (the audit log keeps it)."""
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict(
            _l(
                "a campaign whose status is %(status)s is kept: only a draft can be deleted",
                status=lazy_label(campaign.status),
            ),
            field="status",
        )
    record(
        session,
        actor=actor,
        action="campaign.deleted",
        subject_type="campaign",
        subject_id=campaign.id,
        changes={"name": campaign.name, "flow": campaign.flow, "rows": campaign.rows_read},
    )
    session.execute(delete(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id))
    session.delete(campaign)


def progress(session: Session, campaign: Campaign) -> dict[str, Any]:
    rows = session.execute(
        select(Callback.status, Callback.outcome, func.count())
        .where(Callback.campaign_id == campaign.id)
        .group_by(Callback.status, Callback.outcome)
    ).all()
    by_status: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for status, outcome, count in rows:
        by_status[status.value] = by_status.get(status.value, 0) + count
        if outcome is not None:
            by_outcome[outcome.value] = by_outcome.get(outcome.value, 0) + count
    total = sum(by_status.values())
    done = by_status.get("done", 0)
    return {
        "total": total,
        "done": done,
        "percent": round(100 * done / total) if total else 0,
        "by_status": by_status,
        "by_outcome": by_outcome,
    }


def tick(session: Session, *, policy: Policy, now: datetime) -> dict[str, int]:
    """The worker: start scheduled runs that are due; mark finished campaigns completed."""
    started = finished = 0
    due = session.scalars(
        select(Campaign)
        .where(
            Campaign.status.in_([CampaignStatus.SCHEDULED, CampaignStatus.RUNNING]),
            func.coalesce(Campaign.next_run_at, Campaign.starts_at) <= now,
            (Campaign.next_run_at.is_not(None)) | (Campaign.runs == 0),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for campaign in due:
        if now >= campaign.ends_at:
            campaign.next_run_at = None
            continue
        run(session, campaign, policy=policy, now=now)
        started += 1
    session.flush()
    running = session.scalars(
        select(Campaign).where(
            Campaign.status == CampaignStatus.RUNNING, Campaign.next_run_at.is_(None)
        )
    ).all()
    for campaign in running:
        still_open = session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.campaign_id == campaign.id, Callback.status != CallbackStatus.DONE)
        )
        if not still_open:
            campaign.finished_at = now
            _change(session, campaign, CampaignStatus.COMPLETED, Actor("worker:campaigns"))
            finished += 1
    session.commit()
    return {"started": started, "completed": finished}


def get(session: Session, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_l("no such campaign"))
    return campaign


def create_segment(
    session: Session, *, name: str, locales: list[str], phone_prefix: str | None, actor: Actor
) -> Segment:
    if not name.strip():
        raise InvalidInput(_l("name: give the segment a name"), field="name")
    if session.scalar(select(Segment.id).where(Segment.name == name.strip())):
        raise Conflict(_l("name: a segment has this name"), field="name")
    segment = Segment(
        id=uuid.uuid4(), name=name.strip(), locales=locales, phone_prefix=phone_prefix or None
    )
    session.add(segment)
    record(
        session,
        actor=actor,
        action="segment.created",
        subject_type="segment",
        subject_id=segment.name,
        changes={"locales": locales, "phone_prefix": phone_prefix},
    )
    return segment
