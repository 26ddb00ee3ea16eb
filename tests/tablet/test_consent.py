"""Consent answers on the tablet, in a real browser: a customer's answers are kept
together (one IndexedDB transaction), and a double tap on "Done" records them once
(consent events are append-only on the server)."""

from __future__ import annotations

import pytest
import requests

from tests.factories import make_customer, make_notice
from tests.tablet.conftest import enrol, wait_synced

pytestmark = pytest.mark.e2e
PURPOSES = ("marketing.local_offers", "marketing.events")


def test_a_double_tap_on_done_records_each_answer_once(live_server, context, tablet, session):
    zoe = make_customer(session, tablet.actor, given_name="Zoë", family_name="Martin",
                        email="zoe@example.com", phone="+447911123456")
    notice = make_notice(session, purposes=PURPOSES, channels=("sms", "email"))
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    page.goto(f"{live_server}/tablet/#/customer/{zoe.id}/handover")
    page.locator(f'[data-slot="{notice.id}|sms"][data-action="grant"]').click()
    page.locator(f'[data-slot="{notice.id}|email"][data-action="deny"]').click()
    page.get_by_role("button", name="Done — give the tablet back").dblclick()
    page.get_by_test_id("consents").wait_for()
    wait_synced(page)

    response = requests.get(f"{live_server}/api/v1/customers/{zoe.id}/consents",
                            headers=tablet.headers, timeout=10)
    events = sorted((e["purpose"], e["channel"], e["action"]) for e in response.json()["events"])
    assert events == sorted([(purpose, "sms", "grant") for purpose in PURPOSES]
                            + [(purpose, "email", "deny") for purpose in PURPOSES])


def test_the_answers_are_saved_in_one_transaction(live_server, context, tablet, session):
    zoe = make_customer(session, tablet.actor, given_name="Zoë", family_name="Martin")
    notice = make_notice(session, purposes=PURPOSES, channels=("sms", "email"))
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    context.set_offline(True)
    page.goto(f"{live_server}/tablet/#/customer/{zoe.id}/consent")
    page.locator(f'[data-slot="{notice.id}|sms"][data-action="grant"]').click()
    page.locator(f'[data-slot="{notice.id}|email"][data-action="grant"]').click()
    # Count the read-write transactions the save opens.
    page.evaluate("""() => {
        const db = window.blackbook.local.db;
        const open = db.transaction.bind(db);
        window.writes = 0;
        db.transaction = (stores, mode, options) => {
            if (mode === "readwrite") window.writes += 1;
            return open(stores, mode, options);
        };
    }""")
    page.get_by_role("button", name="Save answers").click()
    page.get_by_test_id("pending").get_by_text("4 to send").wait_for()
    assert page.evaluate("() => window.writes") == 1
