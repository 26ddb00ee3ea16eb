"""Offline at the counter, in a real browser: captures wait in IndexedDB's outbox,
survive a reload with no network (the service worker serves the app), and reach the
server exactly once when the network returns. A refused capture waits in the tray."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.customer_requests.models import CustomerRequest as Request
from server.customers import service as customers
from server.customers.models import Customer
from tests.factories import make_customer
from tests.tablet.conftest import enrol, shot, wait_synced

pytestmark = pytest.mark.e2e
PEOPLE = [("Amara", "Diallo", "amara@example.com"), ("Bruno", "Costa", "bruno@example.com"),
          ("Chloé", "Dubois", "chloe@example.com")]


def add_customer_with_request(page, given, family, email):
    page.goto(page.url.split("#")[0] + "#/customer/new")
    page.get_by_label("First name").fill(given)
    page.get_by_label("Last name").fill(family)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Add customer").click()
    page.get_by_role("link", name="New request").click()
    page.get_by_label("Hold").check()
    page.get_by_label("What they asked for").fill(f"Coat for {given}")
    page.get_by_role("button", name="Save request").click()
    page.get_by_text(f"Coat for {given}").wait_for()


def wait_for_worker(page):
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def test_offline_captures_survive_a_reload_and_sync_exactly_once(
        live_server, context, tablet, session):
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    wait_for_worker(page)

    context.set_offline(True)
    for person in PEOPLE:
        add_customer_with_request(page, *person)
    page.get_by_test_id("pending").get_by_text("6 to send").wait_for()
    assert page.get_by_test_id("network").inner_text() == "Offline"

    page.reload()  # no network: the app comes from the service worker, the data from IndexedDB
    page.get_by_test_id("pending").get_by_text("6 to send").wait_for()
    page.get_by_role("link", name="Counter").click()
    page.get_by_label("Find a customer").fill("chlo")
    page.get_by_test_id("results").get_by_text("Chloé Dubois").wait_for()
    shot(page, "07-offline-pending")
    session.close()
    assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0

    context.set_offline(False)  # the `online` event starts a sync
    wait_synced(page)
    page.get_by_test_id("pending").get_by_text("0 to send").wait_for()
    session.close()
    emails = session.scalars(sa.select(Customer.email)).all()
    assert sorted(emails) == sorted(email for _, _, email in PEOPLE)  # each exactly once
    held = session.scalars(sa.select(Request.description)).all()
    assert sorted(held) == sorted(f"Coat for {given}" for given, _, _ in PEOPLE)

    page.evaluate("() => window.blackbook.engine.sync()")  # again: nothing is sent twice
    wait_synced(page)
    session.close()
    assert session.scalar(sa.select(sa.func.count()).select_from(Request)) == len(PEOPLE)


def test_a_refused_capture_waits_in_the_tray_with_its_reason_and_can_be_fixed(
        live_server, context, tablet, session):
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("First name").fill("Dara")
    page.get_by_label("Phone").fill("12")  # the tablet cannot tell; the server refuses it
    page.get_by_role("button", name="Add customer").click()
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()

    page.get_by_test_id("attention-count").click()
    tray = page.get_by_test_id("tray")
    tray.get_by_text("phone: Not a valid phone number").wait_for()
    shot(page, "08-needs-attention")
    tray.get_by_label("Fix phone").fill("07911 123458")
    tray.get_by_role("button", name="Send again").click()
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
    wait_synced(page)
    session.close()
    assert session.scalars(sa.select(Customer.phone)).all() == ["+447911123458"]


def test_an_edit_made_offline_that_crosses_one_on_the_server_is_shown_to_resolve(
        live_server, context, tablet, session):
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Lovelace")
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    context.set_offline(True)
    page.goto(f"{live_server}/tablet/#/customer/{ada.id}/edit")
    page.get_by_label("Last name").fill("King")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Ada King").wait_for()
    customers.update(session, tablet.actor, ada.id, {"family_name": "Byron"})
    session.commit()

    context.set_offline(False)
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()
    page.get_by_test_id("attention-count").click()
    tray = page.get_by_test_id("tray")
    tray.get_by_text("Last name: yours “King”, theirs “Byron”").wait_for()
    shot(page, "12-conflict")
    tray.get_by_role("button", name="Keep mine").click()
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
    wait_synced(page)
    session.close()
    assert session.scalars(sa.select(Customer.family_name)).all() == ["King"]
