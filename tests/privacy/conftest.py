"""Fixtures borrowed from the client's and the webhooks' tests: the real server, and a
webhook receiver on 127.0.0.1 with its delivery settings."""

from tests.client.conftest import live_server  # noqa: F401  (fixtures, used by name)
from tests.webhooks.conftest import receiver, settings  # noqa: F401
