"""Calling hours in the callee's local time: when a call may be placed, and when next it may."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.customers.models import Customer
from app.phones import time_zones_of

HORIZON_DAYS = 8


def callee_zones(customer: Customer, to_number: str) -> tuple[str, ...]:
    """The zones the callee may be in; empty when unknown (then we do not call)."""
    if customer.time_zone_overridden and customer.time_zone:
        return (customer.time_zone,)
    zones = time_zones_of(to_number)
    if zones:
        return zones
    return (customer.time_zone,) if customer.time_zone else ()


def inside(moment: datetime, zones: tuple[str, ...], start: time, end: time) -> bool:
    """Inside calling hours in every zone (a number with several zones must fit all of them)."""
    if not zones:
        return False
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone)).time()
        if not start <= local < end:
            return False
    return True


def next_opening(
    moment: datetime, zones: tuple[str, ...], start: time, end: time
) -> datetime | None:
    """The first moment from `moment` on inside calling hours in every zone, or None."""
    if not zones:
        return None
    if inside(moment, zones, start, end):
        return moment
    # The shared window can only open when some zone's own window opens.
    candidates = sorted(
        opening for zone in zones for opening in _openings(moment, ZoneInfo(zone), start)
    )
    for candidate in candidates:
        if inside(candidate, zones, start, end):
            return candidate
    return None


def next_day_opening(
    moment: datetime, zones: tuple[str, ...], start: time, end: time
) -> datetime | None:
    """The opening of the next day's calling hours (an answering machine is tried again then)."""
    if not zones:
        return None
    local = moment.astimezone(ZoneInfo(zones[0]))
    tomorrow = datetime.combine(
        local.date() + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(zones[0])
    )
    return next_opening(tomorrow.astimezone(UTC), zones, start, end)


def _openings(moment: datetime, zone: ZoneInfo, start: time) -> list[datetime]:
    local_day = moment.astimezone(zone).date()
    openings = []
    for offset in range(HORIZON_DAYS + 1):
        # A wall-clock time in the zone: zoneinfo applies that day's offset (DST included).
        opening = datetime.combine(local_day + timedelta(days=offset), start, tzinfo=zone)
        opening = opening.astimezone(UTC)
        if opening > moment:
            openings.append(opening)
    return openings
