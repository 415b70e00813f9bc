"""The do-not-call list: one service adds, removes and answers "may we call?", with audit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks import do_not_call
from app.errors import InvalidInput, NotFound
from app.extensions import db

APP = Path(__file__).resolve().parents[2] / "app"


def test_a_number_is_added_once_removed_and_every_change_audited(app):
    with app.app_context():
        first = do_not_call.add(
            db.session, actor=Actor("test"), phone="+39 333 123 4567", reason="  asked us  "
        )
        again = do_not_call.add(
            db.session, actor=Actor("test"), phone="+393331234567", reason="again"
        )
        db.session.commit()
        listed = do_not_call.is_listed(db.session, "+393331234567")
        do_not_call.remove(db.session, actor=Actor("test"), phone="+39 333 123 4567")
        db.session.commit()

        assert first is again and (first.phone, first.reason, first.scope) == (
            "+393331234567",
            "asked us",
            "all",
        )
        assert listed and not do_not_call.is_listed(db.session, "+393331234567")
        assert [
            (e.action, e.subject_id) for e in db.session.query(AuditEvent).order_by(AuditEvent.id)
        ] == [("do_not_call.added", "+393331234567"), ("do_not_call.removed", "+393331234567")]


def test_a_campaign_opt_out_stops_campaigns_only(app):
    with app.app_context():
        do_not_call.add(
            db.session,
            actor=Actor("call:1"),
            phone="+48601100004",
            reason="opted out on a campaign call",
            scope=do_not_call.CAMPAIGNS,
            context={"call_id": "1"},
        )
        db.session.commit()

        assert do_not_call.is_listed(db.session, "+48601100004", campaign=True)
        assert not do_not_call.is_listed(db.session, "+48601100004")
        assert db.session.query(AuditEvent).one().changes == {
            "reason": "opted out on a campaign call",
            "call_id": "1",
        }


def test_removing_an_unlisted_number_or_adding_garbage_is_refused(app):
    with app.app_context():
        with pytest.raises(NotFound, match="is not on the do-not-call list"):
            do_not_call.remove(db.session, actor=Actor("test"), phone="+393331234567")
        with pytest.raises(InvalidInput, match="phone: "):
            do_not_call.add(db.session, actor=Actor("test"), phone="call me", reason="")
        assert do_not_call.entries(db.session) == []


def test_the_list_is_written_by_its_service_only():
    """A DoNotCall row is made only in app/callbacks/do_not_call.py."""
    writers = sorted(
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if re.search(r"(?<!class )\bDoNotCall\(", path.read_text())
    )

    assert writers == ["callbacks/do_not_call.py"]


def test_asking_off_every_call_widens_a_campaigns_only_opt_out(app):
    """Someone who opted out of campaigns and then asks for no calls at all gets no calls at all."""
    with app.app_context():
        do_not_call.add(
            db.session,
            actor=Actor("call:1"),
            phone="+393331234567",
            reason="opted out on a campaign call",
            scope=do_not_call.CAMPAIGNS,
        )
        db.session.commit()
        assert not do_not_call.is_listed(db.session, "+393331234567")
        do_not_call.add(
            db.session, actor=Actor("staff:1"), phone="+393331234567", reason="asked by letter"
        )
        db.session.commit()
        assert do_not_call.is_listed(db.session, "+393331234567")
        assert do_not_call.is_listed(db.session, "+393331234567", campaign=True)
