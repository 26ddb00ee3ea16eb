"""Fixtures for the client's tests: the real server under gunicorn on the test
database, and tablets of the client library bound to keys made by the factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.api import ServerApi
from client.config import Config
from client.store import LocalStore
from client.tablet import Tablet
from client.transport import RetryPolicy, Transport
from tests import factories
from tests.servers import gunicorn

# Tests wait milliseconds, not seconds, between retries.
FAST_RETRY = RetryPolicy(attempts=4, backoff=0.005, max_wait=0.05)


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory) -> Iterator[str]:
    """The real server (gunicorn, threads so requests really overlap) on 127.0.0.1,
    on the test database: the tables the `app` fixture made and empties after each test."""
    with gunicorn(database_url, tmp_path_factory.mktemp("live")) as base:
        yield base


def open_tablet(server: str, token: str, path: Path, associate: str = "A-117",
                retry: RetryPolicy = FAST_RETRY, timeout: tuple[float, float] = (2, 30)) -> Tablet:
    config = Config(server, token, path, associate)
    transport = Transport(server, token, retry=retry, timeout=timeout)
    return Tablet(config, LocalStore(path), ServerApi(transport))


@pytest.fixture
def tablets(live_server, session, tmp_path) -> Iterator[Callable[..., Tablet]]:
    """Makes client tablets: `tablets(store)` binds a new device of that store."""
    opened: list[Tablet] = []

    def make(store, name: str | None = None, server: str | None = None) -> Tablet:
        device = factories.make_tablet(session, store)
        session.commit()
        path = tmp_path / f"{name or f'tablet-{len(opened)}'}.sqlite3"
        tablet = open_tablet(server or live_server, device.token, path)
        opened.append(tablet)
        return tablet

    yield make
    for tablet in opened:
        tablet.close()
