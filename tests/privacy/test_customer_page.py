"""The customer's own page, in a real browser (Debian's chromium, driven by Playwright):
what is held, one-click withdrawal, the export download; and links that do not work."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import sqlalchemy as sa

from server.consent.models import ConsentEvent
from tests.factories import make_customer, make_notice, record_consent
from tests.servers import chromium

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def page_link(live_server, world, customer) -> str:
    response = requests.post(f"{live_server}/api/v1/customers/{customer.id}/page-link",
                             json={}, headers=world.tablet_a.headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["url"]


def test_the_customer_sees_what_is_held_withdraws_in_one_click_and_downloads_it(
        live_server, browser, session, world, tmp_path):
    ada = make_customer(session, world.tablet_a.actor, given_name="Adélaïde",
                        email="ada@example.com", preferences={"sizes": ["M"]})
    notice = make_notice(session, channels=("sms", "email"))
    record_consent(session, world.tablet_a.actor, ada, "marketing", "sms", notice=notice)
    url = page_link(live_server, world, ada)
    assert url.startswith(live_server + "/me/")

    page = browser.new_page(accept_downloads=True)
    page.goto(url)
    assert page.get_by_role("heading", name="Hello Adélaïde").is_visible()
    assert page.get_by_text("ada@example.com").is_visible()
    assert page.get_by_text("enhanced").is_visible()  # the sizes they shared
    page.screenshot(path=str(tmp_path / "customer_page.png"), full_page=True)
    page.get_by_role("button", name="Withdraw marketing by sms").click()
    assert page.get_by_role("status").is_visible()
    assert page.get_by_role("button", name="Withdraw marketing by sms").count() == 0
    session.close()
    [(method, action)] = session.execute(
        sa.select(ConsentEvent.method, ConsentEvent.action).where(
            ConsentEvent.customer_id == ada.id, ConsentEvent.action == "withdraw")).all()
    assert method == "signed_link"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all your data (JSON)").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["sections"]["profile"][0]["email"] == "ada@example.com"
    page.close()


def test_a_forged_or_broken_link_shows_nothing(live_server, browser, session, world):
    ada = make_customer(session, world.tablet_a.actor, given_name="Adélaïde")
    url = page_link(live_server, world, ada)
    page = browser.new_page()
    for broken in (url[:-3] + "xyz", f"{live_server}/me/{uuid.uuid4()}",
                   f"{live_server}/me/{'x' * 3000}"):
        response = page.goto(broken)
        assert response.status == 404
        assert "Adélaïde" not in page.content()
    page.close()
    withdrawn = requests.post(f"{url[:-3]}xyz/withdraw", timeout=10,
                              data={"purpose": "marketing", "channel": "all"})
    assert withdrawn.status_code == 404
    odd = requests.post(f"{url}/withdraw", data={"purpose": "<script>", "channel": "fax"},
                        timeout=10)
    assert odd.status_code == 422
