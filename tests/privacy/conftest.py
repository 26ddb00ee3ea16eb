"""The real server for the browser tests (the client tests' fixture)."""

from tests.client.conftest import live_server  # noqa: F401  (a fixture, used by name)
