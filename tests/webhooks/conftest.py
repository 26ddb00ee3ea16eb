"""Fixtures for webhooks: a receiver on 127.0.0.1, worker settings with tiny delays."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.webhooks import delivery
from server.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.receiver import Receiver, Serving

URL = "https://crm.example.com/hooks"


@pytest.fixture
def receiver():
    receiver = Receiver()
    serving = Serving(receiver)
    yield receiver
    serving.stop()


@pytest.fixture
def settings(app) -> delivery.Settings:
    """Short timeout, near-zero backoff: a failing receiver costs milliseconds."""
    return delivery.Settings.from_config(app.config, batch=10, lease_seconds=30,
                                         timeout=0.3, backoff_seconds=0.01,
                                         backoff_max_seconds=0.05)


def subscribe(client, world, url: str = URL, events=("*",), **fields) -> dict:
    response = client.post("/api/v1/webhooks", headers=world.headers("admin"),
                           json={"url": url, "events": list(events)} | fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def outstanding(session) -> int:
    """Deliveries a worker still has to send (those of active subscriptions)."""
    return session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)
                          .join(WebhookSubscription)
                          .where(WebhookSubscription.active,
                                 WebhookDelivery.status.in_(("pending", "sending"))))


def deliver_until_settled(app, settings: delivery.Settings, seconds: float = 20,
                          worker: str | None = None) -> Counter:
    """Run one worker's passes, in its own session, until nothing is waiting."""
    worker = worker or delivery.worker_id()
    totals: Counter = Counter()
    deadline = time.monotonic() + seconds
    with app.app_context():
        while time.monotonic() < deadline:
            results = delivery.deliver_once(db.session, settings, worker)
            totals.update(results)
            if not results:
                if not outstanding(db.session):
                    break
                db.session.rollback()
                time.sleep(0.01)
    return totals


def statuses(session) -> Counter:
    session.close()
    return Counter(session.scalars(sa.select(WebhookDelivery.status)))
