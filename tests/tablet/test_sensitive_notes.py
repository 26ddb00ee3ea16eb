"""The sensitive-note warning comes before the note is saved, offline too, from the
same lexicon as the server's scanner; and the app's scanner flags exactly what the
server's does on the 640 labelled notes shipped with the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.notes import sensitive
from server.notes.models import Note
from server.tablet import lexicon
from tests.factories import make_customer
from tests.tablet.conftest import enrol, shot, wait_synced

pytestmark = pytest.mark.e2e
LABELLED = Path(__file__).resolve().parents[1] / "notes" / "data" / "labelled_notes.jsonl"


def test_a_sensitive_note_is_questioned_before_saving_even_offline(
        live_server, context, tablet, session):
    ada = make_customer(session, tablet.actor, given_name="Ada", family_name="Lovelace")
    page = context.new_page()
    enrol(page, live_server, tablet.token)
    page.wait_for_function("() => window.blackbook.scanner !== null")
    context.set_offline(True)
    page.goto(f"{live_server}/tablet/#/customer/{ada.id}/note")
    page.get_by_label("Note").fill("Recovering from a hip operation, needs flat shoes.")
    page.get_by_role("button", name="Save note").click()
    warning = page.get_by_test_id("sensitive-warning")
    warning.get_by_text("health").wait_for()
    shot(page, "09-sensitive-note-warning")
    assert page.evaluate("() => window.blackbook.local.counts.pending") == 0  # nothing saved

    warning.get_by_role("button", name="Rephrase").click()
    page.get_by_label("Note").fill("Prefers flat shoes with a good grip.")
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Prefers flat shoes with a good grip.").wait_for()
    context.set_offline(False)
    page.evaluate("() => window.blackbook.engine.sync()")
    wait_synced(page)
    session.close()
    assert session.execute(sa.select(Note.body, Note.sensitive)).all() == [
        ("Prefers flat shoes with a good grip.", False)]


def test_the_app_flags_exactly_what_the_server_flags(live_server, browser):
    notes = [json.loads(line)["text"] for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    page = browser.new_page()
    page.goto(f"{live_server}/tablet/")
    found = page.evaluate(
        """async ([rules, notes]) => {
             const { Scanner } = await import('/tablet/js/sensitive.js');
             const scanner = new Scanner(rules);
             return notes.map((text) => scanner.categoriesIn(text)); }""",
        [lexicon.for_tablets(), notes])
    page.close()
    expected = [sensitive.categories_in(text) for text in notes]
    disagreements = [(text, py, js) for text, py, js in zip(notes, expected, found, strict=True)
                     if py != js]
    assert not disagreements, disagreements[:5]
    assert sum(bool(categories) for categories in found) > 300  # it does flag
