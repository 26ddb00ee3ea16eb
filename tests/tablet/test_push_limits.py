"""Pushing within the limits of SYNC.md, in a real browser: a batch is capped by bytes
as well as by count, a 413 halves it until it fits, and a push the server answers for
none of its mutations is not sent again and again."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from server.notes.models import Note
from tests.factories import make_customer
from tests.tablet.conftest import SMALL_BODY, enrol, sync_now, wait_synced

pytestmark = pytest.mark.e2e
NOTES = 30
BODY = "Prefers the morning delivery slot, rings the bell twice. " * 33  # ~1,900 characters


def add_notes(page, customer_id, count):
    page.evaluate("""async ([id, body, count]) => {
        for (let i = 0; i < count; i += 1) await window.blackbook.capture.note(id, `${i}: ${body}`);
    }""", [str(customer_id), BODY, count])


def pushes(page):
    """The statuses of every push the page makes."""
    seen = []
    page.on("response", lambda r: seen.append(r.status) if r.url.endswith("/sync/push") else None)
    return seen


def test_an_outbox_bigger_than_the_body_limit_still_syncs_completely(
        small_body_server, context, tablet, session):
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Byron")
    page = context.new_page()
    enrol(page, small_body_server, tablet.token)
    seen = pushes(page)
    context.set_offline(True)
    add_notes(page, ada.id, NOTES)
    page.get_by_test_id("pending").get_by_text(f"{NOTES} to send").wait_for()
    assert len(BODY) * NOTES > 3 * SMALL_BODY

    # A batch is capped by bytes (one alone may be bigger: it goes alone).
    capped = page.evaluate("""async (maxBytes) => {
        const outbox = await import("./js/outbox.js");
        const local = window.blackbook.local;
        const sizes = (batch) => batch.reduce((n, item) => n + outbox.bytes(item), 0);
        const some = await outbox.nextBatch(local, 500, maxBytes);
        const one = await outbox.nextBatch(local, 500, 1);
        return { count: some.length, bytes: sizes(some), alone: one.length };
    }""", 20_000)
    assert 1 < capped["count"] < NOTES and capped["bytes"] <= 20_000 and capped["alone"] == 1

    context.set_offline(False)  # 30 notes in one push are refused (413): halved until it fits
    wait_synced(page)
    session.close()
    assert session.scalar(sa.select(sa.func.count()).select_from(Note)) == NOTES
    assert 413 in seen and seen[-1] == 200, seen
    bodies = session.scalars(sa.select(Note.body)).all()
    assert sorted(int(body.split(":")[0]) for body in bodies) == list(range(NOTES))  # each once


def test_a_push_answered_for_none_of_its_mutations_is_not_sent_again_and_again(
        live_server, context, tablet, session):
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Byron")
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    answers = iter([
        {"results": []},  # fewer results than mutations
        {"results": [{"mutation_id": str(uuid.uuid4()), "status": "applied", "version": 1}]},
        None,  # an unknown status, for the right mutation
    ])
    pushed = []

    def answer(route):
        pushed.append(route.request.post_data_json["mutations"])
        body = next(answers)
        if body is None:
            body = {"results": [{"mutation_id": m["mutation_id"], "status": "maybe"}
                                for m in pushed[-1]]}
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps(body | {"cursor": None}))

    page.route("**/api/v1/sync/push", answer)
    add_notes(page, ada.id, 1)
    for attempt in (1, 2, 3):
        sync_now(page)  # resolves when this sync has ended
        assert "did not answer" in page.evaluate("() => window.blackbook.engine.status.error")
        assert len(pushed) == attempt  # one push per sync, not a thousand
        assert page.evaluate("() => window.blackbook.local.counts.pending") == 1

    page.unroute("**/api/v1/sync/push")
    sync_now(page)
    wait_synced(page)
    session.close()
    assert session.scalar(sa.select(sa.func.count()).select_from(Note)) == 1


def test_a_mutation_too_big_even_alone_waits_in_the_tray_and_the_rest_goes(
        small_body_server, context, tablet, session):
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Byron")
    page = context.new_page()
    enrol(page, small_body_server, tablet.token)
    context.set_offline(True)
    page.evaluate("""([id, size]) => window.blackbook.capture.queue("note", "upsert",
        crypto.randomUUID(), { customer_id: id, body: "x".repeat(size) })""",
                  [str(ada.id), SMALL_BODY + 1])
    add_notes(page, ada.id, 3)
    context.set_offline(False)
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()
    page.get_by_test_id("pending").get_by_text("0 to send").wait_for()
    session.close()
    assert session.scalar(sa.select(sa.func.count()).select_from(Note)) == 3

    page.get_by_test_id("attention-count").click()
    tray = page.get_by_test_id("tray")
    tray.get_by_text("Too big for the server to accept").wait_for()
    assert tray.get_by_role("textbox").count() == 0  # nothing to fix: it can only go
    tray.get_by_role("button", name="Discard").click()
    page.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
