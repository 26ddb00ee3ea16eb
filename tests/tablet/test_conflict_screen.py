"""What the associate is asked, in a real browser: a note one associate deleted while
another changed it is shown in plain words, and "Keep mine" keeps the delete; a merge is
typed on the screen; a push the server could not write for a concurrent one is sent
again without asking anybody."""

from __future__ import annotations

import pytest

from tests import factories
from tests.client.helpers import snapshot
from tests.tablet.conftest import WAIT_MS, enrol, shot, wait_synced

pytestmark = pytest.mark.e2e


def profile(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768},
                                  service_workers="block")
    context.set_default_timeout(WAIT_MS)
    return context


def test_keep_mine_on_a_note_deleted_while_another_tablet_changed_it_deletes_it(
        browser, live_server, session, world):
    first, second = (factories.make_tablet(session, world.store_a) for _ in range(2))
    session.commit()
    ada = factories.make_customer(session, first.actor, given_name="Ada", family_name="Byron")
    note = factories.make_note(session, first.actor, ada, body="Likes navy")
    note_id = str(note.id)
    contexts = [profile(browser), profile(browser)]
    try:
        page_a, page_b = (context.new_page() for context in contexts)
        enrol(page_a, live_server, first.token)
        enrol(page_b, live_server, second.token)

        contexts[1].set_offline(True)
        page_b.goto(f"{live_server}/tablet/#/customer/{ada.id}")
        page_b.once("dialog", lambda dialog: dialog.accept())
        page_b.locator(f"[data-note='{note_id}']").get_by_role(
            "button", name="Delete note").click()
        page_b.get_by_test_id("pending").get_by_text("1 to send").wait_for()

        page_a.evaluate("([id, body]) => window.blackbook.capture.editNote(id, body)",
                        [note_id, "Likes teal"])
        page_a.evaluate("() => window.blackbook.engine.sync()")
        wait_synced(page_a)

        contexts[1].set_offline(False)  # the `online` event starts a sync
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()
        page_b.get_by_test_id("attention-count").click()
        tray = page_b.get_by_test_id("tray")
        tray.get_by_text("You deleted this note (Ada Byron); someone else changed it "
                         "meanwhile").wait_for()
        tray.get_by_text("Their note: “Likes teal”").wait_for()
        for name in ("Keep mine (delete it)", "Keep theirs (keep their note)"):
            box = tray.get_by_role("button", name=name).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44
        shot(page_b, "14-delete-conflict")
        tray.get_by_role("button", name="Keep mine (delete it)").click()
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
        wait_synced(page_b)

        assert ("note", note_id) not in snapshot(live_server, second.token)
        assert page_b.evaluate("(id) => window.blackbook.local.get('note', id)", note_id) is None
        page_a.evaluate("() => window.blackbook.engine.sync()")
        wait_synced(page_a)
        assert page_a.evaluate("(id) => window.blackbook.local.get('note', id)", note_id) is None
    finally:
        for context in contexts:
            context.close()


