"""The console's official numbers: a label that would ask for a secret is not saved."""

from __future__ import annotations

import html
import re

from app.extensions import db
from app.numbers.models import OfficialNumber
from tests.console.conftest import sign_in

OTHER_LANGUAGES = {"label_it": "Carte", "label_pl": "Karty", "label_zh": "银行卡服务"}


def test_a_label_asking_for_a_secret_is_not_saved_and_the_page_says_why(app, accounts):
    client = sign_in(app, "supervisor")

    response = client.post(
        "/console/numbers",
        data={
            "csrf_token": client.csrf,
            "phone": "+14155550177",
            "purpose": "inbound_hotline",
            "label": "Card line: tell us the three digits on the back of your card",
            **OTHER_LANGUAGES,
        },
        follow_redirects=True,
    )

    page = html.unescape(response.get_data(as_text=True))
    assert "Not saved: label: a call never asks for a secret" in page
    assert '("tell" ... "three digits on the back")' in page
    with app.app_context():
        assert db.session.query(OfficialNumber).count() == 0


def test_an_ordinary_label_is_saved(app, accounts):
    client = sign_in(app, "supervisor")

    response = client.post(
        "/console/numbers",
        data={
            "csrf_token": client.csrf,
            "phone": "+14155550177",
            "purpose": "inbound_hotline",
            "label": "Card services",
            **OTHER_LANGUAGES,
        },
        follow_redirects=True,
    )

    assert "+1 415-555-0177 is in service." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(OfficialNumber).count() == 1


def _many_numbers(app, count: int) -> list[str]:
    """`count` numbers in service, one a day, the newest first in the list; and a retired one."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    numbers = [f"+3902123450{i:02d}" for i in range(count)]
    with app.app_context():
        for i, number in enumerate(numbers):
            db.session.add(
                OfficialNumber(
                    phone=number,
                    purpose="outbound_verification",
                    label=f"Line {i}",
                    labels={"it": f"Linea {i}", "pl": f"Linia {i}", "zh": f"线路 {i}"},
                    active_from=start + timedelta(days=i),
                )
            )
        db.session.add(
            OfficialNumber(
                phone="+390299999999",
                purpose="outbound_verification",
                label="Old line",
                labels={},
                active_from=start - timedelta(days=400),
                retired_at=start - timedelta(days=10),
            )
        )
        db.session.commit()
    return numbers


def test_the_numbers_list_is_paged_and_searchable(app, accounts):
    _many_numbers(app, 30)
    client = sign_in(app, "auditor")

    first = html.unescape(client.get("/console/numbers?size=25").get_data(as_text=True))
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    second = html.unescape(client.get(html.unescape(older)).get_data(as_text=True))

    # Grouped as people write numbers; newest in service first; 30 split 25 + 5, none twice.
    shown = re.findall(r"<td[^>]*>(\+39 02 1234 50\d\d)</td>", first + second)
    assert len(shown) == 30 == len(set(shown))
    assert shown[0] == "+39 02 1234 5029" and shown[-1] == "+39 02 1234 5000"
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "+39 02 9999 9999" not in first + second  # retired: not "in service"

    retired = html.unescape(client.get("/console/numbers?state=retired").get_data(as_text=True))
    assert "+39 02 9999 9999" in retired and "+39 02 1234 50" not in retired

    found = html.unescape(client.get("/console/numbers?number=%2B39 02-1234-5007").text)
    assert re.findall(r"<td[^>]*>(\+39 02 1234 50\d\d)</td>", found) == ["+39 02 1234 5007"]

    none = html.unescape(client.get("/console/numbers?number=%2B44 20 7946 0999").text)
    assert "No number matches." in none


def test_a_bad_search_on_the_numbers_list_is_a_clear_refusal(app, accounts):
    client = sign_in(app, "auditor")

    typo = client.get("/console/numbers?number=12345")
    state = client.get("/console/numbers?state=everything")

    assert typo.status_code == 422 and state.status_code == 422
    assert "give the number with its country code" in html.unescape(typo.get_data(as_text=True))
