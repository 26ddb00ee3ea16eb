"""Fixtures for the tablet app's tests: the real server (borrowed from the client's
tests), one Debian chromium per module, and a fresh browser profile per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests import factories
from tests.client.conftest import live_server  # noqa: F401  (a fixture, used by name)
from tests.servers import chromium, gunicorn

# Committed and linked from the README (tests/artifacts/ is ignored by git).
ARTIFACTS = Path(__file__).resolve().parent / "screenshots"
WAIT_MS = 10_000  # every wait in these tests is bounded
SMALL_BODY = 16_384  # bytes: a few notes fill a push, so the size limits show quickly


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    """A fresh profile: its own IndexedDB and service worker, as a new tablet has."""
    context = browser.new_context(viewport={"width": 1024, "height": 768},
                                  service_workers="allow")
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


def shot(page: Page, name: str) -> None:
    """A screenshot kept as a test artifact (the README links them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header at the top
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def enrol(page: Page, server: str, token: str) -> None:
    """Open the enrolment link the QR code holds, and wait for the first sync."""
    page.goto(f"{server}/tablet/#enrol={token}")
    page.get_by_role("link", name="New customer").wait_for()
    wait_synced(page)


def wait_synced(page: Page, pending: int = 0) -> None:
    page.wait_for_function(
        """pending => { const app = window.blackbook;
             return app && app.engine && !app.engine.status.syncing && app.engine.status.lastSync
               && app.local.counts.pending === pending; }""", arg=pending)
    counts = page.evaluate("() => window.blackbook.local.counts")
    assert counts["attention"] == counts["conflict"] == 0, counts


def sync_now(page: Page) -> None:
    page.evaluate("() => window.blackbook.engine.sync()")


@pytest.fixture
def tablet(session, world):
    """A new tablet device of store A, with its key."""
    device = factories.make_tablet(session, world.store_a)
    session.commit()
    return device


@pytest.fixture(scope="module")
def small_body_server(app, database_url, tmp_path_factory) -> Iterator[str]:
    """The real server as `live_server`, but refusing bodies over SMALL_BODY bytes (413)."""
    with gunicorn(database_url, tmp_path_factory.mktemp("small"), workers=1,
                  env={"BLACKBOOK_MAX_BODY": str(SMALL_BODY)}) as base:
        yield base
