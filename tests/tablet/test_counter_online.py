"""The counter, online, in a real browser: enrol from the QR code's link, find and add a
customer, capture a request and the customer's own consent answers, and see them on the
server."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from server.customer_requests import service as requests_service
from tests.factories import make_customer, make_notice, make_request
from tests.tablet.conftest import enrol, shot, wait_synced

pytestmark = pytest.mark.e2e


def server_get(live_server, tablet, path):
    response = requests.get(f"{live_server}{path}", headers=tablet.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_enrolling_from_the_qr_link_takes_the_key_out_of_the_address(
        live_server, context, tablet):
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    assert tablet.token not in page.url
    assert page.get_by_text("Store A").is_visible()
    assert page.get_by_test_id("network").inner_text() == "Online"
    page.reload()  # enrolled for good: the key is in IndexedDB, not in the address
    page.get_by_role("link", name="New customer").wait_for()
    assert page.locator("form", has_text="Enrol this tablet").count() == 0


def test_a_wrong_key_is_refused_on_the_enrolment_screen(live_server, context, tablet):
    page = context.new_page()
    page.goto(f"{live_server}/tablet/")
    page.get_by_label("Tablet key").fill("bb_nope_nope")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("alert").get_by_text("does not know this key").wait_for()
    assert page.get_by_role("link", name="New customer").count() == 0
    shot(page, "01-enrol")


def test_capture_customer_request_and_consent_online_reaches_the_server(
        live_server, context, tablet, session, world):
    make_customer(session, tablet.actor, given_name="Zoë", family_name="Martin",
                  email="zoe@example.com", phone="+447911123456")
    notice = make_notice(session, purposes=("marketing.local_offers",), channels=("sms", "email"),
                         title="Offers from your store",
                         value_exchange="Your number gets you first pick of new stock.")
    page = context.new_page()
    enrol(page, live_server, tablet.token)

    page.get_by_label("Find a customer").fill("07911 123456")
    page.get_by_test_id("results").get_by_text("Zoë Martin").wait_for()
    shot(page, "02-counter-search")

    page.get_by_role("link", name="New customer").click()
    page.get_by_label("First name").fill("Zoe")
    page.get_by_label("Last name").fill("Martin")
    page.get_by_test_id("candidates").get_by_text("Zoë Martin").wait_for()  # is this them?
    shot(page, "03-new-customer-is-this-them")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Email").fill("ada.okafor@example.com")
    page.get_by_label("Phone").fill("07911 123457")
    page.get_by_role("button", name="Add customer").click()
    page.get_by_role("heading", name="Zoe Okafor").wait_for()
    # The capture's own sync re-draws this page when it lands; a tap during the re-draw
    # can miss (a known rough edge of the counter flow: issue 21), so the test waits.
    wait_synced(page)

    page.get_by_role("link", name="New request").click()
    page.get_by_label("Special order").check()
    page.get_by_label("What they asked for").fill("Chelsea boot")
    page.get_by_label("Size").fill("38")
    page.get_by_label("Colour").fill("tan")
    page.get_by_label("Due date").fill("2030-05-01")
    page.get_by_label("email").check()
    shot(page, "04-request")
    page.get_by_role("button", name="Save request").click()
    page.get_by_text("Chelsea boot").wait_for()

    page.get_by_role("link", name="Hand the tablet to the customer").click()
    page.get_by_text(notice.value_exchange).wait_for()
    page.locator(f'[data-slot="{notice.id}|sms"][data-action="grant"]').click()
    page.locator(f'[data-slot="{notice.id}|email"][data-action="deny"]').click()
    assert not page.get_by_role("link", name="Open requests").is_visible()  # theirs alone
    shot(page, "05-hand-to-customer")
    page.get_by_role("button", name="Done — give the tablet back").click()
    page.get_by_test_id("consents").wait_for()
    wait_synced(page)
    page.get_by_test_id("contact-options").get_by_text("best: email").wait_for()
    page.get_by_test_id("contact-options").get_by_text("best: sms").wait_for()
    shot(page, "06-customer")

    lookup = "/api/v1/customers?email=ada.okafor@example.com"
    [found] = server_get(live_server, tablet, lookup)["items"]
    assert found["phone"] == "+447911123457"  # normalised by the server
    listing = f"/api/v1/requests?customer_id={found['id']}"
    [request] = server_get(live_server, tablet, listing)["items"]
    assert (request["type"], request["size"], request["colour"], request["due_date"]) == \
        ("special_order", "38", "tan", "2030-05-01")
    assert "email" in request["notify_channels"]
    events = server_get(live_server, tablet, f"/api/v1/customers/{found['id']}/consents")["events"]
    assert sorted((e["channel"], e["action"], e["method"]) for e in events) == [
        ("email", "deny", "customer_on_tablet"), ("sms", "grant", "customer_on_tablet")]
    assert {e["notice_version_id"] for e in events} == {str(notice.id)}


def test_the_stores_day_lists_who_to_call_and_marks_requests_ready_and_fulfilled(
        live_server, context, tablet, session, world):
    # The sections of the server's dashboard (server/dashboard/today.py), by the store's date.
    today = datetime.now(ZoneInfo(world.store_a.timezone)).date()
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Byron")
    due = make_request(session, tablet.actor, ada, description="Due boots", due_date=today)
    later = make_request(session, tablet.actor, ada, description="Later scarf",
                         due_date=today + timedelta(days=30))
    make_request(session, tablet.actor, ada, description="Late belt",
                 due_date=today - timedelta(days=2))
    make_request(session, tablet.actor, ada, description="Later still hat",
                 due_date=today - timedelta(days=9))
    gone = make_request(session, tablet.actor, ada, description="Cancelled bag",
                        due_date=today - timedelta(days=3))
    requests_service.transition(session, tablet.actor, gone.id, "cancelled",
                                "customer_cancelled", None)
    session.commit()
    page = context.new_page()
    enrol(page, live_server, tablet.token)

    page.get_by_role("link", name="Who to call today").click()
    page.get_by_test_id("due_today").get_by_text("Due boots").wait_for()
    overdue = page.get_by_test_id("overdue").locator("li.request")
    overdue.first.wait_for()
    listed = [row.inner_text() for row in overdue.all()]  # oldest first, open ones only
    assert ["Later still hat" in listed[0], "Late belt" in listed[1], len(listed)] == \
        [True, True, 2], listed
    assert page.get_by_text("Later scarf").count() == 0
    page.get_by_test_id("ready").get_by_text("Nothing is ready.").wait_for()
    shot(page, "10-who-to-call-today")

    page.get_by_role("link", name="Open requests").click()
    # Rows of the open-requests view (its cards by status): until it has rendered, the
    # day's view may still be on screen, where a request can be listed twice.
    listed = "[data-status] [data-request=\"{}\"]".format
    page.locator(listed(later.id)).get_by_role("button", name="Mark ready").click()
    page.locator('[data-status="ready"]').get_by_text("Later scarf").wait_for()
    page.locator(listed(due.id)).get_by_role("button", name="Mark ready").click()
    page.locator('[data-status="ready"]').get_by_text("Due boots").wait_for()
    wait_synced(page)
    page.get_by_role("link", name="Who to call today").click()
    page.get_by_role("heading", name="Ready — tell the customer (2)").wait_for()
    page.get_by_test_id("due_today").get_by_text("Due boots").wait_for()  # still due: open
    page.get_by_role("link", name="Open requests").click()
    page.locator(listed(due.id)).get_by_role("button", name="Mark fulfilled").click()
    page.locator(f'[data-request="{due.id}"]').wait_for(state="detached")
    shot(page, "11-open-requests")
    wait_synced(page)
    assert server_get(live_server, tablet, f"/api/v1/requests/{due.id}")["status"] == "fulfilled"
    assert server_get(live_server, tablet, f"/api/v1/requests/{later.id}")["status"] == "ready"
