"""The interleavings of tests/sync_scenarios.py, played by tablets of the tablet app in
Chromium against the real server: each tablet its own browser profile (its own
IndexedDB) and device key of store A, driven through the app's own modules. No edit
lost, no value replaced unseen, every tablet converging on the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests import factories, sync_scenarios
from tests.client.test_scenarios import server_reader, shared_records
from tests.tablet.conftest import WAIT_MS, enrol

pytestmark = pytest.mark.e2e

OUTBOX = "import(location.origin + '/tablet/js/outbox.js')"


class BrowserTablet:
    """sync_scenarios.Driver over the tablet app in one browser page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        # Only the scenario syncs: no timer, no sync started by the app behind its back.
        page.evaluate("() => clearInterval(window.blackbook.engine.timer)")

    def _capture(self, method: str, *args: Any) -> None:
        self.page.evaluate("([method, args]) => window.blackbook.capture[method](...args)",
                           [method, list(args)])

    def edit(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        if entity == "note":
            self._capture("editNote", record_id, fields["body"])
        else:
            self._capture(f"edit{entity.title()}", record_id, fields)

    def status(self, request_id: str, status: str, reason: str | None) -> None:
        self._capture("requestStatus", request_id, status, reason)

    def delete_note(self, note_id: str) -> None:
        self._capture("deleteNote", note_id)

    def withdraw(self, customer_id: str) -> None:
        self._capture("consent", customer_id, {"purpose": "marketing", "channel": "email",
                                               "action": "withdraw",
                                               "method": "associate_entry"})

    def new_note(self, customer_id: str, body: str) -> None:
        self._capture("note", customer_id, body)

    def push(self) -> None:
        self.page.evaluate("""async () => { const app = window.blackbook;
            const { getState } = await import(location.origin + '/tablet/js/db.js');
            const device = await app.local.read((tx) => getState(tx, "device_id"));
            await app.engine.push(device); }""")

    def pull(self) -> None:
        self.page.evaluate("() => window.blackbook.engine.pull()")

    def sync(self) -> None:
        error = self.page.evaluate("""async () => { const engine = window.blackbook.engine;
            await engine.sync(); return engine.status.error; }""")
        assert error is None, error

    def _waiting(self, state: str) -> list[dict[str, Any]]:
        return self.page.evaluate(f"""async (state) => (await {OUTBOX}).rows(
            window.blackbook.local, state).then((rows) => rows.map((row) => ({{
              mutation_id: row.mutation_id, entity: row.entity,
              conflicts: row.conflicts || [] }})))""", state)

    def conflicts(self) -> list[dict[str, Any]]:
        return self._waiting("conflict")

    def attention(self) -> list[dict[str, Any]]:
        return self._waiting("attention")

    def resolve(self, mutation_id: str, keep: str, values: dict | None) -> None:
        self.page.evaluate(f"""async ([id, keep, values]) => (await {OUTBOX}).resolve(
            window.blackbook.local, id, keep, values)""", [mutation_id, keep, values])

    def discard(self, mutation_id: str) -> None:
        self.page.evaluate(f"""async (id) => (await {OUTBOX}).discard(
            window.blackbook.local, id)""", mutation_id)

    def pending(self) -> int:
        return self.page.evaluate("() => window.blackbook.local.counts.pending")

    def shown(self, entity: str, record_id: str) -> dict[str, Any] | None:
        return self.page.evaluate("([entity, id]) => window.blackbook.local.get(entity, id)",
                                  [entity, record_id])


@pytest.fixture
def browser_tablets(browser: Browser, live_server, session, world) -> Iterator[Any]:
    """Makes tablets of store A: `browser_tablets()` enrols a new device in a new profile."""
    contexts = []

    def make() -> BrowserTablet:
        device = factories.make_tablet(session, world.store_a)
        session.commit()
        context = browser.new_context(viewport={"width": 1024, "height": 768},
                                      service_workers="block")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        enrol(page, live_server, device.token)
        return BrowserTablet(page)

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("scenario", sync_scenarios.SCENARIOS, ids=lambda s: s.name)
def test_tablets_editing_the_same_records_lose_nothing(scenario, world, browser_tablets,
                                                       session, live_server):
    ids, token = shared_records(session, world.store_a)
    session.commit()
    drivers = {name: browser_tablets() for name in "ABC"[:scenario.tablets]}
    for driver in drivers.values():
        assert all(driver.shown(entity, ids[entity]) for entity in sync_scenarios.ENTITIES)
    sync_scenarios.run(scenario, drivers, ids, server_reader(live_server, token, session))