def test_keep_mine_on_a_note_deleted_while_i_changed_it_brings_it_back(
        browser, live_server, session, world):
    first, second = (factories.make_tablet(session, world.store_a) for _ in range(2))
    session.commit()
    ada = factories.make_customer(session, first.actor, given_name="Ada", family_name="Byron")
    note_id = str(factories.make_note(session, first.actor, ada, body="Likes navy").id)
    contexts = [profile(browser), profile(browser)]
    try:
        page_a, page_b = (context.new_page() for context in contexts)
        enrol(page_a, live_server, first.token)
        enrol(page_b, live_server, second.token)
        contexts[1].set_offline(True)
        page_b.evaluate("([id, body]) => window.blackbook.capture.editNote(id, body)",
                        [note_id, "Likes navy, size 38"])
        page_a.evaluate("(id) => window.blackbook.capture.deleteNote(id)", note_id)
        page_a.evaluate("() => window.blackbook.engine.sync()")
        wait_synced(page_a)

        contexts[1].set_offline(False)
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()
        page_b.get_by_test_id("attention-count").click()
        tray = page_b.get_by_test_id("tray")
        tray.get_by_text("Someone deleted this note (Ada Byron) while you were changing "
                         "it").wait_for()
        tray.get_by_text("Your note: “Likes navy, size 38”").wait_for()
        page_b.set_viewport_size({"width": 768, "height": 1024})  # the tablet upright
        shot(page_b, "16-note-deleted-meanwhile")
        button = tray.get_by_role("button", name="Keep mine (bring it back)")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        button.click()
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
        wait_synced(page_b)

        held = snapshot(live_server, second.token)
        assert ("note", note_id) not in held
        bodies = [record["body"] for (entity, _), (_, record) in held.items()
                  if entity == "note"]
        assert bodies == ["Likes navy, size 38"]  # back, as a new note with the text kept
    finally:
        for context in contexts:
            context.close()


def test_a_merge_offers_each_field_in_conflict_filled_with_theirs(browser, live_server,
                                                                   session, world):
    first, second = (factories.make_tablet(session, world.store_a) for _ in range(2))
    session.commit()
    ada = factories.make_customer(session, first.actor, given_name="Ada", family_name="Byron")
    contexts = [profile(browser), profile(browser)]
    try:
        page_a, page_b = (context.new_page() for context in contexts)
        enrol(page_a, live_server, first.token)
        enrol(page_b, live_server, second.token)
        contexts[1].set_offline(True)
        page_b.evaluate("(id) => window.blackbook.capture.editCustomer(id, "
                        "{ family_name: 'King' })", str(ada.id))
        page_a.evaluate("(id) => window.blackbook.capture.editCustomer(id, "
                        "{ family_name: 'Lovelace' })", str(ada.id))
        page_a.evaluate("() => window.blackbook.engine.sync()")
        wait_synced(page_a)

        contexts[1].set_offline(False)
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 1").wait_for()
        page_b.get_by_test_id("attention-count").click()
        tray = page_b.get_by_test_id("tray")
        tray.get_by_text("Last name: yours “King”, theirs “Lovelace”").wait_for()
        tray.get_by_role("button", name="Merge").click()
        merged = tray.get_by_label("Last name")
        assert merged.input_value() == "Lovelace"
        merged.fill("King-Lovelace")
        shot(page_b, "15-merge")
        tray.get_by_role("button", name="Save merged").click()
        page_b.get_by_test_id("attention-count").get_by_text("Needs attention: 0").wait_for()
        wait_synced(page_b)
        _, held = snapshot(live_server, second.token)[("customer", str(ada.id))]
        assert held["family_name"] == "King-Lovelace"
    finally:
        for context in contexts:
            context.close()


def test_a_push_refused_as_written_concurrently_is_sent_again_unseen(live_server, context,
                                                                     tablet, session):
    ada = factories.make_customer(session, tablet.actor, given_name="Ada", family_name="Byron")
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    refused = []

    def first_push_written_concurrently(route):
        if refused:
            route.continue_()
            return
        mutations = route.request.post_data_json["mutations"]
        refused.extend(m["mutation_id"] for m in mutations)
        route.fulfill(json={"cursor": None, "results": [
            {"mutation_id": m["mutation_id"], "status": "rejected", "retry": True,
             "errors": {"_schema": ["Written concurrently; pull, then push again."]}}
            for m in mutations]})

    page.route("**/api/v1/sync/push", first_push_written_concurrently)
    page.evaluate("(id) => window.blackbook.capture.editCustomer(id, { family_name: 'King' })",
                  str(ada.id))
    page.evaluate("() => window.blackbook.engine.sync()")
    wait_synced(page)  # and nothing needs attention
    assert refused
    _, held = snapshot(live_server, tablet.token)[("customer", str(ada.id))]
    assert held["family_name"] == "King"
