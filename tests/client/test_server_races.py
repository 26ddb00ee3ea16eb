"""A server bug the fault-injection test found, kept as a regression test: on
PostgreSQL, the same edit pushed twice at once (a retry racing the original, or a
proxy delivering it twice) answered 500 instead of `applied` once and `duplicate` once.

The loser's UPDATE of the record matched no row (the winner had just raised its
`version`) and SQLAlchemy's StaleDataError reached the 500 handler; server/sync/push.py
now replays the mutation after either race (the stored result, or the record as it
now is). SQLite was never affected: its writers queue (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.factories import make_customer, make_request
from tests.sync.helpers import mutation

pytestmark = pytest.mark.e2e

PAIRS = 10


def test_the_same_edit_pushed_twice_at_once_is_answered_twice(world, session, live_server):
    tablet = world.tablet_a
    customer = make_customer(session, tablet.actor)
    record = make_request(session, tablet.actor, customer)
    url = f"{live_server}/api/v1/sync/push"

    def push(body: dict) -> requests.Response:
        return requests.post(url, json=body, headers=tablet.headers, timeout=30)

    answers = []
    with ThreadPoolExecutor(2) as pool:
        for n in range(PAIRS):
            body = {"device_id": str(tablet.actor.device_id), "mutations": [
                mutation("request", record.id, {"size": str(n)}, base_version=n + 1)]}
            answers += list(pool.map(push, [body, body]))
    assert [a.status_code for a in answers] == [200] * 2 * PAIRS
    for first, second in zip(answers[::2], answers[1::2], strict=True):
        statuses = {first.json()["results"][0]["status"], second.json()["results"][0]["status"]}
        assert statuses == {"applied", "duplicate"}
