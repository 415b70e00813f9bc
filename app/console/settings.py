"""Your settings: the console's language and the zone its times are shown in."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.audit.service import record
from app.console.blueprint import back, bp, requires_role
from app.console.forms import Form, read
from app.extensions import db
from app.i18n import LANGUAGE_NAMES, common_zones, valid_zone
from app.locales import SUPPORTED_LOCALES
from app.staff.auth import READ, current_staff, staff_actor


class SettingsForm(Form):
    language = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SUPPORTED_LOCALES, error="one of {choices}"),
    )
    time_zone = ma.fields.String(load_default="")


@bp.route("/me", methods=["GET", "POST"])
@requires_role(READ)
def settings() -> str | Response | tuple[str, int]:
    me = current_staff()
    assert me is not None  # requires_role signed them in
    if request.method == "GET":
        return render_template(
            "console/settings.html", languages=LANGUAGE_NAMES, zones=common_zones(), error=None
        )
    form = read(SettingsForm, request.form)
    zone = form["time_zone"].strip()
    if zone and not valid_zone(zone):
        return render_template(
            "console/settings.html",
            languages=LANGUAGE_NAMES,
            zones=common_zones(),
            error=_("That is not a time zone we know. Pick one from the list."),
        ), 422
    before = {"language": me.language, "time_zone": me.time_zone}
    me.language = form["language"]
    me.time_zone = zone or None
    record(
        db.session(),
        actor=staff_actor(),
        action="staff.settings_changed",
        subject_type="staff_user",
        subject_id=me.id,
        changes={"before": before, "after": {"language": me.language, "time_zone": me.time_zone}},
    )
    db.session.commit()
    with force_locale(me.language):  # the message is read in the language just chosen
        message = _("Your settings are saved.")
    return back(message, "console.settings")
