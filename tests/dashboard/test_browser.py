"""The dashboard in a real browser (Debian's chromium, driven by Playwright) against the
real server: log in, filter, open a request, change its status, see the charts, export
CSV, log out; a forged form refused; a store manager kept to their store. Screenshots
of the main pages are kept in tests/dashboard/screenshots/ (linked from the README)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.contact.models import FollowUp
from tests.factories import make_customer, make_note, make_notice, make_request, record_consent
from tests.servers import chromium

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def shop(session, world, people):
    a, b = world.tablet_a.actor, world.tablet_b.actor
    ada = make_customer(session, a, given_name="Ada", phone="+447911123456")
    notice = make_notice(session, purposes=("service",), channels=("sms", "email"))
    record_consent(session, a, ada, "service", "sms", notice=notice)
    boots = make_request(session, a, ada, sku="BT-3801", category="shoes",
                         due_date=date.today(), notify_channels=["sms"])
    make_note(session, a, ada, body="Wants them for a wedding", request_id=boots.id)
    for n, kind in enumerate(("special_order", "hold", "alteration", "back_in_stock")):
        make_request(session, a, ada, type=kind, sku=f"A-{n}", category="coats",
                     due_date=date.today() - timedelta(days=n + 1))
    dress = make_request(session, b, make_customer(session, b, given_name="Zoé"),
                         type="hold", sku="DR-0912", category="dresses")
    return {"boots": boots, "dress": dress}


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/dashboard/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/requests")


def test_head_office_works_through_a_request(live_server, browser, session, people, shop,
                                             tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280,
                                                                     "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/dashboard/")
    page.screenshot(path=str(SHOTS / "login.png"))
    log_in(page, live_server, people.admin)
    table = page.get_by_role("table", name="Requests")
    expect(table.get_by_text("DR-0912")).to_be_visible()

    page.get_by_label("Store").select_option("A-01")
    page.get_by_label("Type").select_option(["back_in_stock"])
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**store=A-01**")
    assert table.get_by_text("DR-0912").count() == 0
    expect(table.get_by_role("link", name="BT-3801")).to_be_visible()
    page.screenshot(path=str(SHOTS / "requests.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(exported).read_text(encoding="utf-8"))))
    assert sorted(row["sku"] for row in rows) == ["A-3", "BT-3801"]

    table.get_by_role("link", name="BT-3801").click()
    expect(page.get_by_text("Wants them for a wedding")).to_be_visible()
    assert page.get_by_role("table", name="Contact options").get_by_role(
        "cell", name="sms", exact=True).is_visible()
    page.screenshot(path=str(SHOTS / "request.png"), full_page=True)
    page.get_by_label("New status").select_option("ready")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status").get_by_text("Status changed to ready")).to_be_visible()
    session.close()
    assert session.scalar(sa.select(FollowUp.channel).where(
        FollowUp.request_id == shop["boots"].id)) == "sms"

    page.get_by_role("link", name="Who to call today").click()
    expect(page.get_by_role("region", name="Due today").get_by_text("BT-3801")).to_be_visible()
    page.screenshot(path=str(SHOTS / "today.png"), full_page=True)

    page.get_by_role("link", name="Charts").click()
    charts = page.locator("figure svg")
    assert charts.count() >= 5
    assert charts.first.bounding_box()["height"] > 50
    page.screenshot(path=str(SHOTS / "charts.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/dashboard/login")
    page.goto(f"{live_server}/dashboard/requests")
    assert "/dashboard/login" in page.url
    context.close()


def test_a_form_without_its_csrf_token_is_refused(live_server, browser, people, shop):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, people.admin)
    page.goto(f"{live_server}/dashboard/requests/{shop['boots'].id}")
    page.locator("input[name=csrf_token]").evaluate_all("inputs => inputs.forEach(i => i.remove())")
    page.get_by_label("New status").select_option("ready")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("alert").get_by_text("did not come from this site")).to_be_visible()
    page.goto(f"{live_server}/dashboard/requests/{shop['boots'].id}")
    assert page.locator("#status").inner_text().startswith("open")
    context.close()


def test_a_store_manager_sees_only_their_store(live_server, browser, people, shop):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, people.manager_a)
    table = page.get_by_role("table", name="Requests")
    expect(table.get_by_text("BT-3801")).to_be_visible()
    assert table.get_by_text("DR-0912").count() == 0
    assert page.get_by_label("Store").count() == 0  # no store picker for a manager
    response = page.goto(f"{live_server}/dashboard/requests/{shop['dress'].id}")
    assert response.status == 404
    context.close()
