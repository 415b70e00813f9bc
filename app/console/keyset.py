"""Keyset pagination for the console's long lists: "Newer" and "Older" links that stay right
while rows are added, and never an OFFSET that grows slower page by page.

A page is read after (or before) a cursor, the moment and key of the row at its edge, written
in the URL as `2026-11-30T12:00:00.000000Z~<key>`. A cursor that does not parse is a 400 naming
the parameter, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import DomainError

#: The page sizes a person may pick; the first is the default.
SIZES = (50, 25, 100)
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Page:
    """One page of rows, and the cursors of the pages either side (None: there is none)."""

    rows: Sequence[Any]
    before: str | None  # the cursor for the page before this one ("Newer" on a newest-first list)
    after: str | None  # the cursor for the page after this one


def cursor(moment: datetime, key: object) -> str:
    return f"{moment.astimezone(UTC).strftime(_FORMAT)}~{key}"


def _parse(raw: str, name: str, key_type: Callable[[str], Any]) -> tuple[datetime, Any]:
    moment, _, key = raw.partition("~")
    try:
        return datetime.strptime(moment, _FORMAT).replace(tzinfo=UTC), key_type(key)
    except (ValueError, TypeError):
        raise DomainError(
            _l("%(field)s: not a page of this list", field=name), field=name
        ) from None


def page_size(raw: str | None) -> int:
    """The page size asked for in the URL, one of SIZES (anything else: the default)."""
    return int(raw) if raw and raw.isdecimal() and int(raw) in SIZES else SIZES[0]


def read_page(
    session: Session,
    query: Select[Any],
    *,
    moment: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[Any],
    key_type: Callable[[str], Any] = str,
    after: str | None,
    before: str | None,
    size: int,
    newest_first: bool = True,
) -> Page:
    """The page of `query`'s rows after `after` (or before `before`), `size` rows at most."""

    def beyond(raw: str, name: str, forward: bool) -> Any:
        at, at_key = _parse(raw, name, key_type)
        later = forward != newest_first  # walking towards later moments
        if later:
            return or_(moment > at, and_(moment == at, key > at_key))
        return or_(moment < at, and_(moment == at, key < at_key))

    backwards = before is not None and after is None
    ascending = newest_first == backwards
    order = (moment.asc(), key.asc()) if ascending else (moment.desc(), key.desc())
    if backwards:
        assert before is not None
        query = query.where(beyond(before, "before", forward=False))
    elif after is not None:
        query = query.where(beyond(after, "after", forward=True))
    rows = list(session.scalars(query.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def edge(row: Any) -> str:
        return cursor(getattr(row, moment.key), getattr(row, key.key))

    if not rows:
        return Page(rows, None, None)
    has_before = more if backwards else after is not None
    has_after = True if backwards else more
    return Page(
        rows,
        before=edge(rows[0]) if has_before else None,
        after=edge(rows[-1]) if has_after else None,
    )
