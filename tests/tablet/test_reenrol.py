"""A tablet whose key was revoked, in a real browser: it says so, keeps what it
captured, and enrolled again with a new key of its store sends it exactly once. A key
of another store may not take over captures that are not sent yet."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.customers.models import Customer
from server.stores import keys
from tests.factories import make_tablet
from tests.tablet.conftest import enrol, shot, wait_synced

pytestmark = pytest.mark.e2e


def add_customer(page, given):
    page.goto(page.url.split("#")[0] + "#/customer/new")
    page.get_by_label("First name").fill(given)
    page.get_by_label("Email").fill(f"{given.lower()}@example.com")
    page.get_by_role("button", name="Add customer").click()
    page.get_by_role("heading", name=given).wait_for()


def enrol_with(page, token):
    page.get_by_label("Tablet key").fill(token)
    page.get_by_role("button", name="Enrol").click()


def customers(session):
    session.close()
    return sorted(session.scalars(sa.select(Customer.given_name)).all())


def test_a_revoked_tablet_keeps_its_captures_and_sends_them_once_enrolled_again(
        live_server, context, tablet, session, world):
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    context.set_offline(True)
    add_customer(page, "Amara")  # captured offline, before anyone knew
    keys.revoke(session, str(tablet.actor.key_id))
    session.commit()
    context.set_offline(False)
    alert = page.get_by_test_id("sync-error")
    alert.get_by_text("This tablet's key no longer works — enrol again").wait_for()
    add_customer(page, "Bruno")  # captured online, refused too
    page.get_by_test_id("pending").get_by_text("2 to send").wait_for()
    assert customers(session) == []

    alert.get_by_role("link").click()
    page.get_by_role("heading", name="Enrol this tablet again").wait_for()
    page.get_by_text("2 capture(s) waiting").wait_for()
    enrol_with(page, world.tablet_b.token)  # another store's key: refused, nothing lost
    page.get_by_role("alert").get_by_text("2 capture(s) of Store A not sent yet").wait_for()
    shot(page, "13-enrol-again")

    new = make_tablet(session, world.store_a)  # a new device of the same store
    session.commit()
    enrol_with(page, new.token)
    page.get_by_role("link", name="New customer").wait_for()
    wait_synced(page)
    assert customers(session) == ["Amara", "Bruno"]  # exactly once each
    assert page.get_by_test_id("sync-error").count() == 0
    page.evaluate("() => window.blackbook.engine.sync()")
    wait_synced(page)
    assert customers(session) == ["Amara", "Bruno"]
