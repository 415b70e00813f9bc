"""Campaigns reach their callbacks through the dial profile and the lifecycle: the pre-flight
counts both frequency caps, the kill switch audits each callback it ends, and the defaults come
from the policy file."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialHold,
    EventType,
    Priority,
)
from app.callbacks.policy import DialProfile
from app.campaigns import service
from app.customers.models import Customer
from app.extensions import db
from app.flows.registry import flows
from app.outcomes import Outcome
from tests.engine_fixtures import MORNING

pytestmark = pytest.mark.usefixtures("clock")
SUPERVISOR = Actor("staff:supervisor@bank.example")


@pytest.fixture
def audience(api):
    for i in range(3):
        response = api.post(
            "/api/v1/customers", json={"external_id": f"c{i}", "phone": f"+39 333 100 000{i}"}
        )
        assert response.status_code == 201
    return "external_id\nc0\nc1\nc2\n"


def new_campaign(app, csv_text: str, policy=None, **fields):
    policy = policy or app.extensions["callback_policy"]
    return service.create_campaign(
        db.session,
        policy=policy,
        flows=flows(),
        actor=SUPERVISOR,
        now=MORNING,
        name="Card renewal",
        purpose="your new card is on its way",
        flow="campaign_notice",
        starts_at=MORNING,
        ends_at=MORNING + timedelta(days=7),
        csv_text=csv_text,
        **fields,
    )


def called(customer: Customer, days_ago: list[float]) -> None:
    """Past attempts to this customer (a finished callback of another flow)."""
    callback = Callback(
        id=uuid.uuid4(),
        customer_id=customer.id,
        trigger=EventType.REGISTRATION,
        flow="registration_check",
        to_number=customer.phone,
        priority=Priority.MEDIUM,
        status=CallbackStatus.DONE,
        outcome=Outcome.UNREACHABLE,
        due_by=MORNING,
        next_attempt_at=MORNING,
        policy_version=1,
    )
    db.session.add(callback)
    db.session.flush()
    for number, days in enumerate(days_ago, start=1):
        db.session.add(
            CallbackAttempt(
                callback_id=callback.id,
                customer_id=customer.id,
                number=number,
                status=AttemptStatus.ENDED,
                worker="w1",
                started_at=MORNING - timedelta(days=days),
            )
        )


def test_the_preflight_counts_the_seven_day_cap_as_dialing_does(app, audience):
    """Pre-flight used to check the daily cap only: a customer called 7 times this week (once
    a day) was counted as one the campaign would call, and the dialer then put them off."""
    with app.app_context():
        policy = app.extensions["callback_policy"]
        campaign = new_campaign(app, audience)
        customers = db.session.scalars(sa.select(Customer).order_by(Customer.external_id)).all()
        called(customers[0], [0.1 + d for d in range(policy.cap_per_7_days)])  # the week's cap
        called(customers[1], [0.1, 0.2, 0.3])  # the day's cap
        called(customers[2], [2.5])  # once, days ago: may be called

        preflight = service.preflight(db.session, campaign, policy=policy, now=MORNING)

    assert preflight["excluded"]["frequency_cap"] == 2
    assert preflight["will_call"] == 1


def test_cancelling_a_campaign_audits_each_callback_it_ends(app, audience):
    with app.app_context():
        policy = app.extensions["callback_policy"]
        campaign = new_campaign(app, audience)
        assert service.start(db.session, campaign, policy=policy, actor=SUPERVISOR, now=MORNING)
        db.session.commit()

        service.cancel(db.session, campaign, actor=SUPERVISOR, now=MORNING)
        db.session.commit()

        ended = db.session.scalars(sa.select(Callback).where(Callback.campaign_id == campaign.id))
        ids = {str(c.id) for c in ended if c.outcome is Outcome.CANCELLED}
        entries = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "callback.done")
        ).all()

    assert len(ids) == 3
    assert {e.subject_id for e in entries} == ids
    assert {e.changes["why"] for e in entries} == {"campaign cancelled"}
    assert {e.actor for e in entries} == {SUPERVISOR.label}


def test_a_campaigns_callbacks_carry_its_dial_profile_and_its_pause(app, audience):
    with app.app_context():
        policy = app.extensions["callback_policy"]
        campaign = new_campaign(
            app, audience, window_start="10:00", max_attempts=2, retry_minutes=[45]
        )
        service.start(db.session, campaign, policy=policy, actor=SUPERVISOR, now=MORNING)
        db.session.commit()

        def callbacks():
            return db.session.scalars(
                sa.select(Callback).where(Callback.campaign_id == campaign.id)
            ).all()

        profiles = {policy.profile(c.dial_profile) for c in callbacks()}
        service.pause(db.session, campaign, actor=SUPERVISOR, now=MORNING)
        db.session.commit()
        paused = {c.dial_hold for c in callbacks()}
        service.resume(db.session, campaign, actor=SUPERVISOR, now=MORNING)
        db.session.commit()
        resumed = {c.dial_hold for c in callbacks()}

    (profile,) = profiles
    assert profile == DialProfile(
        window=(time(10), time(19)),
        retry_ladder=(timedelta(minutes=45),),
        max_attempts=2,
        calls_per_second=1.0,
        max_concurrent=5,
    )
    assert paused == {DialHold.PAUSED}
    assert resumed == {None}


def test_a_new_campaigns_defaults_come_from_the_policy_file(app, audience):
    with app.app_context():
        policy = app.extensions["callback_policy"]
        changed = dataclasses.replace(
            policy,
            campaign_defaults=dataclasses.replace(
                policy.campaign_defaults,
                window=(time(11), time(17)),
                retry_ladder=(timedelta(hours=1),),
                max_attempts=4,
            ),
        )
        campaign = new_campaign(app, audience, policy=changed)

    assert (campaign.window_start, campaign.window_end) == ("11:00", "17:00")
    assert (campaign.retry_minutes, campaign.max_attempts) == ([60], 4)
    assert (campaign.calls_per_second, campaign.max_concurrent) == (1.0, 5)
