"""Integrator API for campaigns: create one from a CSV or a segment, read its pre-flight and
progress, start, pause, resume and cancel it (the console's campaign screens, for machines)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.campaigns import service
from app.campaigns.models import Campaign
from app.campaigns.schemas import CampaignCreate, CampaignOut, PreflightOut
from app.clock import now
from app.extensions import db
from app.flows.registry import flows
from app.inputs import Blueprint

blp = require_api_key(
    Blueprint(
        "campaigns",
        __name__,
        url_prefix="/api/v1/campaigns",
        description="Campaigns: many customers called about one matter (integrator key)",
    )
)


def _out(campaign: Campaign) -> dict[str, Any]:
    fields = {key: getattr(campaign, key) for key in CampaignOut().fields if key != "progress"}
    return {**fields, "progress": service.progress(db.session(), campaign)}


@blp.route("")
class Campaigns(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CampaignCreate)
    @blp.response(201, CampaignOut)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a draft campaign from a CSV audience or a saved segment"""
        csv_text = payload.pop("csv")
        campaign = service.create_campaign(
            db.session(),
            policy=current_app.extensions["callback_policy"],
            flows=flows(),
            actor=current_actor(),
            now=now(),
            csv_text=csv_text,
            **payload,
        )
        db.session.commit()
        return _out(campaign)


@blp.route("/<uuid:campaign_id>")
class CampaignById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CampaignOut)
    def get(self, campaign_id: uuid.UUID) -> dict[str, Any]:
        """A campaign, with its progress"""
        return _out(service.get(db.session(), campaign_id))


@blp.route("/<uuid:campaign_id>/preflight")
class CampaignPreflight(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, PreflightOut)
    def get(self, campaign_id: uuid.UUID) -> dict[str, Any]:
        """Who would be called now: rows and people counted apart, those left out and why"""
        campaign = service.get(db.session(), campaign_id)
        return service.preflight(
            db.session(), campaign, policy=current_app.extensions["callback_policy"], now=now()
        )


def _action(name: str, summary: str) -> type[MethodView]:
    class Action(MethodView):
        @blp.doc(security=BEARER, summary=summary)
        @blp.response(200, CampaignOut)
        @blp.alt_response(409, description="not possible in the campaign's status")
        def post(self, campaign_id: uuid.UUID) -> dict[str, Any]:
            campaign = service.get(db.session(), campaign_id)
            if name == "start":
                service.start(
                    db.session(),
                    campaign,
                    policy=current_app.extensions["callback_policy"],
                    actor=current_actor(),
                    now=now(),
                )
            else:
                getattr(service, name)(db.session(), campaign, actor=current_actor(), now=now())
            db.session.commit()
            return _out(campaign)

    Action.__name__ = f"Campaign{name.title()}"
    return Action


for _name, _summary in (
    ("start", "Start a draft: it runs now, or is scheduled for its start date"),
    ("pause", "Pause: nothing new is dialled until it is resumed"),
    ("resume", "Resume a paused campaign"),
    ("cancel", "Cancel for good: nothing more is dialled (calls under way finish)"),
):
    blp.route(f"/<uuid:campaign_id>/{_name}", endpoint=f"campaign_{_name}")(
        _action(_name, _summary)
    )
